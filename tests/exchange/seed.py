"""Put records straight into the front-end database, as a department would."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import asyncpg

from haoban.kit import idnumber

NOW = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def person(seq: int, born: date = date(1990, 5, 17)) -> str:
    return idnumber.make("410105", born, f"{seq:03d}")


async def identity(db: asyncpg.Connection, id_number: str, name: str = "张三") -> None:
    photo = b"\xff\xd8\xff" + id_number.encode()
    await db.execute(
        "INSERT INTO shared.identities (id_number, name, sex, birth_date, address, status, photo, photo_sha256,"
        " updated_at, updated_by) VALUES ($1, $2, 'M', $3, '郑州市金水区花园路 1 号', 'normal', $4, $5, $6, 'test')",
        id_number,
        name,
        idnumber.birth_date(id_number),
        photo,
        hashlib.sha256(photo).hexdigest(),
        NOW,
    )


async def everything(db: asyncpg.Connection, id_number: str, spouse: str, co_owner: str) -> None:
    """A full set of records for one person in all six sources."""
    await identity(db, id_number)
    await db.execute(
        "INSERT INTO shared.households (household_no, city, address, updated_at, updated_by)"
        " VALUES ('H-0001', '郑州', '郑州市金水区花园路 1 号', $1, 'test')",
        NOW,
    )
    await db.executemany(
        "INSERT INTO shared.household_members (household_no, id_number, name, relation, registered_since)"
        " VALUES ('H-0001', $1, $2, $3, '2015-03-01')",
        [(id_number, "张三", "户主"), (spouse, "李梅", "配偶")],
    )
    await db.execute(
        "INSERT INTO shared.hpf_accounts (account_no, id_number, status, balance_fen, monthly_deposit_fen,"
        " contribution_months, employer, bank_name, card_no, loan_outstanding_fen, updated_at, updated_by, city)"
        " VALUES ('HPF-001', $1, 'normal', 3650000, 120000, 36, '郑州某科技公司', '中国工商银行',"
        " '6222021234567890123', 0, $2, 'test', '郑州市')",
        id_number,
        NOW,
    )
    await db.execute(
        "INSERT INTO shared.hpf_withdrawals (account_no, withdrawn_on, kind, amount_fen, reference)"
        " VALUES ('HPF-001', '2025-06-01', 'rent', 1200000, 'W-1')"
    )
    await db.execute(
        "INSERT INTO shared.estate_properties (certificate_no, city, address, area_m2, mortgaged, seized,"
        " updated_at, updated_by) VALUES ('豫(2020)郑州市不动产权第0001号', '郑州', '郑东新区 8 号', 89.5,"
        " true, false, $1, 'test')",
        NOW,
    )
    await db.executemany(
        "INSERT INTO shared.estate_owners (certificate_no, id_number) VALUES ('豫(2020)郑州市不动产权第0001号', $1)",
        [(id_number,), (co_owner,)],
    )
    await db.execute(
        "INSERT INTO shared.marriages (id_number, status, spouse_id_number, spouse_name, registered_on,"
        " updated_at, updated_by) VALUES ($1, 'married', $2, '李梅', '2016-10-01', $3, 'test')",
        id_number,
        spouse,
        NOW,
    )
    await db.execute(
        "INSERT INTO shared.social_security (id_number, city, contribution_months, updated_at, updated_by)"
        " VALUES ($1, '郑州', 48, $2, 'test')",
        id_number,
        NOW,
    )
