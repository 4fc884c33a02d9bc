"""Instant-withdrawal throughput, as a ratio to a raw ledger route measured in the same run.

    uv run python bench/run_applications.py [--duration 5] [--rounds 3] [--concurrency 32] [--citizens 4500]

Issue 5's target: `POST /v1/applications {"service_code": "hpf.withdraw.rent"}`
end to end (authorisation, exchange pull, rules, decision, ledger, payout,
outbox, the sandbox bank with no latency, all inside the request) at
**>= 0.4x** the req/s of `POST /sandbox/bench/raw-withdrawal`, which does only
the withdrawal's money part (conditional member debit, one balanced group
member -> clearing, the balance read) in one transaction on the same server.

A citizen withdraws rent money once per period, so every request is distinct:
the run sets up `--citizens` citizens (source records written straight into the
front-end `shared` schema, a `/sandbox/citizens` binding each, an open member
account, a face-verified token minted in-process as `run_oauth.py` does) and
feeds the requests to `run_oauth.py`'s driver in a separate process over
keep-alive connections. Exits 1 when a scenario saw an error (non-2xx) or a
withdrawal was not approved.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import math
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import asyncpg
import httpx

import cpumeter
import harness
import run_oauth
from haoban.db.pool import connect
from haoban.kit import idnumber
from haoban.ledger import service as ledger

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
SERVICE = "hpf.withdraw.rent"
TARGET = 0.4  # issue 5: an instant withdrawal at least 0.4x the raw route
BALANCE_FEN = 3_865_000  # as tests/sandbox/bodies.fund
STEP_UP_S = 300.0  # a face verification counts for five minutes (haoban.identity.stepup)
PAYOUT_BUDGET_MS = 2000  # the server's default HAOBAN_PAYOUT_BUDGET_MS; answers after it say `approved`
PHOTO = b"\xff\xd8\xff\xe0bench"  # pulls read the photo's hash, never the photo


# --- setup: citizens with records, bindings, member accounts, tokens ----------


def id_number(i: int) -> str:
    """Distinct valid ID numbers: 1,000 per birth date."""
    return idnumber.make("410105", date(1985, 1, 1) + timedelta(days=i // 1000), f"{i % 1000:03d}")


def card_no(i: int) -> str:
    return f"6217{i:014d}7"  # 19 digits; never ending in 0000 (the sandbox bank fails those)


async def seed_sources(database_url: str, count: int) -> list[str]:
    """Identity and housing-fund records in the front-end database, as departments would write them."""
    numbers = [id_number(i) for i in range(count)]
    now = datetime.now(UTC)
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            await conn.executemany(
                "INSERT INTO shared.identities (id_number, name, sex, birth_date, address, status, photo,"
                " photo_sha256, updated_at, updated_by) VALUES ($1, '张三', $2, $3, '郑州市金水区花园路 1 号',"
                " 'normal', $4, $5, $6, 'bench')",
                [
                    (n, idnumber.sex(n), idnumber.birth_date(n), PHOTO, hashlib.sha256(PHOTO).hexdigest(), now)
                    for n in numbers
                ],
            )
            await conn.executemany(
                "INSERT INTO shared.hpf_accounts (account_no, id_number, status, balance_fen, monthly_deposit_fen,"
                " contribution_months, employer, bank_name, card_no, loan_outstanding_fen, updated_at, updated_by)"
                " VALUES ($1, $2, 'normal', $3, 120000, 36, '郑州某科技公司', '中国建设银行', $4, 0, $5, 'bench')",
                [(f"BZ{i:08d}", n, BALANCE_FEN, card_no(i), now) for i, n in enumerate(numbers)],
            )
    finally:
        await conn.close()
    return numbers


async def bind_citizens(port: int, numbers: list[str], concurrency: int) -> list[str]:
    """A citizen account bound to each ID number, through `POST /sandbox/citizens`; ids in the same order."""
    ids: list[str] = [""] * len(numbers)
    queue = iter(enumerate(numbers))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30, limits=limits) as http:

        async def worker() -> None:
            for i, number in queue:
                created = await http.post("/sandbox/citizens", json={"id_number": number})
                if created.status_code != 201:
                    raise RuntimeError(f"POST /sandbox/citizens answered {created.status_code}: {created.text}")
                ids[i] = created.json()["citizen_id"]

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ids


async def open_accounts(database_url: str, citizen_ids: list[str], concurrency: int) -> None:
    """Each member account opened with the fund's balance, as a citizen's first withdrawal would open it."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=concurrency)
    try:
        queue = iter(citizen_ids)

        async def worker() -> None:
            for citizen_id in queue:
                async with pool.acquire() as conn, conn.transaction():
                    await ledger.open_member_account(
                        conn,
                        citizen_id=uuid.UUID(citizen_id),
                        opening_balance_fen=BALANCE_FEN,
                        source_ref="bench",
                        at=datetime.now(UTC),
                    )

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    finally:
        await pool.close()


async def face_tokens(env: dict[str, str], citizen_ids: list[str], concurrency: int) -> list[str]:
    """`run_oauth.face_token` for each citizen (a first-party session with a face `acr`), a few at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(citizen_id: str) -> str:
        async with gate:
            return await run_oauth.face_token(env, citizen_id)

    return list(await asyncio.gather(*(one(c) for c in citizen_ids)))


def json_request(port: int, path: str, body: dict[str, Any], headers: list[str] | None = None) -> str:
    payload = json.dumps(body, separators=(",", ":"))
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Connection: keep-alive",
        *(headers or []),
        "Content-Type: application/json",
        f"Content-Length: {len(payload.encode())}",
    ]
    return "\r\n".join([*lines, "", payload])


# --- after the run: what the withdrawals became ------------------------------


async def _payout_statuses(conn: asyncpg.Connection) -> dict[str, int]:
    return {r["status"]: r["n"] for r in await conn.fetch("SELECT status, count(*) AS n FROM payouts GROUP BY 1")}


async def outcomes(database_url: str, settle_wait_s: float) -> dict[str, Any]:
    """Application and payout statuses, how many were paid within the answer's budget, ledger checks."""
    conn = await connect(database_url)
    try:
        answered = dict(
            await conn.fetchrow(
                "SELECT count(*) FILTER (WHERE p.occurred_at - a.occurred_at <= make_interval(secs => $1))"
                " AS paid_in_answer, count(*) AS approved"
                " FROM application_events a LEFT JOIN application_events p"
                " ON p.application_id = a.application_id AND p.to_status = 'paid'"
                " WHERE a.to_status = 'approved'",
                PAYOUT_BUDGET_MS / 1000,
            )
            or {}
        )
        at_end = await _payout_statuses(conn)
        deadline = time.monotonic() + settle_wait_s
        for _ in range(math.ceil(settle_wait_s / 0.2)):  # the outbox worker settles what the budget left open
            if time.monotonic() >= deadline or not set(await _payout_statuses(conn)) & {"requested", "sent", "failed"}:
                break
            await asyncio.sleep(0.2)
        applications = {
            r["status"]: r["n"]
            for r in await conn.fetch(
                "SELECT status, count(*) AS n FROM applications WHERE service_code = $1 GROUP BY 1", SERVICE
            )
        }
        payouts = await _payout_statuses(conn)
        unbalanced = len(await ledger.unbalanced_groups(conn))
        drift = len(await ledger.member_balance_drift(conn))
    finally:
        await conn.close()
    return {
        "answered_paid": answered.get("paid_in_answer", 0),
        "approved": answered.get("approved", 0),
        "payouts_when_load_ended": at_end,
        "applications": applications,
        "payouts": payouts,
        "unbalanced_groups": unbalanced,
        "member_balance_drift": drift,
    }


# --- report ------------------------------------------------------------------


def _num(value: float | None, digits: int) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def cpu_ms(row: dict[str, Any], name: str) -> float | None:
    """CPU milliseconds per answered request that the `name` process tree spent in the window."""
    seconds = row.get("cpu_s", {}).get(name)
    return None if seconds is None or not row["ok"] else 1000 * seconds / row["ok"]


def ceiling(raw: dict[str, Any], withdrawal: dict[str, Any]) -> float | None:
    """The ratio if a withdrawal cost the server no more than a raw request, with its database work as measured.

    Server and database share the machine's cores, so req/s goes as
    1 / (server + database CPU per request).
    """
    costs = [cpu_ms(raw, "server"), cpu_ms(raw, "database"), cpu_ms(withdrawal, "database")]
    if any(c is None for c in costs):
        return None
    raw_server, raw_db, withdrawal_db = (c or 0.0 for c in costs)
    return (raw_server + raw_db) / (raw_server + withdrawal_db)


def render(rows: list[dict[str, Any]], machine: dict[str, Any], money: dict[str, Any]) -> str:
    lines = [
        "| round | scenario | req/s | p50 ms | p99 ms | errors | statuses | server CPU ms/req | database CPU ms/req"
        " | ratio to raw |",
        "|---:|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for row in rows:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(row["statuses"].items()))
        lines.append(
            f"| {row['round']} | {row['scenario']} | {_num(row['rps'], 0)} | {_num(row['p50_ms'], 2)}"
            f" | {_num(row['p99_ms'], 2)}"
            f" | {row['errors']} | {statuses} | {_num(cpu_ms(row, 'server'), 2)}"
            f" | {_num(cpu_ms(row, 'database'), 2)} | {_num(row['ratio_raw'], 3)} |"
        )
    lines.append("")
    lines.extend(f"- {key}: {value}" for key, value in machine.items())
    lines.append(
        f"- withdrawals answered `paid` (paid within {PAYOUT_BUDGET_MS} ms of approval, warm-up included):"
        f" {money['answered_paid']} of {money['approved']} approved; the rest answered `approved`"
    )
    lines.append(
        f"- payouts when the load ended: {money['payouts_when_load_ended']}; after settling: {money['payouts']}"
    )
    lines.append(f"- applications: {money['applications']}")
    lines.append(
        f"- ledger: {money['unbalanced_groups']} unbalanced groups, {money['member_balance_drift']} drifted balances"
    )
    for row in rows:
        if row["errors"]:
            lines.append(f"- ERRORS in {row['scenario']}: {row['errors']} (all outcomes: {row['statuses']})")
        if row.get("connects"):
            lines.append(f"- {row['scenario']}: {row['connects']} new connections while measuring")
        if row.get("pool_exhausted"):
            lines.append(
                f"- {row['scenario']}: the citizens ran out after {row['duration_s']:.2f}s of measuring"
                " (raise --citizens)"
            )
    return "\n".join(lines)


async def _postmaster(db_url: str) -> int | None:
    conn = await connect(db_url)
    try:  # asked while the backend lives: its parent is the postmaster
        return cpumeter.postmaster_of(await conn.fetchval("SELECT pg_backend_pid()"))
    finally:
        await conn.close()


def measured_trees(server_pid: int, db_url: str) -> dict[str, int]:
    """The process trees whose CPU each scenario reports: the server, and the database when it runs here."""
    postmaster = asyncio.run(_postmaster(db_url))
    return {"server": server_pid, **({"database": postmaster} if postmaster else {})}


RAW = "POST /sandbox/bench/raw-withdrawal (baseline)"
WITHDRAWAL = f"POST /v1/applications ({SERVICE}, instant)"


def ratios(rows: list[dict[str, Any]]) -> list[float]:
    return [row["ratio_raw"] for row in rows if row["scenario"] == WITHDRAWAL]


def run_rounds(
    args: argparse.Namespace,
    tmp: Path,
    port: int,
    *,
    raw: list[str],
    apply: list[str],
    cpu_roots: dict[str, int],
    tokens_at: float,
) -> list[dict[str, Any]]:
    """Raw route then withdrawals, `--rounds` times; each withdrawal round has its own citizens.

    Alternating keeps a drift in the machine's speed (other tenants) from
    landing on one scenario only; each round's ratio uses that round's raw run.
    """
    rows: list[dict[str, Any]] = []
    share = len(apply) // args.rounds
    for n in range(args.rounds):
        print(f"  round {n + 1}: raw withdrawal, {args.warmup:g}s warm-up + {args.duration:g}s ...", file=sys.stderr)
        base = {
            "scenario": RAW,
            "round": n + 1,
            **run_oauth.drive(args, tmp, port, raw, repeat=True, cpu_roots=cpu_roots),
        }
        if time.monotonic() - tokens_at + args.warmup + args.duration > STEP_UP_S - 10:
            print("  warning: the last face tokens may be older than five minutes when used", file=sys.stderr)
        print(f"  round {n + 1}: instant withdrawal ...", file=sys.stderr)
        mine = apply[n * share : (n + 1) * share]
        row = {
            "scenario": WITHDRAWAL,
            "round": n + 1,
            **run_oauth.drive(args, tmp, port, mine, repeat=False, cpu_roots=cpu_roots),
        }
        base["ratio_raw"] = 1.0
        row["ratio_raw"] = row["rps"] / base["rps"] if base["rps"] else float("nan")
        row["ceiling"] = ceiling(base, row)
        rows.extend([base, row])
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.add_server_args(parser)
    parser.add_argument("--citizens", type=int, default=4500, help="citizens, one withdrawal each (default 4500)")
    parser.add_argument("--rounds", type=int, default=3, help="raw/withdrawal rounds (default 3)")
    parser.add_argument("--amount-fen", type=int, default=100, help="the raw route's debit (default 100)")
    parser.add_argument("--setup-concurrency", type=int, default=16, help="connections for setup (default 16)")
    parser.add_argument("--settle-wait", type=float, default=15.0, help="seconds to let open payouts settle")
    parser.add_argument("--database-url", help="an existing PostgreSQL server; a fresh database is made in it")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="where the JSON result goes")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0 or min(args.concurrency, args.workers, args.setup_concurrency) < 1:
        parser.error("--duration, --concurrency, --workers and --setup-concurrency must be positive")
    if args.rounds < 1 or args.citizens < args.concurrency * args.rounds or args.amount_fen < 1:
        parser.error("--rounds must be positive, --citizens at least --concurrency per round, --amount-fen positive")
    if 2 * args.rounds * (args.warmup + args.duration) > STEP_UP_S / 2:
        parser.error(f"rounds of warm-up plus duration must stay under {STEP_UP_S / 2:.0f}s (face step-up lasts 5 min)")
    return args


def _on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    signal.signal(signal.SIGTERM, _on_sigterm)
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="haoban-bench-")))
        print("starting the database ...", file=sys.stderr)
        server_url = args.database_url or harness.start_embedded(stack, tmp)
        db_url, pg_version = harness.create_database(stack, server_url)
        port = harness.free_port()
        env = harness.server_env(db_url, port, tmp / "data")
        env["HAOBAN_OUTBOX_WORKER"] = "true"
        if args.db_pool_max:
            env["HAOBAN_DB_POOL_MAX"] = str(args.db_pool_max)
        harness.run_cli(env, "db", "migrate")
        harness.run_cli(env, "keys", "rotate")
        print(f"starting haoban serve on 127.0.0.1:{port} with {args.workers} worker(s) ...", file=sys.stderr)
        server = harness.start_server(stack, env, port, args.workers, tmp / "server.log")
        cpu_roots = measured_trees(server.pid, db_url)
        status, faults = harness.request(
            port, "POST", "/sandbox/bank/faults", {"latency_ms": 0, "failure_rate": 0, "timeout_rate": 0}
        )
        if status != 200:
            raise RuntimeError(f"POST /sandbox/bank/faults answered {status}: {faults}")

        started = time.monotonic()
        print(f"  setting up {args.citizens} citizens ...", file=sys.stderr)
        numbers = asyncio.run(seed_sources(db_url, args.citizens))
        citizen_ids = asyncio.run(bind_citizens(port, numbers, args.setup_concurrency))
        asyncio.run(open_accounts(db_url, citizen_ids, args.setup_concurrency))
        setup_s = time.monotonic() - started
        started = time.monotonic()
        tokens = asyncio.run(face_tokens(env, citizen_ids, args.setup_concurrency))
        mint_s = time.monotonic() - started
        print(f"  set up in {setup_s:.1f}s, {len(tokens)} face tokens in {mint_s:.1f}s", file=sys.stderr)

        raw = [
            json_request(port, "/sandbox/bench/raw-withdrawal", {"citizen_id": c, "amount_fen": args.amount_fen})
            for c in citizen_ids
        ]
        apply = [
            json_request(port, "/v1/applications", {"service_code": SERVICE}, [f"Authorization: Bearer {t}"])
            for t in tokens
        ]
        rows = run_rounds(args, tmp, port, raw=raw, apply=apply, cpu_roots=cpu_roots, tokens_at=started)
        money = asyncio.run(outcomes(db_url, args.settle_wait))
    ratio = statistics.median(ratios(rows))
    ceilings = [c for row in rows if (c := row.get("ceiling")) is not None]
    ceil = statistics.median(ceilings) if ceilings else None
    machine = {
        "cpu count": os.cpu_count(),
        "load average before": load_before,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "litestar": version("litestar"),
        "server workers": args.workers,
        "db pool max per worker": args.db_pool_max or "server default",
        "connections": args.concurrency,
        "duration s": args.duration,
        "warm-up s": args.warmup,
        "citizens": f"{args.citizens} (set up in {setup_s:.1f}s, tokens minted in {mint_s:.1f}s)",
        "generator": "run_oauth.py's driver (asyncio, separate process; one distinct request per citizen)",
        "database": f"PostgreSQL {pg_version} ({'embedded' if args.database_url is None else 'external'})",
        "rounds": f"{args.rounds} (raw then withdrawal in each, a ratio per round; the target takes the median)",
        "target": (
            f"instant withdrawal >= {TARGET}x raw: {'met' if ratio >= TARGET else 'NOT met'}"
            f" (median {ratio:.3f}; rounds {', '.join(f'{r:.3f}' for r in ratios(rows))})"
        ),
        "ceiling": (
            f"median {_num(ceil, 3)}: the ratio if a withdrawal cost the server no more CPU than a raw request"
            " and the database what it cost in its round (server and database share the cores)"
        ),
    }
    print(render(rows, machine, money))
    harness.write_results(args.out, "applications", {"machine": machine, "scenarios": rows, "outcomes": money})
    not_approved = sum(n for s, n in money["applications"].items() if s not in ("approved", "paid"))
    if not_approved:
        print(f"run_applications: {not_approved} withdrawals were not approved", file=sys.stderr)
    return 1 if any(row["errors"] for row in rows) or not_approved else 0


if __name__ == "__main__":
    harness.run(main, "run_applications")
