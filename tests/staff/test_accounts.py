"""Staff accounts: argon2id hashes, rehash on login, `haoban staff create` from the CLI."""

from __future__ import annotations

import io
import sys
from typing import Any, cast

import asyncpg
import pytest
from argon2 import PasswordHasher
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban import cli
from haoban.kit.clock import FrozenClock
from haoban.staff import passwords
from haoban.staff import service as staff_service
from tests.conftest import server_env
from tests.staff.factories import PASSWORD, TEST_ACTOR, make_staff, staff_login


async def test_password_is_stored_as_argon2id_with_the_configured_parameters(
    db: asyncpg.Connection, clock: FrozenClock
) -> None:
    await make_staff(db, now=clock.now())
    stored = await db.fetchval("SELECT password_hash FROM staff_accounts WHERE username = 'li.reviewer'")
    assert stored.startswith("$argon2id$v=19$")
    params = passwords.HASHER
    assert f"m={params.memory_cost},t={params.time_cost},p={params.parallelism}" in stored
    assert PASSWORD not in stored
    assert passwords.HASHER.verify(stored, PASSWORD)


async def test_login_rehashes_a_hash_made_with_old_parameters(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    await make_staff(db, now=clock.now())
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    await db.execute("UPDATE staff_accounts SET password_hash = $1 WHERE username = 'li.reviewer'", weak)

    await staff_login(client)

    stored = await db.fetchval("SELECT password_hash FROM staff_accounts WHERE username = 'li.reviewer'")
    assert stored != weak
    assert not passwords.needs_rehash(stored)
    assert passwords.HASHER.verify(stored, PASSWORD)


async def test_creation_is_audited_without_the_password(db: asyncpg.Connection, clock: FrozenClock) -> None:
    staff_id = await make_staff(db, now=clock.now())
    row = cast(
        "asyncpg.Record",
        await db.fetchrow(
            "SELECT actor_type, details FROM audit_events WHERE action = 'staff.created' AND subject_id = $1",
            str(staff_id),
        ),
    )
    assert row["actor_type"] == "system"
    assert row["details"]["roles"] == ["housing_security:reviewer"]
    assert PASSWORD not in str(row["details"])


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"password": "short"}, "at least 12"),
        ({"password": "li.reviewer-and-more"}, "username"),
        ({"username": "Li Reviewer"}, "username must be"),
        ({"departments": ["police"]}, "unknown department"),
        ({"roles": ["admin"]}, "unknown role"),
    ],
)
async def test_bad_account_requests_are_refused_in_plain_words(
    db: asyncpg.Connection, clock: FrozenClock, over: dict[str, Any], message: str
) -> None:
    spec: dict[str, Any] = {
        "username": "li.reviewer",
        "display_name": "李审核",
        "password": PASSWORD,
        "departments": ["housing_security"],
        "roles": ["reviewer"],
        "citizen_id": None,
        "id_number_hmac": None,
        **over,
    }
    with pytest.raises(staff_service.StaffSpecError, match=message):
        async with db.transaction():
            await staff_service.create_staff(db, actor=TEST_ACTOR, now=clock.now(), **spec)
    assert await db.fetchval("SELECT count(*) FROM staff_accounts") == 0


async def test_a_taken_username_is_refused(db: asyncpg.Connection, clock: FrozenClock) -> None:
    await make_staff(db, now=clock.now())
    with pytest.raises(staff_service.StaffSpecError, match="taken"):
        await make_staff(db, now=clock.now())


def _cli(monkeypatch: pytest.MonkeyPatch, db_url: str, argv: list[str], stdin: str) -> int:
    for key, value in server_env(db_url).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return cli.main(argv)


def test_cli_creates_a_staff_account_from_a_password_on_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    argv = [
        "staff",
        "create",
        "--username",
        "wang.supervisor",
        "--name",
        "王主管",
        "--department",
        "housing_security",
        "--department",
        "hpf",
        "--role",
        "supervisor",
        "--password-stdin",
    ]
    assert _cli(monkeypatch, db_url, argv, PASSWORD + "\n") == 0
    assert "wang.supervisor created" in capsys.readouterr().out

    async def check() -> tuple[Any, ...]:
        conn = await asyncpg.connect(db_url)
        try:
            account = cast(
                "asyncpg.Record",
                await conn.fetchrow(
                    "SELECT id, display_name, password_hash FROM staff_accounts WHERE username = 'wang.supervisor'"
                ),
            )
            roles = await conn.fetch(
                "SELECT department, role FROM staff_roles WHERE staff_id = $1 ORDER BY department", account["id"]
            )
            actor = await conn.fetchval(
                "SELECT actor_type FROM audit_events WHERE action = 'staff.created' AND subject_id = $1",
                str(account["id"]),
            )
            return account, [tuple(r) for r in roles], actor
        finally:
            await conn.close()

    import asyncio

    account, roles, actor = asyncio.run(check())
    assert account["display_name"] == "王主管"
    assert passwords.HASHER.verify(account["password_hash"], PASSWORD)
    assert roles == [("housing_security", "supervisor"), ("hpf", "supervisor")]
    assert actor == "cli"


def test_cli_refuses_without_a_password_when_stdin_is_not_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    argv = ["staff", "create", "--username", "zhao.r", "--name", "赵", "--department", "hpf"]
    assert _cli(monkeypatch, db_url, argv, "") == 1
    assert "--password-stdin" in capsys.readouterr().err


def test_cli_refuses_a_weak_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    argv = ["staff", "create", "--username", "zhao.r", "--name", "赵", "--department", "hpf", "--password-stdin"]
    assert _cli(monkeypatch, db_url, argv, "short\n") == 1
    assert "at least 12" in capsys.readouterr().err


def test_the_password_is_not_an_argv_option() -> None:
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(
            ["staff", "create", "--username", "a.b", "--name", "x", "--department", "hpf", "--password", "p"]
        )
