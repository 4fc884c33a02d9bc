"""`haoban worker --once` runs what is due in a process of its own."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from haoban.db.pool import unit_of_work
from haoban.payouts import service as payouts
from haoban.runtime import Runtime
from tests.conftest import server_env
from tests.payouts.money import funded_member, money_runtime, request

__all__ = ["money_runtime"]


def _cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    return subprocess.run(
        [sys.executable, "-m", "haoban.cli", *args],
        env={**keep, **server_env(db_url)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_worker_once_sends_queued_payouts(money_runtime: Runtime, db_url: str) -> None:
    async with unit_of_work(money_runtime.pool) as conn:
        citizen_id = await funded_member(conn, 5_000)
    view = await request(money_runtime, citizen_id, 5_000)
    result = await asyncio.to_thread(_cli, db_url, "worker", "--once")
    assert result.returncode == 0, result.stderr
    assert "ran 1 outbox row(s)" in result.stdout
    async with unit_of_work(money_runtime.pool) as conn:
        done = await payouts.get(conn, view.payout_id)
    assert done is not None
    assert done.status == "settled"
    again = await asyncio.to_thread(_cli, db_url, "payouts", "reconcile")
    assert again.returncode == 0
    assert "checked 0 open payout(s)" in again.stdout
