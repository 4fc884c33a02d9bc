"""kill -9 a server while instant withdrawals are being paid; restart and reconcile: each is paid once or refunded."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from typing import cast
from uuid import UUID

import asyncpg
import httpx
import pytest

from haoban.kit.clock import FrozenClock
from haoban.settings import Settings
from tests.applications import money
from tests.applications.people import apply, person
from tests.conftest import LiveServer, server_env

BALANCE = 3_865_000  # tests/sandbox/bodies.fund
FAST_WORKER = {
    "HAOBAN_OUTBOX_POLL_MS": "20",
    "HAOBAN_OUTBOX_LEASE_S": "2",
    "HAOBAN_OUTBOX_BACKOFF_BASE_MS": "50",
    "HAOBAN_OUTBOX_BACKOFF_MAX_S": "1",
    "HAOBAN_PAYOUT_BUDGET_MS": "100",
    "HAOBAN_DB_POOL_MAX": "10",
}


def reconcile(db_url: str) -> subprocess.CompletedProcess[str]:
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    return subprocess.run(
        [sys.executable, "-m", "haoban.cli", "payouts", "reconcile"],
        env={**keep, **server_env(db_url, **FAST_WORKER)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def wait_final(db: asyncpg.Connection, timeout_s: float = 60) -> None:
    for _ in range(int(timeout_s / 0.2)):
        if not await db.fetchval("SELECT count(*) FROM payouts WHERE status IN ('requested', 'sent')"):
            return
        await asyncio.sleep(0.2)
    pytest.fail("payouts still in flight")


@pytest.mark.slow
async def test_kill_9_during_instant_payouts_then_restart_and_reconcile(
    db: asyncpg.Connection,
    db_url: str,
    settings: Settings,
    clock: FrozenClock,
    live_server: Callable[..., LiveServer],
) -> None:
    server = await asyncio.to_thread(live_server, **FAST_WORKER)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        people = [
            await person(http, db, settings, clock, seq=900 + i, card_no="6217000000000000" if i % 6 == 5 else None)
            for i in range(12)
        ]
        faults = {"latency_ms": 800, "failure_rate": 0.1, "timeout_rate": 0.3}
        assert (await http.post("/sandbox/bank/faults", json=faults)).status_code == 200
        answers = await asyncio.gather(*(apply(http, p, "hpf.withdraw.rent") for p in people))
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers if a.status_code != 201]
    in_flight = await db.fetchval("SELECT count(*) FROM payouts WHERE status IN ('requested', 'sent')")
    server.proc.kill()  # SIGKILL: no shutdown, background sends die mid-call
    server.proc.wait(timeout=30)
    assert in_flight > 0, "nothing was in flight when the server died"

    restarted = await asyncio.to_thread(live_server, **FAST_WORKER)
    async with httpx.AsyncClient(base_url=restarted.base_url, timeout=30) as http:
        assert (await http.post("/sandbox/bank/faults", json={"latency_ms": 0})).status_code == 200
    done = reconcile(db_url)
    assert done.returncode == 0, done.stderr[-2000:]
    await wait_final(db)

    assert await money.unbalanced_groups(db) == 0
    for p in people:
        payout = cast(
            "asyncpg.Record",
            await db.fetchrow(
                "SELECT p.id, p.status, p.amount_fen, a.status AS app_status FROM payouts p"
                " JOIN applications a ON a.id = p.application_id WHERE a.citizen_id = $1",
                UUID(p.citizen_id),
            ),
        )
        transfers = await money.bank_transfers(db, p.card_no)
        settled = [t for t in transfers if t["status"] == "settled"]
        balance = await money.member_balance(db, p.citizen_id)
        if payout["status"] == "settled":
            assert payout["app_status"] == "paid"
            assert [t["payout_id"] for t in settled] == [payout["id"]]
            assert balance == BALANCE - payout["amount_fen"]
        else:
            assert payout["status"] == "reversed"
            assert payout["app_status"] == "cancelled"
            assert settled == []
            assert balance == BALANCE
