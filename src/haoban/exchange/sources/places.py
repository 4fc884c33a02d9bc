"""Division codes for the place fields of source records (pure).

Ingestion and the sandbox give every household, property, social-security and
housing-fund record its GB/T 2260 code (`division_code`) beside the display name: the code
sent, or one resolved from the city (and district), or failing that from the
address. A record whose place resolves to no city is refused, naming the field.
Records read from the front-end database or an HTTP source without a code are
resolved the same way when read; one that still has none stays without, and
the rules treat its place as unknown (never as "elsewhere"). A housing-fund
account may name no place at all (`city` is optional there); one that names a
place is held to the same rule.
"""

from __future__ import annotations

import msgspec

from haoban.exchange.ingest.schemas import HouseholdIn, HousingFundIn, PropertyIn, SocialSecurityIn, SourceRecord
from haoban.exchange.sources.records import HouseholdRecord, HousingFundRecord, PropertyRecord, SocialSecurityRecord
from haoban.kit.errors import FieldError
from haoban.places import divisions

UNRESOLVED = "names no city of the administrative division table (GB/T 2260)"
UNKNOWN_CODE = "is not a GB/T 2260 division code"

Placed = HouseholdIn | PropertyIn | SocialSecurityIn | HousingFundIn


def _parts(rec: Placed) -> tuple[tuple[str, str | None], ...]:
    """The place fields of a record, most general first, with their names."""
    if isinstance(rec, PropertyIn):
        return (("city", rec.city), ("district", rec.district), ("address", rec.address))
    if isinstance(rec, HouseholdIn):
        return (("city", rec.city), ("address", rec.address))
    return (("city", rec.city),)


def place_of(rec: Placed) -> divisions.Division | None:
    """The record's division (city level at least), or None."""
    if rec.division_code is not None:
        found = divisions.by_code(rec.division_code)
    else:
        found = divisions.resolve_place(*(value for _name, value in _parts(rec)))
    return found if found is not None and found.city_code is not None else None


def _unplaced(rec: SourceRecord) -> bool:
    """A record that names no place and need not: a fund account sent without a city."""
    return isinstance(rec, HousingFundIn) and rec.city is None and rec.division_code is None


def problem(rec: SourceRecord, at: str = "") -> FieldError | None:
    """A 422 field error when a record's place cannot be resolved to a city."""
    if not isinstance(rec, Placed) or _unplaced(rec):
        return None
    if place_of(rec) is not None:
        return None
    if rec.division_code is not None:
        return FieldError(field=f"{at}division_code", reason=UNKNOWN_CODE)
    named = next((name for name, value in _parts(rec) if value), "city")
    return FieldError(field=f"{at}{named}", reason=UNRESOLVED)


def normalised(rec: SourceRecord) -> SourceRecord:
    """The record with its `division_code` (and a display `city` when only the address named it)."""
    if not isinstance(rec, Placed) or _unplaced(rec):
        return rec
    found = place_of(rec)
    if found is None:
        raise ValueError("normalised() needs a record whose place resolves (check it first)")
    city = rec.city or divisions.city_name(found)
    return msgspec.structs.replace(rec, division_code=found.code, city=city)


def read_code(code: str | None, *texts: str | None) -> str | None:
    """The code of a record as read: the stored one when valid, else resolved from its texts."""
    if code is not None and divisions.known(code):
        return code
    found = divisions.resolve_place(*texts)
    return found.code if found is not None and found.city_code is not None else None


def coded(record: object) -> object:
    """A record as any adapter read it, with its division code filled in where it had none."""
    if isinstance(record, list):
        return [coded(r) for r in record]
    if isinstance(record, PropertyRecord | HouseholdRecord):
        code = read_code(record.division_code, record.city, record.address)
    elif isinstance(record, SocialSecurityRecord | HousingFundRecord):
        code = read_code(record.division_code, record.city)
    else:
        return record
    return record if code == record.division_code else msgspec.structs.replace(record, division_code=code)
