"""SQL for staff accounts, their roles and the login throttle."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from haoban.staff.schemas import Grant, StaffAccount

Executor = asyncpg.Pool | asyncpg.Connection

_ACCOUNT = (
    "SELECT a.id, a.username, a.display_name, a.password_hash, a.citizen_id, a.id_number_hmac, a.disabled_at,"
    " coalesce(array_agg(r.department || ':' || r.role ORDER BY r.department, r.role)"
    " FILTER (WHERE r.staff_id IS NOT NULL), '{}') AS roles"
    " FROM staff_accounts a LEFT JOIN staff_roles r ON r.staff_id = a.id"
)


def _account(row: asyncpg.Record) -> StaffAccount:
    grants = []
    for pair in row["roles"]:
        department, _, role = pair.partition(":")
        grants.append(Grant(department=department, role=role))
    return StaffAccount(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        password_hash=row["password_hash"],
        citizen_id=row["citizen_id"],
        id_number_hmac=row["id_number_hmac"],
        disabled_at=row["disabled_at"],
        roles=tuple(grants),
    )


async def by_username(db: Executor, username: str) -> StaffAccount | None:
    row = await db.fetchrow(_ACCOUNT + " WHERE a.username = $1 GROUP BY a.id", username)
    return None if row is None else _account(row)


async def by_id(db: Executor, staff_id: UUID) -> StaffAccount | None:
    row = await db.fetchrow(_ACCOUNT + " WHERE a.id = $1 GROUP BY a.id", staff_id)
    return None if row is None else _account(row)


async def insert(
    conn: asyncpg.Connection,
    *,
    staff_id: UUID,
    username: str,
    display_name: str,
    password_hash: str,
    citizen_id: UUID | None,
    id_number_hmac: bytes | None,
    at: datetime,
) -> bool:
    status = await conn.execute(
        "INSERT INTO staff_accounts (id, username, display_name, password_hash, citizen_id, id_number_hmac,"
        " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (username) DO NOTHING",
        staff_id,
        username,
        display_name,
        password_hash,
        citizen_id,
        id_number_hmac,
        at,
    )
    return bool(status.endswith(" 1"))


async def add_roles(conn: asyncpg.Connection, staff_id: UUID, grants: list[Grant]) -> None:
    await conn.executemany(
        "INSERT INTO staff_roles (staff_id, department, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        [(staff_id, g.department, g.role) for g in grants],
    )


async def set_password_hash(conn: asyncpg.Connection, staff_id: UUID, password_hash: str, at: datetime) -> None:
    await conn.execute(
        "UPDATE staff_accounts SET password_hash = $2, updated_at = $3 WHERE id = $1", staff_id, password_hash, at
    )


async def set_disabled(conn: asyncpg.Connection, staff_id: UUID, disabled_at: datetime | None, at: datetime) -> None:
    await conn.execute(
        "UPDATE staff_accounts SET disabled_at = $2, updated_at = $3 WHERE id = $1", staff_id, disabled_at, at
    )


async def touch_login(conn: asyncpg.Connection, staff_id: UUID, at: datetime) -> None:
    await conn.execute("UPDATE staff_accounts SET last_login_at = $2 WHERE id = $1", staff_id, at)
