"""SQL that reads the shared-data front-end database (schema `shared`)."""

from __future__ import annotations

import asyncpg

from haoban.exchange.records import (
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
        "SELECT h.household_no, h.city, h.address, h.updated_at, m.registered_since"
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
        members=[HouseholdMember(**dict(m)) for m in members],
        registered_since=head["registered_since"],
        updated_at=head["updated_at"],
    )


async def housing_fund(db: Executor, id_number: str) -> HousingFundRecord | None:
    row = await db.fetchrow(
        "SELECT account_no, status, balance_fen, monthly_deposit_fen, contribution_months, employer,"
        " bank_name, card_no, loan_outstanding_fen, updated_at"
        " FROM shared.hpf_accounts WHERE id_number = $1",
        id_number,
    )
    if row is None:
        return None
    withdrawals = await db.fetch(
        "SELECT withdrawn_on, kind, amount_fen, reference FROM shared.hpf_withdrawals"
        " WHERE account_no = $1 ORDER BY withdrawn_on DESC, reference",
        row["account_no"],
    )
    return HousingFundRecord(
        account_no=row["account_no"],
        status=row["status"],
        balance_fen=row["balance_fen"],
        monthly_deposit_fen=row["monthly_deposit_fen"],
        contribution_months=row["contribution_months"],
        employer=row["employer"],
        bank_card=BankCard(bank_name=row["bank_name"], card_no=row["card_no"]),
        withdrawals=[FundWithdrawal(**dict(w)) for w in withdrawals],
        loan_outstanding_fen=row["loan_outstanding_fen"],
        updated_at=row["updated_at"],
    )


async def properties_of(db: Executor, id_number: str) -> list[PropertyRecord]:
    rows = await db.fetch(
        "SELECT p.certificate_no, p.city, p.address, p.area_m2, p.mortgaged, p.seized, p.updated_at,"
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
        "SELECT city, contribution_months, updated_at FROM shared.social_security WHERE id_number = $1",
        id_number,
    )
    return None if row is None else SocialSecurityRecord(**dict(row))
