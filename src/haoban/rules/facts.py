"""Build the facts snapshot a rule set reads (pure).

Fact names are `<source>.<item>`: the exchange items (`housing_fund.status`,
`estate.properties`, `identity.birth_date`, ...) plus `ledger.balance_fen`,
`haoban.withdrawals`, `applicant.<input>` and `today`. Values are JSON
builtins (dates as ISO strings), so a decision recomputed from stored facts
sees exactly what the first evaluation saw.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import msgspec

from haoban.exchange.consent.schemas import LinkedData, SourceData
from haoban.exchange.sources.records import SourceName
from haoban.rules import declarations, retirement
from haoban.rules.schemas import Fact

_DECLARED = declarations.load().services  # rules/services/*.yaml

# The exchange sources each service's rules read.
SOURCES_FOR: dict[str, list[SourceName]] = {s.code: s.sources for s in _DECLARED}

# Services whose property rules count the household: the spouse's properties, through the marriage registry.
HOUSEHOLD_RULE: frozenset[str] = frozenset(s.code for s in _DECLARED if s.household_rule)

# Place items that are unknown when their record's place named no division (GB/T 2260). Properties
# keep `city_code: null` instead, and the property rules read null as unknown, never as "elsewhere".
PLACE_ITEMS: frozenset[str] = frozenset({"household.city_code", "social_security.city_code"})


# Sources kept in a decision's snapshot though no rule reads them: the reviewer sees who applied.
RECORDED_FOR: dict[str, list[SourceName]] = {s.code: list(s.recorded) for s in _DECLARED if s.recorded}

# Applicant inputs each service's rules read (anything else is ignored).
INPUTS_FOR: dict[str, list[str]] = {s.code: [i.name for i in s.inputs] for s in _DECLARED if s.inputs}

# The `kind` Haoban's own withdrawals get, matching the fund's own kinds.
WITHDRAWAL_KIND: dict[str, str] = {s.code: s.withdrawal_kind for s in _DECLARED if s.withdrawal_kind}


class OwnWithdrawal(msgspec.Struct, frozen=True, kw_only=True):
    """A withdrawal Haoban paid (the fund's own list may not show it yet)."""

    service_code: str
    paid_on: date
    amount_fen: int


def _plain(value: Any) -> Any:
    return msgspec.to_builtins(value)


def source_facts(source: SourceData) -> dict[str, Fact]:
    """One exchange answer as facts.

    An `ok` answer gives known values. `no_record` gives unknown values
    (missing `no_record`), except list items such as `estate.properties`,
    where no record means a known empty list: "owns no property". An
    `unavailable` source gives unknown values with the reason.
    """
    facts: dict[str, Fact] = {}
    for item, linked in source.items.items():
        name = f"{source.source}.{item}"
        if source.status == "unavailable" or linked.unavailable is True:
            reason = linked.reason if isinstance(linked.reason, str) else "unknown"
            facts[name] = Fact(value=None, source=source.source, missing=f"unavailable: {reason}")
            continue
        value = None if isinstance(linked.value, msgspec.UnsetType) else _plain(linked.value)
        missing = None
        if value is None:
            missing = "no_record" if source.status == "no_record" else "no_value"
            if name in PLACE_ITEMS and source.status == "ok":
                missing = "unresolved_place"
        facts[name] = Fact(
            value=value,
            source=source.source,
            system=source.system,
            trust_level=None if isinstance(linked.trust_level, msgspec.UnsetType) else linked.trust_level,
            last_updated=linked.last_updated if not isinstance(linked.last_updated, msgspec.UnsetType) else None,
            missing=missing,
        )
    return facts


def applicant_facts(inputs: Mapping[str, Any], names: Iterable[str]) -> dict[str, Fact]:
    """Declared by the applicant: `applicant.<name>`, missing `not_supplied` when absent."""
    facts: dict[str, Fact] = {}
    for name in names:
        value = _plain(inputs.get(name))
        facts[f"applicant.{name}"] = Fact(
            value=value, source="applicant", trust_level="C", missing="not_supplied" if value is None else None
        )
    return facts


def build_facts(
    *,
    service_code: str,
    linked: LinkedData | None,
    ledger_balance_fen: int | None,
    own_withdrawals: Iterable[OwnWithdrawal],
    inputs: Mapping[str, Any],
    today: date,
) -> dict[str, Fact]:
    """Every fact for one decision; `linked` is `exchange.service.pull(...).data`."""
    facts: dict[str, Fact] = {}
    wanted = set(SOURCES_FOR.get(service_code, [])) | set(RECORDED_FOR.get(service_code, []))
    for source in linked.sources if linked is not None else []:
        if source.source in wanted:
            facts.update(source_facts(source))
    facts["ledger.balance_fen"] = Fact(
        value=ledger_balance_fen, source="ledger", missing="no_account" if ledger_balance_fen is None else None
    )
    facts["haoban.withdrawals"] = Fact(
        value=[
            {
                "withdrawn_on": w.paid_on.isoformat(),
                "kind": WITHDRAWAL_KIND.get(w.service_code, w.service_code),
                "amount_fen": w.amount_fen,
            }
            for w in sorted(own_withdrawals, key=lambda w: (w.paid_on, w.service_code, w.amount_fen))
        ],
        source="haoban",
    )
    facts.update(applicant_facts(inputs, INPUTS_FOR.get(service_code, [])))
    if "identity" in wanted:
        facts["identity.retirement_on"] = retirement_fact(facts)
    facts["today"] = Fact(value=today.isoformat(), source="haoban")
    return facts


def retirement_fact(facts: Mapping[str, Fact]) -> Fact:
    """`identity.retirement_on`: the statutory retirement day from the registry's birth date and sex."""
    birth, sex = facts.get("identity.birth_date"), facts.get("identity.sex")
    if birth is None or sex is None or not isinstance(birth.value, str) or sex.value not in ("M", "F"):
        why = (birth.missing if birth is not None else None) or (sex.missing if sex is not None else None)
        return Fact(value=None, source="identity", missing=why or "no_value")
    on = retirement.retirement_date(date.fromisoformat(birth.value), retirement.line_for(sex.value))
    return Fact(
        value=on.isoformat(),
        source="identity",
        system=birth.system,
        trust_level=birth.trust_level,
        last_updated=birth.last_updated,
    )


def today_of(facts: Mapping[str, Fact]) -> date | None:
    """The decision day recorded in a snapshot (for replay)."""
    fact = facts.get("today")
    return date.fromisoformat(fact.value) if fact is not None and isinstance(fact.value, str) else None
