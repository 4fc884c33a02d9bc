"""kill -9 a server while payouts are in flight: after restart and reconcile, each is paid exactly once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from uuid import UUID

import pytest

from haoban.db.pool import unit_of_work
from haoban.runtime import Runtime
from tests.conftest import LiveServer, server_env
from tests.payouts.money import CLOSED_CARD, assert_ledger_consistent, faults, funded_member, money_runtime, request

__all__ = ["money_runtime"]

WORKER_ENV = {
    "HAOBAN_OUTBOX_POLL_MS": "20",
    "HAOBAN_OUTBOX_BATCH": "8",
    "HAOBAN_OUTBOX_LEASE_S": "2",
    "HAOBAN_OUTBOX_BACKOFF_BASE_MS": "50",
    "HAOBAN_OUTBOX_BACKOFF_MAX_S": "1",
}


async def _counts(runtime: Runtime) -> dict[str, int]:
    async with unit_of_work(runtime.pool) as conn:
        rows = await conn.fetch("SELECT status, count(*) AS n FROM payouts GROUP BY status")
    return {r["status"]: r["n"] for r in rows}


def _env(db_url: str) -> dict[str, str]:
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    return {**keep, **server_env(db_url, **WORKER_ENV)}


class WorkerProcess:
    """`haoban worker` in a subprocess (the other place the outbox worker runs)."""

    def __init__(self, db_url: str) -> None:
        # Logs go to a file: an unread pipe fills at 64 KiB and then blocks the worker mid-run.
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "haoban.cli", "worker"],
            env=_env(db_url),
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            text=True,
        )

    def stop(self) -> int:
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=30)
        finally:
            self.log.close()


def _reconcile(db_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "haoban.cli", "payouts", "reconcile"],
        env=_env(db_url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize("process", ["serve", "worker"])
async def test_kill_9_with_payouts_in_flight_then_restart_and_reconcile(
    process: str, money_runtime: Runtime, db_url: str, live_server: Callable[..., LiveServer]
) -> None:
    workers: list[WorkerProcess] = []

    def start() -> LiveServer | WorkerProcess:
        if process == "serve":
            return live_server(**WORKER_ENV)  # the fixture stops it
        workers.append(WorkerProcess(db_url))
        return workers[-1]

    try:
        await _crash_and_recover(money_runtime, db_url, start)
    finally:
        for worker in workers:
            if worker.proc.poll() is None:
                worker.proc.kill()
                worker.proc.wait(timeout=10)
            worker.log.close()


async def _crash_and_recover(
    money_runtime: Runtime, db_url: str, start: Callable[[], LiveServer | WorkerProcess]
) -> None:
    async with unit_of_work(money_runtime.pool) as conn:
        citizen_id = await funded_member(conn, 10_000_000)
    ids: list[UUID] = []
    for i in range(40):
        card = CLOSED_CARD if i % 10 == 9 else "6222020200112233445"
        ids.append((await request(money_runtime, citizen_id, 10_000 + i, card_no=card)).payout_id)
    await faults(money_runtime, latency_ms=400, timeout_rate=0.2, failure_rate=0.1)

    server = await asyncio.to_thread(start)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # wait until payouts are in flight and some are done
        counts = await _counts(money_runtime)
        if counts.get("sent", 0) >= 3 and counts.get("settled", 0) + counts.get("reversed", 0) >= 1:
            break
        await asyncio.sleep(0.02)
    server.proc.kill()  # SIGKILL: no shutdown, leases and bank calls left hanging
    server.proc.wait(timeout=10)
    in_flight = await _counts(money_runtime)
    assert in_flight.get("sent", 0) >= 1, in_flight

    await faults(money_runtime, latency_ms=20)
    restarted = await asyncio.to_thread(start)  # its worker races reconcile
    result = await asyncio.to_thread(_reconcile, db_url)
    assert result.returncode in (0, 1), result.stderr
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        counts = await _counts(money_runtime)
        if set(counts) <= {"settled", "reversed"}:
            break
        await asyncio.sleep(0.1)
    if isinstance(restarted, WorkerProcess):
        assert restarted.stop() == 0  # SIGTERM: a clean stop
    else:
        restarted.stop()
    final = _reconcile(db_url)
    assert final.returncode == 0, final.stdout + final.stderr
    assert "checked 0 open payout(s)" in final.stdout

    assert await _counts(money_runtime) == {"settled": 36, "reversed": 4}
    async with unit_of_work(money_runtime.pool) as conn:
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM (SELECT payout_id FROM sandbox_bank.transfers GROUP BY payout_id"
                " HAVING count(*) > 1) d"
            )
            == 0
        )
        assert await conn.fetchval("SELECT count(*) FROM sandbox_bank.transfers WHERE status = 'settled'") == 36
        assert await conn.fetchval("SELECT count(*) FROM ledger_groups WHERE kind = 'settlement'") == 36
        assert await conn.fetchval("SELECT count(*) FROM ledger_groups WHERE kind = 'reversal'") == 4
        paid = await conn.fetchval("SELECT coalesce(sum(amount_fen), 0) FROM payouts WHERE status = 'settled'")
        received = await conn.fetchval(
            "SELECT coalesce(sum(amount_fen), 0) FROM sandbox_bank.transfers WHERE status = 'settled'"
        )
        assert paid == received
        await assert_ledger_consistent(conn)
