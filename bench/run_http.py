"""HTTP throughput of a real `haoban serve`, as ratios to a trivial route measured in the same run.

    uv run python bench/run_http.py [--duration 5] [--concurrency 32] [--workers 1]

Starts a database (embedded in a temp dir unless --database-url), migrates a
fresh database, rotates a signing key, serves in production mode with the
sandbox on, and drives each scenario from a separate load-generator process.
Exits 1 when any scenario saw an error (a non-2xx or a failed connection).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import harness
import wrk_driver

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
GENERATOR_SLACK_S = 30.0


class Scenario:
    def __init__(self, name: str, path: str, what: str, headers: Callable[[], list[str]] | None = None) -> None:
        self.name, self.path, self.what = name, path, what
        self.headers = headers or list


def drive(args: argparse.Namespace, wrk: str | None, port: int, scenario: Scenario) -> dict[str, Any]:
    """One scenario, warm-up included, in a process of its own."""
    headers = scenario.headers()
    if wrk:
        threads = max(1, (os.cpu_count() or 2) // 2)
        url = f"http://127.0.0.1:{port}{scenario.path}"
        return wrk_driver.run(
            wrk,
            url,
            headers=headers,
            concurrency=args.concurrency,
            duration=args.duration,
            warmup=args.warmup,
            threads=threads,
        )
    cmd = [sys.executable, str(BENCH_DIR / "loadgen.py"), "--port", str(port), "--path", scenario.path]
    cmd += ["--concurrency", str(args.concurrency), "--duration", str(args.duration), "--warmup", str(args.warmup)]
    for header in headers:
        cmd += ["--header", header]
    timeout = args.duration + args.warmup + GENERATOR_SLACK_S
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed ({done.returncode}):\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _num(value: float, digits: int) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.{digits}f}"


def render(rows: list[dict[str, Any]], machine: dict[str, Any]) -> str:
    lines = [
        "| scenario | req/s | p50 ms | p99 ms | errors | ratio to baseline |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['scenario']} | {_num(row['rps'], 0)} | {_num(row['p50_ms'], 2)} | {_num(row['p99_ms'], 2)} "
            f"| {row['errors']} | {_num(row['ratio'], 3)} |"
        )
    lines.append("")
    lines.extend(f"- {key}: {value}" for key, value in machine.items())
    failed = [row for row in rows if row["errors"]]
    for row in failed:
        lines.append(f"- ERRORS in {row['scenario']}: {row['errors']} (all outcomes: {row['statuses']})")
    for row in rows:
        if row.get("connects"):
            lines.append(
                f"- {row['scenario']}: {row['connects']} new connections while measuring (keep-alive not held)"
            )
    return "\n".join(lines)


def machine_info(args: argparse.Namespace, generator: str, database: str) -> dict[str, Any]:
    return {
        "cpu count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "litestar": version("litestar"),
        "server workers": args.workers,
        "db pool max per worker": args.db_pool_max or "server default",
        "connections": args.concurrency,
        "duration s": args.duration,
        "warm-up s": args.warmup,
        "generator": generator,
        "database": database,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.add_server_args(parser)
    parser.add_argument("--database-url", help="an existing PostgreSQL server; a fresh database is made in it")
    parser.add_argument("--generator", choices=["auto", "python", "wrk"], default="auto", help="auto: wrk if on PATH")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="where the JSON result goes")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0 or args.concurrency < 1 or args.workers < 1:
        parser.error("--duration and --concurrency and --workers must be positive, --warmup not negative")
    if args.warmup + args.duration > harness.ACCESS_TTL_S - 60:
        parser.error(f"warm-up plus duration must stay under {harness.ACCESS_TTL_S - 60}s (the token's lifetime)")
    return args


def _on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the ExitStack like Ctrl-C does


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    wrk = shutil.which("wrk") if args.generator != "python" else None
    if args.generator == "wrk" and wrk is None:
        print("wrk is not on PATH", file=sys.stderr)
        return 2
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="haoban-bench-")))
        print("starting the database ...", file=sys.stderr)
        server_url = args.database_url or harness.start_embedded(stack, tmp)
        db_url, pg_version = harness.create_database(stack, server_url)
        port = harness.free_port()
        env = harness.server_env(db_url, port, tmp / "data")
        if args.db_pool_max:
            env["HAOBAN_DB_POOL_MAX"] = str(args.db_pool_max)
        harness.run_cli(env, "db", "migrate")
        harness.run_cli(env, "keys", "rotate")
        print(f"starting haoban serve on 127.0.0.1:{port} with {args.workers} worker(s) ...", file=sys.stderr)
        harness.start_server(stack, env, port, args.workers, tmp / "server.log")

        def bearer() -> list[str]:
            return [f"Authorization: Bearer {harness.sandbox_token(port)}"]

        scenarios = [
            Scenario("GET /health/live", "/health/live", "trivial route: the framework ceiling (baseline)"),
            Scenario("GET /health/ready", "/health/ready", "one pool checkout + outbox backlog"),
            Scenario("GET /v1/me", "/v1/me", "ES256 verify + session query + citizen query", bearer),
        ]
        rows: list[dict[str, Any]] = []
        for scenario in scenarios:
            print(f"  {scenario.name}: {args.warmup:g}s warm-up + {args.duration:g}s ...", file=sys.stderr)
            result = drive(args, wrk, port, scenario)
            rows.append({"scenario": scenario.name, "what": scenario.what, **result})
    baseline = rows[0]["rps"]
    for row in rows:
        row["ratio"] = row["rps"] / baseline if baseline else float("nan")
    where = "embedded" if args.database_url is None else "external"
    generator = "wrk" if wrk else "python (asyncio, separate process)"
    machine = machine_info(args, generator, f"PostgreSQL {pg_version} ({where})")
    print(render(rows, machine))
    harness.write_results(args.out, "http", {"machine": machine, "scenarios": rows})
    return 1 if any(row["errors"] for row in rows) else 0


if __name__ == "__main__":
    harness.run(main, "run_http")
