"""Fixtures for the HTTP source tests: a simulator process over the test's database, and rows to serve."""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from haoban.db.pool import create_pool
from haoban.kit import idnumber
from haoban.settings import DatabaseSettings
from tests.processes import free_port, side_process

SIM_TOKEN = "sim-token-for-tests"
PERSON = idnumber.make("110101", date(1990, 3, 7), "123")
SPOUSE = idnumber.make("110101", date(1991, 6, 1), "244")
STRANGER = idnumber.make("310104", date(1985, 1, 2), "357")
PHOTO = b"\xff\xd8\xff\xe0 not really a jpeg"


@dataclass
class Simulator:
    base_url: str
    proc: subprocess.Popen[str]

    async def control(self, **settings: Any) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5) as http:
            (await http.post("/control", json=settings)).raise_for_status()

    async def requests(self) -> int:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5) as http:
            count: int = (await http.get("/control")).raise_for_status().json()["requests"]
            return count

    async def state(self) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5) as http:
            state: dict[str, Any] = (await http.get("/control")).raise_for_status().json()
            return state


@pytest.fixture
def sim_server(db_url: str) -> Iterator[Simulator]:
    """`python -m haoban.simulators.sources.server` on a free loopback port, serving this test's database."""
    port = free_port()
    command = [sys.executable, "-m", "haoban.simulators.sources.server", "--database-url", db_url, "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with side_process(
        [*command, "--token", SIM_TOKEN],
        ready_url=f"{base}/control",
        what="simulator",
        before_stop=lambda: with_stall_released(base),
    ) as proc:
        yield Simulator(base, proc)


def with_stall_released(base: str) -> None:
    """Let stalled handlers finish so the server can shut down promptly."""
    with contextlib.suppress(httpx.HTTPError):
        httpx.post(f"{base}/control", json={}, timeout=2)


@pytest.fixture
async def sim_rows(db: asyncpg.Connection) -> str:
    """One person known to every source (a household of two, a shared flat, two withdrawals); returns the ID number."""
    at = datetime(2026, 5, 1, 8, 30, 15, 123456, tzinfo=UTC)
    by = "tests"
    await db.execute(
        "INSERT INTO shared.identities (id_number, name, sex, birth_date, address, status, photo, photo_sha256,"
        " updated_at, updated_by)"
        " VALUES ($1, '张三', 'M', '1990-03-07', '北京市东城区某街1号', 'normal', $2, $3, $4, $5)",
        PERSON,
        PHOTO,
        hashlib.sha256(PHOTO).hexdigest(),
        at,
        by,
    )
    await db.execute(
        "INSERT INTO shared.households (household_no, city, address, updated_at, updated_by)"
        " VALUES ('HH-001', '北京', '北京市东城区某街1号', $1, $2)",
        at,
        by,
    )
    await db.executemany(
        "INSERT INTO shared.household_members (household_no, id_number, name, relation, registered_since)"
        " VALUES ('HH-001', $1, $2, $3, $4)",
        [(PERSON, "张三", "户主", date(2010, 1, 1)), (SPOUSE, "李四", "配偶", date(2015, 6, 1))],
    )
    await db.execute(
        "INSERT INTO shared.hpf_accounts (account_no, id_number, status, balance_fen, monthly_deposit_fen,"
        " contribution_months, employer, bank_name, card_no, loan_outstanding_fen, updated_at, updated_by)"
        " VALUES ('HPF-9', $1, 'normal', 12345678, 240000, 61, '某科技公司', '工商银行', '6222000011112222', 0,"
        " $2, $3)",
        PERSON,
        at,
        by,
    )
    await db.executemany(
        "INSERT INTO shared.hpf_withdrawals (account_no, withdrawn_on, kind, amount_fen, reference)"
        " VALUES ('HPF-9', $1, $2, $3, $4)",
        [(date(2025, 1, 5), "rent", 150000, "W-1"), (date(2025, 7, 5), "rent", 150000, "W-2")],
    )
    await db.execute(
        "INSERT INTO shared.estate_properties (certificate_no, city, address, area_m2, mortgaged, seized,"
        " updated_at, updated_by) VALUES ('CERT-7', '北京', '北京市朝阳区某路8号', 89.37, true, false, $1, $2)",
        at,
        by,
    )
    await db.executemany(
        "INSERT INTO shared.estate_owners (certificate_no, id_number) VALUES ('CERT-7', $1)", [(PERSON,), (SPOUSE,)]
    )
    await db.execute(
        "INSERT INTO shared.marriages (id_number, status, spouse_id_number, spouse_name, registered_on,"
        " updated_at, updated_by) VALUES ($1, 'married', $2, '李四', '2015-05-20', $3, $4)",
        PERSON,
        SPOUSE,
        at,
        by,
    )
    await db.execute(
        "INSERT INTO shared.social_security (id_number, city, contribution_months, updated_at, updated_by)"
        " VALUES ($1, '北京', 72, $2, $3)",
        PERSON,
        at,
        by,
    )
    return PERSON


@pytest.fixture
async def sim_frontdb_pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool like the front-end database adapters get in the app, over the same rows the simulator serves."""
    pool = await create_pool(db_url, DatabaseSettings(url=db_url, pool_min=1, pool_max=2))
    try:
        yield pool
    finally:
        await pool.close()
