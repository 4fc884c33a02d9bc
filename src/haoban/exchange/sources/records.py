"""What each source system knows about a person: frozen domain records.

These are the shapes the ports return, whichever adapter (front-end database or
real-time HTTP API) fetched them. Money is integer fen; dates are ISO dates.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import msgspec

from haoban.exchange.sources.vocab import Relation, WithdrawalKind

SourceName = Literal["identity", "household", "housing_fund", "estate", "marriage", "social_security"]
IdentityStatus = Literal["normal", "deceased", "cancelled"]
FundStatus = Literal["normal", "sealed", "closed"]
MaritalStatus = Literal["unmarried", "married", "divorced", "widowed"]


class IdentityRecord(msgspec.Struct, frozen=True, kw_only=True):
    """公安人口库: the identity registry. The photo is fetched separately (face matching only)."""

    id_number: str
    name: str
    sex: Literal["M", "F"]
    birth_date: date
    address: str
    status: IdentityStatus
    photo_sha256: str
    updated_at: datetime


class HouseholdMember(msgspec.Struct, frozen=True, kw_only=True):
    id_number: str
    name: str
    relation: Relation
    registered_since: date
    relation_label: str = ""  # as the registry wrote it (户主, 长子, 22)


class HouseholdRecord(msgspec.Struct, frozen=True, kw_only=True):
    """户籍: the household the person is registered in."""

    household_no: str
    city: str
    address: str
    members: list[HouseholdMember]
    registered_since: date
    updated_at: datetime
    division_code: str | None = None  # GB/T 2260; None when the place names no division


class BankCard(msgspec.Struct, frozen=True, kw_only=True):
    bank_name: str
    card_no: str


class FundWithdrawal(msgspec.Struct, frozen=True, kw_only=True):
    withdrawn_on: date
    kind: WithdrawalKind
    amount_fen: int
    reference: str
    kind_label: str = ""  # as the fund centre wrote it (租房提取)


class HousingFundRecord(msgspec.Struct, frozen=True, kw_only=True):
    """公积金: the housing provident fund account."""

    account_no: str
    status: FundStatus
    balance_fen: int
    monthly_deposit_fen: int
    contribution_months: int
    employer: str | None
    bank_card: BankCard
    withdrawals: list[FundWithdrawal]
    loan_outstanding_fen: int
    updated_at: datetime
    city: str | None = None  # the fund centre's city (郑州市)
    division_code: str | None = None  # GB/T 2260; None when the account names no place


class PropertyRecord(msgspec.Struct, frozen=True, kw_only=True):
    """不动产: one registered property."""

    certificate_no: str
    owner_id_numbers: list[str]
    city: str
    address: str
    area_m2: float
    mortgaged: bool
    seized: bool
    updated_at: datetime
    division_code: str | None = None  # GB/T 2260; None when the place names no division


class MarriageRecord(msgspec.Struct, frozen=True, kw_only=True):
    """婚姻: civil-affairs marriage registration."""

    status: MaritalStatus
    spouse_id_number: str | None
    spouse_name: str | None
    registered_on: date | None
    updated_at: datetime


class SocialSecurityRecord(msgspec.Struct, frozen=True, kw_only=True):
    """社保: contribution months in the city."""

    city: str
    contribution_months: int
    updated_at: datetime
    division_code: str | None = None  # GB/T 2260; None when the place names no division
