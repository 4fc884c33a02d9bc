"""Services as data: one declaration file per service in `services/`, beside the rule sets in `sets/`.

A declaration holds everything that used to be spread over the catalogue, the
per-service tables of `facts.py`, the input Structs and the refusal texts: the
catalogue entry and its materials, the sources and items its rules read, the
household-rule flag, the sources only recorded, the applicant's inputs (names,
types and bounds), the withdrawal kind and the sentences for reasons only its
rules give. The files are read once per process (`load`); `check` holds them
against the rule sets and the exchange's item tables (tests/rules/test_declarations.py).
docs/services.md shows how to add a service.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import yaml

from haoban.exchange.sources.items import ITEMS, SOURCES
from haoban.exchange.sources.records import SourceName
from haoban.exchange.sources.vocab import WITHDRAWAL_KINDS
from haoban.rules.schemas import RuleSetDoc

SERVICES_DIR = Path(__file__).parent / "services"
MATERIALS_FILE = "materials.yaml"  # materials many services share, named by code from a declaration

Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z_]+(\.[a-z_]+)+$", max_length=64)]
Name = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
DERIVED = frozenset({"ledger.balance_fen", "haoban.withdrawals", "today"})
# Facts computed from a source's items (facts.build_facts): readable when the source is declared.
DERIVED_FROM: dict[str, SourceName] = {"identity.retirement_on": "identity"}


class DeclarationError(Exception):
    """A declaration file that cannot be read, or that does not match its rule sets or the sources."""


class MaterialDecl(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A catalogue material (catalog.schemas.Material)."""

    code: Name
    name_zh: str
    name_en: str
    kind: Literal["shared", "applicant", "not_needed"]
    items: tuple[str, ...] = ()
    primary: bool = True
    trust_level: Literal["A", "B", "C", "D"] | None = None
    how_to_supply: str | None = None


class InputDecl(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One applicant input: `applicant.<name>` to the rules, `inputs.<name>` on the wire."""

    name: Name
    type: Literal["integer", "string", "boolean"]
    required: bool = True
    ge: int | None = None
    le: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    description: str | None = None


class TextDecl(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A reason in words (rules.explain): `{city}`, `{when}` and `{when_en}` are filled in."""

    zh: str
    en: str
    next_zh: str
    next_en: str
    fact: str | None = None  # whose registry and update date the sentence cites


class ServiceDecl(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    code: Code
    name_zh: str
    name_en: str
    department: Name
    department_name: str
    legal_basis: tuple[str, ...]
    decision_mode: Literal["instant", "manual"]
    rule_set: Code | None = None  # the rule sets' service_code; the service's own code when absent
    sla_working_days: Annotated[int, msgspec.Meta(ge=1)]
    tolerant_acceptance: bool = False
    period: Literal["calendar_year", "once", "open"]
    pays_out: bool = False
    withdrawal_kind: str | None = None  # the fund centre's kind (exchange.vocab) of what it pays
    # Source -> the items its rules read, in the order the sources are asked.
    reads: dict[SourceName, tuple[str, ...]]
    household_rule: bool = False  # the property rules count the spouse's (marriage registry)
    recorded: tuple[SourceName, ...] = ()  # kept in the decision's snapshot though no rule reads them
    inputs: tuple[InputDecl, ...] = ()
    materials: tuple[str | MaterialDecl, ...]
    explanations: dict[Name, TextDecl] = {}
    listing_order: int = 1000  # where the catalogue lists it (then by code)

    @property
    def rule_set_code(self) -> str:
        return self.rule_set or self.code

    @property
    def sources(self) -> list[SourceName]:
        return list(self.reads)


class Declarations(msgspec.Struct, frozen=True, kw_only=True):
    services: tuple[ServiceDecl, ...]
    materials: dict[str, MaterialDecl]

    def material(self, ref: str | MaterialDecl) -> MaterialDecl:
        return ref if isinstance(ref, MaterialDecl) else self.materials[ref]


def _read(path: Path, kind: type[Any]) -> Any:
    try:
        return msgspec.convert(yaml.safe_load(path.read_text(encoding="utf-8")), kind)
    except (msgspec.ValidationError, yaml.YAMLError) as exc:
        raise DeclarationError(f"service declaration {path.name}: {exc}") from None


def read_dir(directory: Path) -> Declarations:
    """Every declaration in `directory`, parsed (types, bounds, unknown keys refused) and checked within
    itself (`structural_problems`); `check` holds them against the rule sets."""
    library = _read(directory / MATERIALS_FILE, dict[Name, MaterialDecl])
    services = tuple(
        _read(path, ServiceDecl) for path in sorted(directory.glob("*.yaml")) if path.name != MATERIALS_FILE
    )
    out = Declarations(services=services, materials=library)
    problems = structural_problems(out)
    if problems:
        raise DeclarationError("; ".join(problems))
    return out


@functools.cache
def load() -> Declarations:
    """The shipped declarations, read once per process."""
    return read_dir(SERVICES_DIR)


def structural_problems(decls: Declarations) -> list[str]:
    """What is wrong inside the declarations themselves (no rule set needed)."""
    codes = [s.code for s in decls.services]
    out = [f"{c}: declared twice" for c in sorted({c for c in codes if codes.count(c) > 1})]
    out += [f"{MATERIALS_FILE}: {key} holds material {m.code}" for key, m in decls.materials.items() if key != m.code]
    for s in decls.services:
        out += _source_problems(decls, s) + _payout_problems(s) + _input_problems(s)
    return out


def _known_item(item: str) -> bool:
    source, _, name = item.partition(".")
    return source in ITEMS and (name == "*" or name in ITEMS[source])


def _source_problems(decls: Declarations, s: ServiceDecl) -> list[str]:
    out = [f"{s.code}: unknown source {src!r}" for src in [*s.reads, *s.recorded] if src not in SOURCES]
    out += [
        f"{s.code}: {src} has no item {item!r}"
        for src, items in s.reads.items()
        for item in items
        if not _known_item(f"{src}.{item}") or item == "*"
    ]
    for ref in s.materials:
        if isinstance(ref, str) and ref not in decls.materials:
            out.append(f"{s.code}: material {ref!r} is neither declared here nor in {MATERIALS_FILE}")
            continue
        m = decls.material(ref)
        out += [f"{s.code}: material {m.code} names an unknown item {i!r}" for i in m.items if not _known_item(i)]
    if s.household_rule and not {"estate", "marriage"} <= set(s.reads):
        out.append(f"{s.code}: the household rule reads the estate and marriage registries")
    return out


def _payout_problems(s: ServiceDecl) -> list[str]:
    if s.pays_out and s.withdrawal_kind is None:
        return [f"{s.code}: a service that pays out names its withdrawal kind"]
    if s.withdrawal_kind is not None and s.withdrawal_kind not in WITHDRAWAL_KINDS:
        return [f"{s.code}: {s.withdrawal_kind!r} is not a withdrawal kind of the fund centre's table"]
    return []


def _input_problems(s: ServiceDecl) -> list[str]:
    names = [i.name for i in s.inputs]
    out = [f"{s.code}: input {n!r} declared twice" for n in sorted({n for n in names if names.count(n) > 1})]
    for i in s.inputs:
        if i.type != "integer" and (i.ge is not None or i.le is not None):
            out.append(f"{s.code}: input {i.name} has bounds but is not an integer")
        if i.type != "string" and (i.min_length, i.max_length, i.pattern) != (None, None, None):
            out.append(f"{s.code}: input {i.name} has a length or pattern but is not a string")
    return out


def _facts_read(doc: RuleSetDoc) -> list[tuple[str, str]]:
    """(where, fact) for every fact a rule set's rules and amount read."""
    read = [(f"rule {r.id}", f) for r in doc.rules for f in r.facts]
    if doc.amount is not None:
        read += [("amount", f) for f in doc.amount.facts]
    return read


def readable(s: ServiceDecl) -> set[str]:
    """The facts a service's rules may read: its declared items, its inputs and the derived facts."""
    names = {f"{src}.{item}" for src, items in s.reads.items() for item in items}
    names |= {f"applicant.{i.name}" for i in s.inputs}
    names |= {name for name, src in DERIVED_FROM.items() if src in s.reads}
    return names | DERIVED


def check(decls: Declarations, rule_sets: Iterable[RuleSetDoc], *, on: date, reasons: Iterable[str] = ()) -> list[str]:
    """Every mismatch between the declarations, their rule sets and the sources; empty when they agree.

    `on` is the day an instant service must have a rule set in effect; `reasons` are the reasons that
    have a sentence outside the declarations (rules.explain's own table).
    """
    out = structural_problems(decls)
    docs = list(rule_sets)
    by_code: dict[str, list[RuleSetDoc]] = {}
    for doc in docs:
        by_code.setdefault(doc.service_code, []).append(doc)
    declared = {s.rule_set_code for s in decls.services}
    out += [f"rule set {code} belongs to no declared service" for code in sorted(set(by_code) - declared)]
    worded = set(reasons) | {r for s in decls.services for r in s.explanations}
    for s in decls.services:
        mine = by_code.get(s.rule_set_code, [])
        if s.decision_mode == "instant" and not any(
            d.effective_from <= on and (d.effective_to is None or on <= d.effective_to) for d in mine
        ):
            out.append(f"{s.code}: no rule set is in effect on {on.isoformat()}")
        allowed, used = readable(s), set()
        for doc in mine:
            for where, fact in _facts_read(doc):
                used.add(fact)
                if fact not in allowed:
                    out.append(f"{doc.version}: {where} reads {fact}, which {s.code} does not declare")
            given = [r.reason for r in doc.rules] + ([doc.amount.reason] if doc.amount else [])
            out += [f"{doc.version}: reason {r!r} has no sentence" for r in dict.fromkeys(given) if r not in worded]
        declared_items = {f"{src}.{item}" for src, items in s.reads.items() for item in items}
        declared_items |= {f"applicant.{i.name}" for i in s.inputs}
        unread = sorted(declared_items - used) if mine else []
        out += [f"{s.code}: declares {name}, which no rule set reads" for name in unread]
    return out


# --- what the rest of the code derives ----------------------------------------------


def _input_type(i: InputDecl) -> Any:
    base: Any = {"integer": int, "string": str, "boolean": bool}[i.type]
    bounds: dict[str, Any] = {
        k: v
        for k, v in (
            ("ge", i.ge),
            ("le", i.le),
            ("min_length", i.min_length),
            ("max_length", i.max_length),
            ("pattern", i.pattern),
            ("description", i.description),
        )
        if v is not None
    }
    kind = Annotated[base, msgspec.Meta(**bounds)] if bounds else base
    return kind if i.required else kind | None


def input_struct(s: ServiceDecl) -> type[msgspec.Struct]:
    """The service's `inputs` as a Struct: unknown fields refused, bounds in the types."""
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = [
        (i.name, _input_type(i)) if i.required else (i.name, _input_type(i), None) for i in s.inputs
    ]
    name = "".join(part.title() for part in s.code.replace(".", "_").split("_")) + "Inputs"
    return msgspec.defstruct(name, fields, frozen=True, kw_only=True, forbid_unknown_fields=True)


def input_structs(decls: Declarations) -> dict[str, type[msgspec.Struct]]:
    return {s.code: input_struct(s) for s in decls.services}


def explanation_texts(decls: Declarations, builtin: Mapping[str, object]) -> dict[str, TextDecl]:
    """The reasons the declarations word themselves; one the shared table already words is refused."""
    out: dict[str, TextDecl] = {}
    for s in decls.services:
        for reason, text in s.explanations.items():
            if reason in builtin or (reason in out and out[reason] != text):
                raise DeclarationError(f"{s.code}: reason {reason!r} is already worded elsewhere")
            out[reason] = text
    return out


__all__ = [
    "DERIVED",
    "DeclarationError",
    "Declarations",
    "InputDecl",
    "MaterialDecl",
    "ServiceDecl",
    "TextDecl",
    "check",
    "input_structs",
    "load",
    "read_dir",
]
