"""One SQL statement built from CTEs that several repositories contribute.

A hot path that writes to several slices' tables (an application, its payout,
the ledger) would otherwise pay one round trip per write plus BEGIN and
COMMIT. Each slice adds its own CTEs to a `Batch` through a builder it owns
(its SQL stays in its repository); the statement runs once and is atomic on its
own. A condition that must stop everything (a debit the balance can't cover)
calls `refuse(code)`, which raises SQLSTATE HB001 with the code as its message
(migration 0013), so no part of the statement is written.

`cte` hands out a typed handle (name and columns) and refuses a name used
twice, so builders take a name prefix; the SQL comes from `haoban.db.sql`
templates whose slots take only this batch's handles and placeholders.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from haoban.db.sql import CASTS, Cte, Ident, Param, Sql, Template, UnsafeSql, checked_name

REFUSED = "HB001"
SELECT_ONE = Sql("SELECT 1")

_REQUIRE = Template("SELECT CASE WHEN EXISTS (SELECT 1 FROM {source}) THEN true ELSE refuse({code}) END AS go")


class Batch:
    def __init__(self) -> None:
        self._ctes: dict[str, tuple[Cte, Sql]] = {}
        self.args: list[Any] = []

    def arg(self, value: Any, cast: str) -> Param:
        """A placeholder for `value`, cast to the SQL type `cast`."""
        if cast not in CASTS:
            raise UnsafeSql(f"not an allowed cast: {cast!r}")
        self.args.append(value)
        index = len(self.args)
        return Param(index, cast, self, f"${index}::{cast}")

    def cte(self, name: str, sql: Sql, columns: Sequence[str] = ()) -> Cte:
        """Add CTE `name` yielding `columns`; a name this statement holds already is refused."""
        if checked_name(name) in self._ctes:
            raise UnsafeSql(f"CTE {name} is already part of this statement")
        handle = Cte(name, tuple(checked_name(c) for c in columns), self)
        self._ctes[name] = (handle, sql)
        return handle

    def sql(self, template: Template, **values: Cte | Param | Ident | Sql) -> Sql:
        """`template` rendered with `values`, each handle and placeholder checked to be this statement's."""
        for slot, value in values.items():
            if isinstance(value, Cte) and self._ctes.get(value.name, (None,))[0] is not value:
                raise UnsafeSql(f"slot {slot}: CTE {value.name} is not part of this statement")
            if isinstance(value, Param) and value.owner is not self:
                raise UnsafeSql(f"slot {slot}: the parameter is another statement's")
        return template.render(**values)

    def require(self, name: str, source: Cte, code: str) -> Cte:
        """CTE `name` with one row when `source` has a row; otherwise the whole statement is refused with `code`."""
        return self.cte(name, self.sql(_REQUIRE, source=source, code=self.arg(code, "text")), ("go",))

    def statement(self, final: Sql) -> str:
        return "WITH " + ", ".join(f"{cte.name} AS ({sql.text})" for cte, sql in self._ctes.values()) + " " + final.text

    async def fetchrow(self, conn: asyncpg.Connection, final: Sql = SELECT_ONE) -> asyncpg.Record | None:
        return await conn.fetchrow(self.statement(final), *self.args)


def refused(exc: BaseException) -> str | None:
    """The code a `refuse` call raised, or None for any other error."""
    if isinstance(exc, asyncpg.PostgresError) and getattr(exc, "sqlstate", None) == REFUSED:
        return str(getattr(exc, "message", "")) or "refused"
    return None
