"""SQL text from constants: templates whose slots take only checked names and placeholders.

SQL is never formatted from free strings. A statement is a module-level
`Template`; each `{slot}` in it is filled with one of:

- a `Cte` handle a `Batch` handed out (`{slot}` its name, `{slot.column}` one of
  its declared columns, refused when the handle has no such column);
- a `Param` placeholder from `Batch.arg` (`$n::cast`, the cast from a closed set);
- an `Ident`, a name checked against an explicit tuple of allowed names;
- an `Sql` fragment: a constant, or a template already rendered this way.

Literal braces are written `{{` and `}}`, as in `str.format`.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Collection, Iterable
from typing import LiteralString, TypeAlias

import msgspec

IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
CASTS = frozenset(
    {
        "bigint",
        "bigint[]",
        "boolean",
        "date",
        "int",
        "jsonb",
        "text",
        "text[]",
        "timestamptz",
        "uuid",
        "uuid[]",
    }
)


class UnsafeSql(ValueError):
    """A name, cast or slot that is not in the closed set a statement may be built from."""


@functools.lru_cache(maxsize=4096)
def checked_name(name: str) -> str:
    """`name` when it is an SQL identifier (checked once per distinct name: the hot path reuses its names)."""
    if not IDENT.match(name):
        raise UnsafeSql(f"not an SQL identifier: {name!r}")
    return name


# The handles are frozen msgspec Structs compared by identity: a statement builds
# a few hundred of them per request, and a Struct costs a tenth of a frozen dataclass.
class Sql(msgspec.Struct, frozen=True, eq=False):
    """Trusted SQL text: a module-level constant or a rendered `Template`."""

    text: str

    def __str__(self) -> str:
        return self.text


EMPTY = Sql("")
COMMA = Sql(", ")


class Ident(msgspec.Struct, frozen=True, eq=False):
    """A table or column name taken from an explicit tuple of allowed names (`identifier`)."""

    name: str


def identifier(name: str, allowed: Collection[str]) -> Ident:
    if name not in allowed:
        raise UnsafeSql(f"{name!r} is not one of the allowed names")
    return Ident(checked_name(name))


class Param(msgspec.Struct, frozen=True, eq=False):
    """The placeholder `$index::cast` for a value a `Batch` holds."""

    index: int
    cast: str
    owner: object
    text: str  # `$index::cast`, written once by `Batch.arg`


class Cte(msgspec.Struct, frozen=True, eq=False):
    """A CTE of one statement: its name and the columns it yields (none for a write without RETURNING)."""

    name: str
    columns: tuple[str, ...]
    owner: object

    def has(self, *columns: str) -> bool:
        return all(c in self.columns for c in columns)


Slot: TypeAlias = Cte | Param | Ident | Sql


def _text(value: Slot, column: str | None, slot: str) -> str:
    if column is None:
        if isinstance(value, (Param, Sql)):
            return value.text
        if isinstance(value, (Cte, Ident)):
            return value.name
        raise UnsafeSql(f"slot {slot} takes a CTE, a parameter, an identifier or SQL, not {type(value).__name__}")
    if not isinstance(value, Cte):
        raise UnsafeSql(f"slot {slot}.{column} takes a CTE handle, not {type(value).__name__}")
    if column not in value.columns:
        raise UnsafeSql(f"CTE {value.name} has no column {column} (it has {', '.join(value.columns) or 'none'})")
    return f"{value.name}.{column}"


class Template:
    """A constant SQL text with `{slot}` and `{slot.column}` holes (parsed once, at import)."""

    __slots__ = ("_format", "_holes", "slots")

    def __init__(self, text: LiteralString) -> None:
        literals: list[str] = []
        holes: list[tuple[str, str | None]] = []
        for literal, name, spec, conversion in string.Formatter().parse(text):
            literals.append(literal.replace("{", "{{").replace("}", "}}"))
            if name is None:
                continue
            if spec or conversion:
                raise UnsafeSql(f"slot {name} has a format spec or conversion")
            slot, _, column = name.partition(".")
            checked_name(slot)
            holes.append((slot, checked_name(column) if column else None))
            literals.append("{}")
        self._format = "".join(literals)  # the literal text with a positional hole per slot
        self._holes = tuple(holes)
        self.slots = frozenset(slot for slot, _ in holes)

    def render(self, **values: Slot) -> Sql:
        if values.keys() != self.slots:
            self._refuse_slots(values)
        return Sql(self._format.format(*[_text(values[slot], column, slot) for slot, column in self._holes]))

    def _refuse_slots(self, values: dict[str, Slot]) -> None:
        if missing := self.slots - values.keys():
            raise UnsafeSql(f"unfilled slots: {', '.join(sorted(missing))}")
        if extra := values.keys() - self.slots:
            raise UnsafeSql(f"no such slots: {', '.join(sorted(extra))}")


def join(separator: Sql, parts: Iterable[Param | Cte | Sql]) -> Sql:
    """Checked parts with a constant separator between them (a VALUES list of placeholders)."""
    return Sql(separator.text.join(_text(p, None, "join") for p in parts))
