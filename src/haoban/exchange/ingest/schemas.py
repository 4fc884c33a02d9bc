"""Wire Structs for writing source records into the front-end database.

The same record Structs are the bodies of the sandbox routes and the elements of
an ingestion batch. Types carry the shape; `ingest.py` checks what a type cannot
say (check digits, the photo, relations between fields).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import msgspec

from haoban.exchange.sources.records import FundStatus, IdentityStatus, MaritalStatus, SourceName
from haoban.kit.idnumber import IdNumberShape, make

MAX_PHOTO_BYTES = 1_048_576
MAX_BATCH = 500

Fen = Annotated[int, msgspec.Meta(ge=0, le=10**15, description="Integer fen (1 yuan = 100 fen)")]
PositiveFen = Annotated[int, msgspec.Meta(gt=0, le=10**15, description="Integer fen, more than zero")]
Months = Annotated[int, msgspec.Meta(ge=0, le=1200)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
City = Annotated[str, msgspec.Meta(min_length=1, max_length=32, examples=["郑州"])]
DivisionCode = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^\d{6}$",
        examples=["410105"],
        description="GB/T 2260 administrative division code; resolved from the names when left out",
    ),
]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^\S(.*\S)?$")]
CardNo = Annotated[str, msgspec.Meta(pattern=r"^\d{12,19}$", description="Bank card number, 12 to 19 digits")]
Photo = Annotated[
    bytes,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_PHOTO_BYTES,
        description="Base64 of a JPEG or PNG, at most 1 MiB decoded (the ID photo, for face matching)",
    ),
]
AreaM2 = Annotated[float, msgspec.Meta(ge=0.01, lt=100_000_000, description="Floor area in m², 2 decimals")]


class IdentityIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """公安人口库 record. `sex` and `birth_date` must agree with the ID number."""

    id_number: IdNumberShape
    name: Name
    sex: Literal["M", "F"]
    birth_date: date
    address: Text
    photo: Photo
    status: IdentityStatus = "normal"


class MemberIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id_number: IdNumberShape
    name: Name
    relation: Annotated[str, msgspec.Meta(min_length=1, max_length=16, examples=["户主", "配偶", "子女"])]
    registered_since: date


class HouseholdIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """户籍 record: the whole household. Members not listed are removed from it;
    a member registered in another household moves to this one."""

    household_no: Code
    city: City
    address: Text
    members: Annotated[list[MemberIn], msgspec.Meta(min_length=1, max_length=50)]
    division_code: DivisionCode | None = None


class BankCardIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    bank_name: Name
    card_no: CardNo


class WithdrawalIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    withdrawn_on: date
    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=32, examples=["rent", "retirement"])]
    amount_fen: PositiveFen
    reference: Code


class HousingFundIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """公积金 account. `withdrawals`, when given, replaces the account's withdrawal
    history; when left out the stored history is kept.

    `city` is the fund centre's city; its `division_code` is resolved from it when left out,
    and a city that resolves to no division is refused naming the field."""

    id_number: IdNumberShape
    account_no: Code
    status: FundStatus
    balance_fen: Fen
    monthly_deposit_fen: Fen
    contribution_months: Months
    bank_card: BankCardIn
    employer: Text | None = None
    loan_outstanding_fen: Fen = 0
    withdrawals: Annotated[list[WithdrawalIn], msgspec.Meta(max_length=500)] | None = None
    city: City | None = None
    division_code: DivisionCode | None = None


class PropertyIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """不动产 record: one property and all its owners (owners not listed are removed).

    The place is `division_code` when given, else resolved from `city` and `district`, else from
    `address` (河南省郑州市金水区…); a place that resolves to no city is refused naming the field."""

    certificate_no: Code
    owner_id_numbers: Annotated[list[IdNumberShape], msgspec.Meta(min_length=1, max_length=20)]
    address: Text
    area_m2: AreaM2
    mortgaged: bool
    seized: bool
    city: City | None = None
    district: City | None = None
    division_code: DivisionCode | None = None


class MarriageIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """婚姻 record of one person. `married` needs the spouse and the registration date;
    `unmarried` allows none of them."""

    id_number: IdNumberShape
    status: MaritalStatus
    spouse_id_number: IdNumberShape | None = None
    spouse_name: Name | None = None
    registered_on: date | None = None


class SocialSecurityIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """社保 record: contribution months in a city."""

    id_number: IdNumberShape
    city: City
    contribution_months: Months
    division_code: DivisionCode | None = None


SourceRecord = IdentityIn | HouseholdIn | HousingFundIn | PropertyIn | MarriageIn | SocialSecurityIn


class Upserted(msgspec.Struct, frozen=True, kw_only=True):
    """What a sandbox write did: `created` is false when the record existed and was replaced."""

    source: str
    key: str
    created: bool


class IngestBatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Up to 500 records of one source; each is that source's sandbox body."""

    records: Annotated[list[dict[str, Any]], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]


class IngestResult(msgspec.Struct, frozen=True, kw_only=True):
    source: str
    accepted: int
    created: int


# --- examples (OpenAPI; valid records) ---------------------------------------------

_ZHANG = make("410105", date(1990, 12, 9), "002")
_LI = make("410105", date(1960, 3, 15), "004")
_WANG = make("410105", date(1958, 7, 1), "011")
_PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGM4saAHAAQoAfU5zC0dAAAAAElFTkSuQmCC"

RECORD_EXAMPLES: dict[SourceName, dict[str, Any]] = {
    "identity": {
        "id_number": _ZHANG,
        "name": "张三",
        "sex": "F",
        "birth_date": "1990-12-09",
        "address": "河南省郑州市金水区花园路 66 号",
        "photo": _PNG_1PX,
        "status": "normal",
    },
    "household": {
        "household_no": "410105000202",
        "city": "郑州",
        "address": "河南省郑州市金水区经三路 12 号院 3 号楼 501",
        "members": [
            {"id_number": _LI, "name": "李四", "relation": "户主", "registered_since": "1985-06-01"},
            {"id_number": _WANG, "name": "王五", "relation": "配偶", "registered_since": "1985-06-01"},
        ],
    },
    "housing_fund": {
        "id_number": _ZHANG,
        "account_no": "ZZ2019000123",
        "status": "normal",
        "balance_fen": 3_865_000,
        "monthly_deposit_fen": 120_000,
        "contribution_months": 36,
        "bank_card": {"bank_name": "中国建设银行", "card_no": "6217000000000000123"},
        "employer": "郑州某科技有限公司",
        "city": "郑州市",
        "loan_outstanding_fen": 0,
        "withdrawals": [
            {"withdrawn_on": "2025-03-10", "kind": "rent", "amount_fen": 1_200_000, "reference": "WD-2025-0001"}
        ],
    },
    "estate": {
        "certificate_no": "豫(2008)郑州市不动产权第0001234号",
        "owner_id_numbers": [_LI, _WANG],
        "city": "郑州",
        "address": "河南省郑州市金水区经三路 12 号院 3 号楼 501",
        "area_m2": 96.5,
        "mortgaged": False,
        "seized": False,
    },
    "marriage": {
        "id_number": _LI,
        "status": "married",
        "spouse_id_number": _WANG,
        "spouse_name": "王五",
        "registered_on": "1984-10-01",
    },
    "social_security": {"id_number": _ZHANG, "city": "郑州", "contribution_months": 36},
}
