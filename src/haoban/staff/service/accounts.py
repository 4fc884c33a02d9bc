"""Staff account use cases: create (CLI), disable, sign in."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from uuid import UUID

import asyncpg

from haoban.audit import service as audit
from haoban.audit.schemas import Actor
from haoban.citizens import service as citizens
from haoban.kit.errors import AppError, NotFound, Unauthorized
from haoban.runtime import Runtime
from haoban.staff import passwords, throttle, tokens
from haoban.staff import repository as repo
from haoban.staff.schemas import (
    DEPARTMENTS,
    ROLES,
    USERNAME_PATTERN,
    Grant,
    StaffLogin,
    StaffProfile,
    StaffToken,
)


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class StaffSpecError(ValueError):
    """A staff account request that can't be made (said in plain words, for the CLI)."""


def normalize_username(username: str) -> str:
    return username.strip().lower()


def _grants(departments: list[str], roles: list[str]) -> list[Grant]:
    for department in departments:
        if department not in DEPARTMENTS:
            raise StaffSpecError(f"unknown department {department!r} (known: {', '.join(sorted(DEPARTMENTS))})")
    grants: list[Grant] = []
    for role in roles:
        if role not in ROLES:
            raise StaffSpecError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
        grants.extend(Grant(department=d, role=role) for d in departments)
    if not grants:
        raise StaffSpecError("give at least one --department and one --role")
    return grants


async def create_staff(
    conn: asyncpg.Connection,
    *,
    username: str,
    display_name: str,
    password: str,
    departments: list[str],
    roles: list[str],
    citizen_id: UUID | None,
    id_number_hmac: bytes | None,
    actor: Actor,
    now: datetime,
) -> UUID:
    """Create a staff account with roles in departments; the password is only stored as an argon2id hash."""
    username = normalize_username(username)
    if not re.fullmatch(USERNAME_PATTERN, username):
        raise StaffSpecError("the username must be 3-64 characters: a-z first, then a-z, 0-9, '.', '_' or '-'")
    display_name = display_name.strip()
    if not 1 <= len(display_name) <= 64:
        raise StaffSpecError("the name must be 1-64 characters")
    try:
        passwords.check_policy(password, username=username)
    except passwords.WeakPassword as exc:
        raise StaffSpecError(str(exc)) from None
    grants = _grants(departments, roles)
    if citizen_id is not None:
        if not await citizens.exists(conn, citizen_id):
            raise StaffSpecError(f"no citizen account {citizen_id}")
        id_number_hmac = id_number_hmac or await citizens.id_number_hmac(conn, citizen_id)
    staff_id = uuid.uuid4()
    password_hash = await passwords.rehash(password)
    if not await repo.insert(
        conn,
        staff_id=staff_id,
        username=username,
        display_name=display_name,
        password_hash=password_hash,
        citizen_id=citizen_id,
        id_number_hmac=id_number_hmac,
        at=now,
    ):
        raise StaffSpecError(f"the username {username!r} is taken")
    await repo.add_roles(conn, staff_id, grants)
    await audit.record(
        conn,
        actor=actor,
        action="staff.created",
        subject_type="staff",
        subject_id=str(staff_id),
        at=now,
        details={
            "username": username,
            "roles": [f"{g.department}:{g.role}" for g in grants],
            "linked_citizen": citizen_id is not None or id_number_hmac is not None,
        },
    )
    return staff_id


async def has_account(conn: asyncpg.Connection, username: str) -> bool:
    """Whether a staff account has this (already normalised) username."""
    return await repo.by_username(conn, username) is not None


async def set_disabled(conn: asyncpg.Connection, *, username: str, disabled: bool, actor: Actor, now: datetime) -> None:
    account = await repo.by_username(conn, normalize_username(username))
    if account is None:
        raise NotFound(f"no staff account {username!r}")
    await repo.set_disabled(conn, account.id, now if disabled else None, now)
    await audit.record(
        conn,
        actor=actor,
        action="staff.disabled" if disabled else "staff.enabled",
        subject_type="staff",
        subject_id=str(account.id),
        at=now,
    )


def _invalid() -> InvalidCredentials:
    # One body for an unknown user, a wrong password and a disabled account.
    return InvalidCredentials("The username or password is wrong.")


async def login(conn: asyncpg.Connection, runtime: Runtime, data: StaffLogin, *, address: str) -> StaffToken | AppError:
    """Sign a staff member in from `address` (the request's source address).

    Failures are returned, not raised, so the audit row of the failure commits. The
    limits (haoban.staff.throttle) are per username at this address and per address,
    known username or not; never per username alone.
    """
    now = runtime.clock.now()
    username = normalize_username(data.username)
    try:
        await throttle.before_attempt(runtime, username=username, address=address, now=now)
    except AppError as exc:
        return exc
    account = await repo.by_username(conn, username)
    usable = account is not None and account.disabled_at is None and bool(account.roles)
    ok = await passwords.verify(account.password_hash if account is not None else None, data.password)
    if not (ok and usable and account is not None):
        await audit.record(
            conn,
            actor=Actor(type="staff", id=str(account.id) if account else "unknown"),
            action="staff.login_failed",
            subject_type="staff",
            subject_id=str(account.id) if account else username[:64],
            at=now,
            details={"known": account is not None, "address_key": runtime.limiter.key("staff.login", address).hex()},
        )
        return _invalid()
    await throttle.succeeded(runtime, username=username, address=address)
    if passwords.needs_rehash(account.password_hash):
        await repo.set_password_hash(conn, account.id, await passwords.rehash(data.password), now)
    await repo.touch_login(conn, account.id, now)
    access = await tokens.issue(conn, runtime, account, now)
    await audit.record(
        conn,
        actor=Actor(type="staff", id=str(account.id)),
        action="staff.login",
        subject_type="staff",
        subject_id=str(account.id),
        at=now,
    )
    return StaffToken(
        access_token=access,
        token_type="Bearer",  # noqa: S106 (a token type, not a secret)
        expires_in=tokens.lifetime_s(runtime),
        staff=StaffProfile(
            staff_id=account.id, username=account.username, display_name=account.display_name, roles=list(account.roles)
        ),
    )
