"""SQL that reads the shared-data front-end database (schema `shared`)."""

from __future__ import annotations

import asyncpg
import msgspec

from haoban.exchange.sources import vocab
from haoban.exchange.sources.records import (
    BankCard,
    FundWithdrawal,
    HouseholdMember,
    HouseholdRecord,
    HousingFundRecord,
    IdentityRecord,
    MarriageRecord,
    PropertyRecord,
    SocialSecurityRecord,
)

Executor = asyncpg.Pool | asyncpg.Connection


async def identity(db: Executor, id_number: str) -> IdentityRecord | None:
    row = await db.fetchrow(
        "SELECT id_number, name, sex, birth_date, address, status, photo_sha256, updated_at"
        " FROM shared.identities WHERE id_number = $1",
        id_number,
    )
    return None if row is None else IdentityRecord(**dict(row))


async def identity_photo(db: Executor, id_number: str) -> bytes | None:
    photo: bytes | None = await db.fetchval("SELECT photo FROM shared.identities WHERE id_number = $1", id_number)
    return photo


async def household(db: Executor, id_number: str) -> HouseholdRecord | None:
    head = await db.fetchrow(
        "SELECT h.household_no, h.city, h.address, h.updated_at, m.registered_since, h.division_code"
        " FROM shared.household_members m JOIN shared.households h USING (household_no)"
        " WHERE m.id_number = $1",
        id_number,
    )
    if head is None:
        return None
    members = await db.fetch(
        "SELECT id_number, name, relation, registered_since FROM shared.household_members"
        " WHERE household_no = $1 ORDER BY registered_since, id_number",
        head["household_no"],
    )
    return HouseholdRecord(
        household_no=head["household_no"],
        city=head["city"],
        address=head["address"],
        members=msgspec.convert(  # the registry's labels (户主, 长子) as relations; an unknown one raises
            vocab.wire("household", {"members": [dict(m) for m in members]})["members"],
            list[HouseholdMember],
            strict=False,
        ),
        registered_since=head["registered_since"],
        updated_at=head["updated_at"],
        division_code=head["division_code"],
    )


async def housing_fund(db: Executor, id_number: str) -> HousingFundRecord | None:
    """The account and its withdrawals, in one read."""
    row = await db.fetchrow(
        "SELECT a.account_no, a.status, a.balance_fen, a.monthly_deposit_fen, a.contribution_months, a.employer,"
        " a.bank_name, a.card_no, a.loan_outstanding_fen, a.updated_at, a.city, a.division_code,"
        " coalesce((SELECT jsonb_agg(jsonb_build_object('withdrawn_on', w.withdrawn_on, 'kind', w.kind,"
        " 'amount_fen', w.amount_fen, 'reference', w.reference) ORDER BY w.withdrawn_on DESC, w.reference)"
        " FROM shared.hpf_withdrawals w WHERE w.account_no = a.account_no), '[]') AS withdrawals"
        " FROM shared.hpf_accounts a WHERE a.id_number = $1",
        id_number,
    )
    if row is None:
        return None
    return HousingFundRecord(
        account_no=row["account_no"],
        status=row["status"],
        balance_fen=row["balance_fen"],
        monthly_deposit_fen=row["monthly_deposit_fen"],
        contribution_months=row["contribution_months"],
        employer=row["employer"],
        bank_card=BankCard(bank_name=row["bank_name"], card_no=row["card_no"]),
        withdrawals=msgspec.convert(  # the fund centre's labels (租房提取) as kinds; an unknown one raises
            vocab.wire("housing_fund", {"withdrawals": row["withdrawals"]})["withdrawals"],
            list[FundWithdrawal],
            strict=False,
        ),
        loan_outstanding_fen=row["loan_outstanding_fen"],
        updated_at=row["updated_at"],
        city=row["city"],
        division_code=row["division_code"],
    )


async def properties_of(db: Executor, id_number: str) -> list[PropertyRecord]:
    rows = await db.fetch(
        "SELECT p.certificate_no, p.city, p.address, p.area_m2, p.mortgaged, p.seized, p.updated_at, p.division_code,"
        " array(SELECT o2.id_number FROM shared.estate_owners o2"
        "       WHERE o2.certificate_no = p.certificate_no ORDER BY o2.id_number) AS owner_id_numbers"
        " FROM shared.estate_owners o JOIN shared.estate_properties p USING (certificate_no)"
        " WHERE o.id_number = $1 ORDER BY p.certificate_no",
        id_number,
    )
    return [
        PropertyRecord(
            certificate_no=r["certificate_no"],
            owner_id_numbers=list(r["owner_id_numbers"]),
            city=r["city"],
            address=r["address"],
            area_m2=float(r["area_m2"]),
            mortgaged=r["mortgaged"],
            seized=r["seized"],
            updated_at=r["updated_at"],
            division_code=r["division_code"],
        )
        for r in rows
    ]


async def marriage(db: Executor, id_number: str) -> MarriageRecord | None:
    row = await db.fetchrow(
        "SELECT status, spouse_id_number, spouse_name, registered_on, updated_at"
        " FROM shared.marriages WHERE id_number = $1",
        id_number,
    )
    return None if row is None else MarriageRecord(**dict(row))


async def social_security(db: Executor, id_number: str) -> SocialSecurityRecord | None:
    row = await db.fetchrow(
        "SELECT city, contribution_months, updated_at, division_code FROM shared.social_security WHERE id_number = $1",
        id_number,
    )
    if row is None:
        return None
    return SocialSecurityRecord(
        city=row["city"],
        contribution_months=row["contribution_months"],
        updated_at=row["updated_at"],
        division_code=row["division_code"],
    )
