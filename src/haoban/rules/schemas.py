"""Facts in, decisions out; and the shape of a rule-set file."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

Outcome = Literal["approve", "reject", "review", "need_materials"]
OnMissing = Literal["review", "need_materials"]
Name = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
FactName = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$", max_length=64)]


class Fact(msgspec.Struct, frozen=True, kw_only=True):
    """One known (or unknown) value with where it came from."""

    value: Any  # None = not known; JSON builtins only (dates as ISO strings)
    source: str  # "identity", "housing_fund", "estate", ..., "ledger", "applicant", "haoban"
    system: str | None = None
    trust_level: str | None = None
    last_updated: datetime | None = None
    missing: str | None = None  # why unknown: "no_record", "unavailable: timeout", "not_supplied"


class TraceStep(msgspec.Struct, frozen=True, kw_only=True):
    rule_id: str
    inputs: dict[str, Any]
    passed: bool | None  # None: could not be evaluated (missing fact)
    message_zh: str
    message_en: str
    reason: str | None


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    outcome: Outcome
    rule_set_version: str
    amount_fen: int | None
    reasons: list[str]
    trace: list[TraceStep]
    close_account: bool = False


# --- rule-set files -----------------------------------------------------------


class LegalRef(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: str
    article: str | None = None
    url: str | None = None


class ParamValue(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A parameter value from `effective_from` (inclusive) until the next one starts."""

    effective_from: date
    value: int | str


class Rule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: Name
    expr: str
    facts: list[FactName]
    reason: Name
    message_zh: str
    message_en: str
    on_missing: OnMissing
    # True: may pass on the facts that are known (an "or" over sources); evaluated
    # with the missing ones as null, a pass stands and anything else is on_missing.
    partial_ok: bool = False


class Amount(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    expr: str
    facts: list[FactName]
    reason: Name  # when the amount is not positive
    message_zh: str
    message_en: str
    on_missing: OnMissing = "review"


class OnPass(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    outcome: Literal["approve", "review"]
    close_account: bool = False


class RuleSetDoc(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: Name
    service_code: Annotated[str, msgspec.Meta(pattern=r"^[a-z_]+(\.[a-z_]+)+$")]
    version: Annotated[str, msgspec.Meta(pattern=r"^[a-z_.]+@\d{4}\.\d+$")]
    effective_from: date
    effective_to: date | None  # inclusive; None = open-ended
    legal_basis: list[LegalRef]
    parameters: dict[Name, list[ParamValue]]
    rules: list[Rule]
    amount: Amount | None
    on_pass: OnPass


# --- stored rows ----------------------------------------------------------------


class StoredRuleSet(msgspec.Struct, frozen=True, kw_only=True):
    version: str
    service_code: str
    effective_from: date
    effective_to: date | None
    document: RuleSetDoc
    sha256: str
    loaded_at: datetime


class StoredDecision(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    application_id: UUID | None
    service_code: str
    rule_set_version: str
    facts: dict[str, Fact]
    decision: Decision
    decided_at: datetime
