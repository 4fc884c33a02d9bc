"""SQL that writes the front-end database (schema `shared`): one upsert per source.

Each upsert replaces the whole record, child rows included, so sending the same
record twice leaves the same rows. Each returns True when the record's main row
was inserted, False when it was updated.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import asyncpg

from haoban.exchange.ingest.schemas import (
    HouseholdIn,
    HousingFundIn,
    IdentityIn,
    MarriageIn,
    PropertyIn,
    SocialSecurityIn,
)


async def upsert_identity(conn: asyncpg.Connection, rec: IdentityIn, photo_sha256: str, at: datetime, by: str) -> bool:
    inserted: bool = await conn.fetchval(
        "INSERT INTO shared.identities"
        " (id_number, name, sex, birth_date, address, status, photo, photo_sha256, updated_at, updated_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " ON CONFLICT (id_number) DO UPDATE SET name = EXCLUDED.name, sex = EXCLUDED.sex,"
        " birth_date = EXCLUDED.birth_date, address = EXCLUDED.address, status = EXCLUDED.status,"
        " photo = EXCLUDED.photo, photo_sha256 = EXCLUDED.photo_sha256,"
        " updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by RETURNING (xmax = 0) AS inserted",
        rec.id_number,
        rec.name,
        rec.sex,
        rec.birth_date,
        rec.address,
        rec.status,
        rec.photo,
        photo_sha256,
        at,
        by,
    )
    return inserted


async def upsert_household(conn: asyncpg.Connection, rec: HouseholdIn, at: datetime, by: str) -> bool:
    inserted: bool = await conn.fetchval(
        "INSERT INTO shared.households (household_no, city, address, updated_at, updated_by, division_code)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (household_no) DO UPDATE SET city = EXCLUDED.city, address = EXCLUDED.address,"
        " division_code = EXCLUDED.division_code,"
        " updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by RETURNING (xmax = 0) AS inserted",
        rec.household_no,
        rec.city,
        rec.address,
        at,
        by,
        rec.division_code,
    )
    ids = [m.id_number for m in rec.members]
    # A person is registered in one household at a time: listing them here moves them.
    await conn.execute(
        "DELETE FROM shared.household_members WHERE id_number = ANY($2::text[]) AND household_no <> $1",
        rec.household_no,
        ids,
    )
    await conn.execute(
        "DELETE FROM shared.household_members WHERE household_no = $1 AND NOT (id_number = ANY($2::text[]))",
        rec.household_no,
        ids,
    )
    await conn.execute(
        "INSERT INTO shared.household_members (household_no, id_number, name, relation, registered_since)"
        " SELECT $1, m.id_number, m.name, m.relation, m.registered_since"
        " FROM unnest($2::text[], $3::text[], $4::text[], $5::date[])"
        "   AS m (id_number, name, relation, registered_since)"
        " ON CONFLICT (household_no, id_number) DO UPDATE SET name = EXCLUDED.name,"
        " relation = EXCLUDED.relation, registered_since = EXCLUDED.registered_since",
        rec.household_no,
        ids,
        [m.name for m in rec.members],
        [m.relation for m in rec.members],
        [m.registered_since for m in rec.members],
    )
    return inserted


async def fund_account_of(conn: asyncpg.Connection, id_number: str) -> str | None:
    """The account number the person holds, if any (one account per person)."""
    account_no: str | None = await conn.fetchval(
        "SELECT account_no FROM shared.hpf_accounts WHERE id_number = $1", id_number
    )
    return account_no


async def upsert_fund_account(conn: asyncpg.Connection, rec: HousingFundIn, at: datetime, by: str) -> bool:
    inserted: bool = await conn.fetchval(
        "INSERT INTO shared.hpf_accounts"
        " (account_no, id_number, status, balance_fen, monthly_deposit_fen, contribution_months, employer,"
        "  bank_name, card_no, loan_outstanding_fen, updated_at, updated_by, city, division_code)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        " ON CONFLICT (account_no) DO UPDATE SET id_number = EXCLUDED.id_number, status = EXCLUDED.status,"
        " balance_fen = EXCLUDED.balance_fen, monthly_deposit_fen = EXCLUDED.monthly_deposit_fen,"
        " contribution_months = EXCLUDED.contribution_months, employer = EXCLUDED.employer,"
        " bank_name = EXCLUDED.bank_name, card_no = EXCLUDED.card_no,"
        " loan_outstanding_fen = EXCLUDED.loan_outstanding_fen,"
        " city = EXCLUDED.city, division_code = EXCLUDED.division_code,"
        " updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by RETURNING (xmax = 0) AS inserted",
        rec.account_no,
        rec.id_number,
        rec.status,
        rec.balance_fen,
        rec.monthly_deposit_fen,
        rec.contribution_months,
        rec.employer,
        rec.bank_card.bank_name,
        rec.bank_card.card_no,
        rec.loan_outstanding_fen,
        at,
        by,
        rec.city,
        rec.division_code,
    )
    if rec.withdrawals is not None:
        refs = [w.reference for w in rec.withdrawals]
        await conn.execute(
            "DELETE FROM shared.hpf_withdrawals WHERE account_no = $1 AND NOT (reference = ANY($2::text[]))",
            rec.account_no,
            refs,
        )
        await conn.execute(
            "INSERT INTO shared.hpf_withdrawals (account_no, withdrawn_on, kind, amount_fen, reference)"
            " SELECT $1, w.withdrawn_on, w.kind, w.amount_fen, w.reference"
            " FROM unnest($2::date[], $3::text[], $4::bigint[], $5::text[])"
            "   AS w (withdrawn_on, kind, amount_fen, reference)"
            " ON CONFLICT (account_no, reference) DO UPDATE SET withdrawn_on = EXCLUDED.withdrawn_on,"
            " kind = EXCLUDED.kind, amount_fen = EXCLUDED.amount_fen",
            rec.account_no,
            [w.withdrawn_on for w in rec.withdrawals],
            [w.kind for w in rec.withdrawals],
            [w.amount_fen for w in rec.withdrawals],
            refs,
        )
    return inserted


async def upsert_property(conn: asyncpg.Connection, rec: PropertyIn, at: datetime, by: str) -> bool:
    inserted: bool = await conn.fetchval(
        "INSERT INTO shared.estate_properties"
        " (certificate_no, city, address, area_m2, mortgaged, seized, updated_at, updated_by, division_code)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT (certificate_no) DO UPDATE SET city = EXCLUDED.city, address = EXCLUDED.address,"
        " division_code = EXCLUDED.division_code,"
        " area_m2 = EXCLUDED.area_m2, mortgaged = EXCLUDED.mortgaged, seized = EXCLUDED.seized,"
        " updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by RETURNING (xmax = 0) AS inserted",
        rec.certificate_no,
        rec.city,
        rec.address,
        Decimal(f"{rec.area_m2:.2f}"),
        rec.mortgaged,
        rec.seized,
        at,
        by,
        rec.division_code,
    )
    await conn.execute(
        "DELETE FROM shared.estate_owners WHERE certificate_no = $1 AND NOT (id_number = ANY($2::text[]))",
        rec.certificate_no,
        rec.owner_id_numbers,
    )
    await conn.execute(
        "INSERT INTO shared.estate_owners (certificate_no, id_number)"
        " SELECT $1, o FROM unnest($2::text[]) AS o ON CONFLICT DO NOTHING",
        rec.certificate_no,
        rec.owner_id_numbers,
    )
    return inserted


async def upsert_marriage(conn: asyncpg.Connection, rec: MarriageIn, at: datetime, by: str) -> bool:
    inserted: bool = await conn.fetchval(
        "INSERT INTO shared.marriages"
        " (id_number, status, spouse_id_number, spouse_name, registered_on, updated_at, updated_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (id_number) DO UPDATE SET status = EXCLUDED.status,"
        " spouse_id_number = EXCLUDED.spouse_id_number, spouse_name = EXCLUDED.spouse_name,"
        " registered_on = EXCLUDED.registered_on,"
        " updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by RETURNING (xmax = 0) AS inserted",
        rec.id_number,
        rec.status,
        rec.spouse_id_number,
        rec.spouse_name,
        rec.registered_on,
        at,
        by,
    )
    return inserted


async def upsert_social_security(conn: asyncpg.Connection, rec: SocialSecurityIn, at: datetime, by: str) -> bool:
    inserted: bool = await conn.fetchval(
        "INSERT INTO shared.social_security"
        " (id_number, city, contribution_months, updated_at, updated_by, division_code)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (id_number) DO UPDATE SET city = EXCLUDED.city, division_code = EXCLUDED.division_code,"
        " contribution_months = EXCLUDED.contribution_months,"
        " updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by RETURNING (xmax = 0) AS inserted",
        rec.id_number,
        rec.city,
        rec.contribution_months,
        at,
        by,
        rec.division_code,
    )
    return inserted
