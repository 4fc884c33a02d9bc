"""Payout throughput at the service level, as ratios to a raw ledger write measured in the same run.

    uv run python bench/run_payouts.py [--duration 3] [--concurrency 16] [--database-url URL]

Scenarios, each driven by `--concurrency` tasks (one member account each) on one pool:

- raw: one transaction with a conditional balance UPDATE and a two-entry group
  insert (the same SQL shape as a withdrawal). **The baseline.**
- request: `request_payout` (ledger group, payout row with an encrypted card,
  event, outbox row) in one transaction.
- request+settle: the above, then `settle_within` against the sandbox bank
  (no latency): attempt, bank booking, settlement group, all after commit.

The end-to-end bench through `POST /v1/applications` lives with the applications domain.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import harness
from haoban.audit.schemas import Actor
from haoban.db import migrations
from haoban.db.pool import connect, create_pool, unit_of_work
from haoban.kit.clock import SystemClock
from haoban.ledger import service as ledger
from haoban.payouts import service as payouts
from haoban.root import build_runtime
from haoban.runtime import Runtime
from haoban.settings import Settings, load_settings
from haoban.simulators.bank.adapter import SandboxBank

ACTOR = Actor(type="system", id="bench")
CARD = "6222020200112233445"
Op = Callable[[uuid.UUID], Awaitable[None]]


def _settings(url: str, pool_max: int) -> Settings:
    return load_settings(
        {
            "DATABASE_URL": url,
            "HAOBAN_SANDBOX": "true",
            "HAOBAN_FIELD_KEYS": "bench1:" + "a" * 43,
            "HAOBAN_TOKEN_HMAC_KEY": "b" * 43,
            "HAOBAN_ISSUER": "https://bench.invalid",
            "HAOBAN_DB_POOL_MAX": str(pool_max),
        }
    )


async def _members(runtime: Runtime, n: int) -> list[uuid.UUID]:
    out = []
    async with unit_of_work(runtime.pool) as conn:
        for _ in range(n):
            citizen_id = await conn.fetchval("INSERT INTO citizens DEFAULT VALUES RETURNING id")
            await ledger.open_member_account(
                conn, citizen_id=citizen_id, opening_balance_fen=10**12, source_ref="bench", at=datetime.now(UTC)
            )
            out.append(citizen_id)
    return out


async def _drive(op: Op, members: list[uuid.UUID], duration: float) -> tuple[int, float]:
    done = 0
    stop_at = time.monotonic() + duration

    async def loop(citizen_id: uuid.UUID) -> None:
        nonlocal done
        while time.monotonic() < stop_at:
            await op(citizen_id)
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(loop(m) for m in members))
    return done, time.monotonic() - started


async def run(url: str, duration: float, concurrency: int) -> dict[str, float]:
    conn = await connect(url)
    try:
        await migrations.migrate(conn)
    finally:
        await conn.close()
    settings = _settings(url, concurrency + 4)
    runtime = build_runtime(settings, database_url=url, clock=SystemClock())
    pool = await create_pool(url, runtime.settings.database)
    runtime.attach_pool(pool)
    runtime.attach(bank=SandboxBank(pool, runtime.clock))
    members = await _members(runtime, concurrency)
    ids = {r: i for i, r in enumerate(members)}

    async def raw(citizen_id: uuid.UUID) -> None:
        async with unit_of_work(runtime.pool) as c:
            account_id = await c.fetchval(
                "UPDATE ledger_accounts SET balance_fen = balance_fen - 1 WHERE citizen_id = $1 AND balance_fen >= 1"
                " RETURNING id",
                citizen_id,
            )
            group_id = await c.fetchval(
                "INSERT INTO ledger_groups (kind, ref, created_at) VALUES ('payout', $1, now()) RETURNING id",
                str(uuid.uuid4()),
            )
            await c.execute(
                "INSERT INTO ledger_entries (group_id, account_id, direction, amount_fen, created_at) VALUES"
                " ($1, $2, 'debit', 1, now()), ($1, (SELECT id FROM ledger_accounts WHERE code = 'hpf:clearing'),"
                " 'credit', 1, now())",
                group_id,
                account_id,
            )

    async def request(citizen_id: uuid.UUID) -> uuid.UUID:
        async with unit_of_work(runtime.pool) as c:
            view = await payouts.request_payout(
                c,
                application_id=uuid.uuid4(),
                citizen_id=citizen_id,
                amount_fen=1 + ids[citizen_id] % 7,
                bank_name="bench",
                card_no=CARD,
                account_name="bench",
                close_account=False,
                actor=ACTOR,
                at=runtime.clock.now(),
                cipher=runtime.cipher,
            )
        return view.payout_id

    async def request_only(citizen_id: uuid.UUID) -> None:
        await request(citizen_id)

    async def request_and_settle(citizen_id: uuid.UUID) -> None:
        settled = await payouts.settle_within(runtime, await request(citizen_id), 2.0)
        if settled.status != "settled":
            raise RuntimeError(f"payout ended {settled.status}")

    results: dict[str, float] = {}
    try:
        for name, op in (("raw", raw), ("request", request_only), ("request+settle", request_and_settle)):
            await _drive(op, members, min(1.0, duration))  # warm-up
            count, elapsed = await _drive(op, members, duration)
            results[name] = count / elapsed
        async with unit_of_work(runtime.pool) as c:
            if await ledger.unbalanced_groups(c):
                raise RuntimeError("unbalanced ledger groups after the run")
    finally:
        await runtime.pool.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="haoban-bench-")))
        server_url = args.database_url or harness.start_embedded(stack, tmp)
        url, version = harness.create_database(stack, server_url)
        results = asyncio.run(run(url, args.duration, args.concurrency))
    base = results["raw"]
    print(f"PostgreSQL {version}, {args.concurrency} concurrent tasks, {args.duration:g} s per scenario\n")
    print("| scenario | ops/s | ratio to raw |\n|---|---:|---:|")
    for name, rate in results.items():
        print(f"| {name} | {rate:,.0f} | {rate / base:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
