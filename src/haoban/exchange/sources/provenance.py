"""Turn source answers into linked values with provenance (pure).

Every value says which source it came from, its trust level (A: provided by
the issuing agency, per the 2016 national technical guide) and when the source
last updated it. Other people's identifiers are masked: least data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from haoban.exchange.consent.schemas import SourceData, TrustLevel, linked_value, unavailable_value
from haoban.exchange.sources.items import AGENCIES, ITEMS
from haoban.exchange.sources.records import (
    HouseholdRecord,
    HousingFundRecord,
    IdentityRecord,
    MarriageRecord,
    PropertyRecord,
    SocialSecurityRecord,
    SourceName,
)
from haoban.kit.masking import mask_card, mask_id_number
from haoban.places import divisions

AGENCY_TRUST: TrustLevel = "A"

Record = (
    IdentityRecord
    | HouseholdRecord
    | HousingFundRecord
    | list[PropertyRecord]
    | MarriageRecord
    | SocialSecurityRecord
    | None
)


def _property(p: PropertyRecord, subject_id_number: str) -> dict[str, Any]:
    return {
        "certificate_no": p.certificate_no,
        "city": p.city,
        "division_code": p.division_code,
        "city_code": divisions.city_code_or_none(p.division_code),
        "address": p.address,
        "area_m2": p.area_m2,
        "mortgaged": p.mortgaged,
        "seized": p.seized,
        "co_owners": [mask_id_number(o) for o in p.owner_id_numbers if o != subject_id_number],
    }


def _values(source: SourceName, record: Record, subject_id_number: str) -> dict[str, Any]:
    """The item values of one record; None (or [] for lists) when there is no record."""
    if record is None:
        return dict.fromkeys(ITEMS[source])
    if isinstance(record, MarriageRecord | SocialSecurityRecord):
        return _small_values(record)
    if isinstance(record, IdentityRecord):
        return {
            "name": record.name,
            "sex": record.sex,
            "birth_date": record.birth_date,
            "address": record.address,
            "status": record.status,
        }
    if isinstance(record, HouseholdRecord):
        return {
            "household_no": record.household_no,
            "city": record.city,
            "division_code": record.division_code,
            "city_code": divisions.city_code_or_none(record.division_code),
            "address": record.address,
            "members": [
                {
                    "name": m.name,
                    "relation": m.relation,
                    "relation_label": m.relation_label or m.relation,
                    "id_number": m.id_number if m.id_number == subject_id_number else mask_id_number(m.id_number),
                    "registered_since": m.registered_since,
                }
                for m in record.members
            ],
            "registered_since": record.registered_since,
        }
    if isinstance(record, HousingFundRecord):
        return {
            "account_no": record.account_no,
            "status": record.status,
            "balance_fen": record.balance_fen,
            "monthly_deposit_fen": record.monthly_deposit_fen,
            "contribution_months": record.contribution_months,
            "employer": record.employer,
            "bank_card": {"bank_name": record.bank_card.bank_name, "card_no": mask_card(record.bank_card.card_no)},
            "withdrawals": [
                {"withdrawn_on": w.withdrawn_on, "kind": w.kind, "amount_fen": w.amount_fen} for w in record.withdrawals
            ],
            "loan_outstanding_fen": record.loan_outstanding_fen,
            "city": record.city,
            "division_code": record.division_code,
            "city_code": divisions.city_code_or_none(record.division_code),
        }
    if isinstance(record, list):
        return {"properties": [_property(p, subject_id_number) for p in record], "spouse_properties": None}
    raise TypeError(type(record).__name__)


def _small_values(record: MarriageRecord | SocialSecurityRecord) -> dict[str, Any]:
    if isinstance(record, MarriageRecord):
        spouse = None
        if record.spouse_id_number or record.spouse_name:
            spouse = {
                "name": record.spouse_name,
                "id_number": mask_id_number(record.spouse_id_number) if record.spouse_id_number else None,
                "registered_on": record.registered_on,
            }
        return {"status": record.status, "spouse": spouse}
    return {
        "city": record.city,
        "division_code": record.division_code,
        "city_code": divisions.city_code_or_none(record.division_code),
        "contribution_months": record.contribution_months,
    }


def _updated_at(record: Record) -> datetime | None:
    if record is None:
        return None
    if isinstance(record, list):
        return max((p.updated_at for p in record), default=None)
    return record.updated_at


def answered(
    source: SourceName,
    record: Record,
    *,
    system: str,
    subject_id_number: str,
    spouse_properties: list[PropertyRecord] | None = None,
    spouse_reason: str | None = None,
) -> SourceData:
    """A source that answered, with a record or with "no record".

    Estate's `spouse_properties` (the household rule) is given when the spouse's
    properties were asked; `spouse_reason` says why they are not known.
    """
    no_record = record is None or record == []
    values = _values(source, record, subject_id_number)
    stamp = _updated_at(record)
    items = {
        name: linked_value(values[name], source=source, trust_level=AGENCY_TRUST, last_updated=stamp)
        for name in ITEMS[source]
    }
    if source == "estate":
        if spouse_properties is not None:
            stamps = [p.updated_at for p in spouse_properties]
            items["spouse_properties"] = linked_value(
                [_property(p, subject_id_number) for p in spouse_properties],
                source=source,
                trust_level=AGENCY_TRUST,
                last_updated=max(stamps, default=None),
            )
            no_record = no_record and not spouse_properties
        elif spouse_reason is not None:
            items["spouse_properties"] = unavailable_value(spouse_reason)
    return SourceData(
        source=source,
        agency=AGENCIES[source][0],
        status="no_record" if no_record else "ok",
        system=system,
        items=items,
    )


def unavailable(source: SourceName, reason: str) -> SourceData:
    return SourceData(
        source=source,
        agency=AGENCIES[source][0],
        status="unavailable",
        system=None,
        items={name: unavailable_value(reason) for name in ITEMS[source]},
    )
