"""Linked data (`GET /v1/me/linked-data`) under load, and with one HTTP source stalled.

    uv run python bench/run_exchange.py [--duration 5] [--concurrency 32] [--stall-concurrency 16]

Three phases, each against a fresh `haoban serve` on the same database:

1. throughput: all six sources on the front-end database; linked data next to
   /health/live and /v1/me, as ratios to both.
2. stalled: estate switched to the HTTP adapter pointed at the source
   simulator, which is told to stall; p99 against the source timeout. The
   breaker is set to 1000 failures so that it stays closed while measuring. Run
   once with the server's default pool and once with a pool larger than the
   number of connections.
3. breaker: the same with the default breaker; waves of concurrent requests show
   the timeouts before it opens and the fast refusals after.

Exits 1 when a scenario saw an error or a sampled response was not as expected.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import dataclasses
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import exchange_report
import exchange_seed as seed
import harness
import probe
import run_http

LINKED = "/v1/me/linked-data"
BREAKER_FAILURES_WHILE_MEASURING = 1000  # the most the server accepts


@dataclasses.dataclass
class Run:
    args: argparse.Namespace
    wrk: str | None
    db_url: str
    env: dict[str, str]  # one set of secrets for every server: the citizen's ID number is encrypted with them
    tmp: Path
    citizen_id: str = ""
    sim_port: int = 0
    failures: list[str] = dataclasses.field(default_factory=list)

    def serve(self, stack: contextlib.ExitStack, name: str, extra: dict[str, str]) -> tuple[int, int]:
        """A server for one phase; (port, process group id)."""
        port = harness.free_port()
        env = {**self.env, "HAOBAN_ISSUER": f"http://127.0.0.1:{port}", **extra}
        print(f"phase {name}: haoban serve on 127.0.0.1:{port} {extra or ''}", file=sys.stderr)
        proc = harness.start_server(stack, env, port, self.args.workers, self.tmp / f"server-{name}.log")
        return port, proc.pid

    def measure(self, port: int, pgid: int, name: str, path: str, concurrency: int, **extra: Any) -> dict[str, Any]:
        """One load-generator scenario with a fresh token, probed; a row for the report."""
        print(
            f"  {name} ({concurrency} conns): {self.args.warmup:g}s warm-up + {self.args.duration:g}s", file=sys.stderr
        )
        args = argparse.Namespace(**{**vars(self.args), "concurrency": concurrency})
        headers: Callable[[], list[str]] = list
        if path != "/health/live":
            headers = lambda: [f"Authorization: Bearer {seed.token(port, self.citizen_id)}"]  # noqa: E731
        with probe.Probe(self.db_url, pgid) as watch:
            result = run_http.drive(args, self.wrk, port, run_http.Scenario(name, path, name, headers))
        if result["errors"]:
            self.failures.append(f"{name}: {result['errors']} errors {result['statuses']}")
        return {"scenario": name, "path": path, "concurrency": concurrency, **result, "probe": watch.result, **extra}

    def sample(self, port: int) -> tuple[int, float, dict[str, str]]:
        """One linked-data request: (status, ms, source -> outcome)."""
        started = time.perf_counter()
        status, body = harness.request(port, "GET", LINKED, headers=seed.auth(port, self.citizen_id))
        elapsed = (time.perf_counter() - started) * 1000
        return status, elapsed, seed.outcome(body) if status == 200 else {"error": str(body)}

    def control(self, **setting: Any) -> dict[str, Any]:
        status, state = harness.request(self.sim_port, "POST", "/control", setting)
        if status != 200:
            raise RuntimeError(f"POST /control answered {status}: {state}")
        return dict(state)

    def sim_requests(self) -> int:
        status, state = harness.request(self.sim_port, "GET", "/control")
        if status != 200:
            raise RuntimeError(f"GET /control answered {status}: {state}")
        return int(state["requests"])

    def expect(self, what: str, ok: bool) -> None:
        if not ok:
            self.failures.append(what)


def throughput(run: Run, stack: contextlib.ExitStack) -> dict[str, Any]:
    port, pgid = run.serve(stack, "throughput", {})
    run.citizen_id = seed.seed(port)
    before = harness.scalar(run.db_url, "SELECT last_seq FROM data_access_log_head")
    status, ms, outcome = run.sample(port)
    rows_per_pull = harness.scalar(run.db_url, "SELECT last_seq FROM data_access_log_head") - before
    run.expect(f"linked data sample: {status} {outcome}", status == 200 and set(outcome.values()) == {"ok"})
    conns = run.args.concurrency
    rows = [
        run.measure(port, pgid, "GET /health/live", "/health/live", conns),
        run.measure(port, pgid, "GET /v1/me", "/v1/me", conns),
        run.measure(port, pgid, f"GET {LINKED} (all six)", LINKED, conns),
        run.measure(port, pgid, f"GET {LINKED}?sources=social_security", LINKED + "?sources=social_security", conns),
    ]
    live, me = rows[0]["rps"], rows[1]["rps"]
    for row in rows:
        row["x_live"] = row["rps"] / live if live else float("nan")
        row["x_me"] = row["rps"] / me if me else float("nan")
    sample = {"status": status, "ms": round(ms, 1), "outcome": outcome, "access_log_rows_per_pull": rows_per_pull}
    return {"rows": rows, "sample": sample}


def stalled(run: Run, stack: contextlib.ExitStack, pool_max: int | None) -> list[dict[str, Any]]:
    timeout = run.args.timeout_ms
    extra = {
        "HAOBAN_SOURCE_ESTATE_URL": f"http://127.0.0.1:{run.sim_port}",
        "HAOBAN_SOURCE_TIMEOUT_MS": str(timeout),
        "HAOBAN_SOURCE_BREAKER_FAILURES": str(BREAKER_FAILURES_WHILE_MEASURING),
    }
    setup = "default pool (10)"
    if pool_max:
        extra["HAOBAN_DB_POOL_MAX"] = str(pool_max)
        setup = f"pool {pool_max}"
    port, pgid = run.serve(stack, f"stalled-pool-{pool_max or 'default'}", extra)
    conns = run.args.stall_concurrency
    run.control(stall=False)
    healthy = run.measure(port, pgid, "estate over HTTP, healthy", LINKED, conns, setup=setup)
    healthy["estate"] = run.sample(port)[2].get("estate")
    run.control(stall=True)
    status, ms, first = run.sample(port)
    calls_before = run.sim_requests()
    stall = run.measure(port, pgid, "estate over HTTP, stalled", LINKED, conns, setup=setup)
    calls = run.sim_requests() - calls_before
    status_after, _, after = run.sample(port)
    run.control(stall=False)
    for name, code, outcome in (("first", status, first), ("last", status_after, after)):
        ok = code == 200 and outcome.get("estate") == "unavailable:timeout"
        ok = ok and all(v == "ok" for k, v in outcome.items() if k != "estate")
        run.expect(f"stalled sample ({name}, {setup}): {code} {outcome}", ok)
    if calls > BREAKER_FAILURES_WHILE_MEASURING:
        run.failures.append(f"{calls} estate calls while stalled: the breaker may have opened; shorten --duration")
    stall["estate"] = f"{after.get('estate')} (first sample {first.get('estate')} in {ms:.0f} ms)"
    stall["estate_calls"] = calls
    for row in (healthy, stall):
        row["timeout_ms"] = timeout
        row["p99_over_timeout_ms"] = row["p99_ms"] - timeout
    return [healthy, stall]


def _wave(run: Run, port: int, size: int, label: str) -> dict[str, Any]:
    """`size` linked-data requests at once, each on its own connection; counts the calls the source saw."""
    tokens = [seed.auth(port, run.citizen_id) for _ in range(size)]

    def one(headers: dict[str, str]) -> tuple[int, float, str]:
        started = time.perf_counter()
        status, body = harness.request(port, "GET", LINKED, headers=headers)
        estate = seed.outcome(body).get("estate", "?") if status == 200 else f"status {status}"
        return status, (time.perf_counter() - started) * 1000, estate

    calls = run.sim_requests()
    with concurrent.futures.ThreadPoolExecutor(max_workers=size) as pool:
        answers = list(pool.map(one, tokens))
    latencies = sorted(ms for _, ms, _ in answers)
    return {
        "step": label,
        "requests": size,
        "estate_calls": run.sim_requests() - calls,
        "statuses": dict(Counter(str(s) for s, _, _ in answers)),
        "p50_ms": statistics.median(latencies),
        "max_ms": latencies[-1],
        "estate": dict(Counter(e for _, _, e in answers)),
    }


def breaker(run: Run, stack: contextlib.ExitStack) -> dict[str, Any]:
    """Stalled waves (does a timeout open the breaker?), a wave of 503s (which should), then load on it open."""
    extra = {
        "HAOBAN_SOURCE_ESTATE_URL": f"http://127.0.0.1:{run.sim_port}",
        "HAOBAN_SOURCE_TIMEOUT_MS": str(run.args.timeout_ms),
    }
    port, pgid = run.serve(stack, "breaker", extra)
    size = run.args.stall_concurrency
    run.control(stall=True)
    waves = [_wave(run, port, size, f"stalled, wave {i}") for i in (1, 2, 3)]
    run.control(failure_rate=1.0)
    waves.append(_wave(run, port, size, "every call answered 503"))
    run.control(stall=True)
    waves.append(_wave(run, port, size, "stalled again"))
    calls = run.sim_requests()
    opened = run.measure(port, pgid, "estate stalled, after the 503s", LINKED, size)
    opened["estate_calls"] = run.sim_requests() - calls
    opened["estate"] = run.sample(port)[2].get("estate")
    run.control(stall=False)
    run.expect(f"breaker waves: {waves}", all(set(w["statuses"]) == {"200"} for w in waves))
    return {"waves": waves, "open": opened, "timeout_ms": run.args.timeout_ms}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--duration", type=float, default=5.0, help="measured seconds per scenario (default 5)")
    add("--warmup", type=float, default=1.0, help="unmeasured seconds before each (default 1)")
    add("--concurrency", type=int, default=32, help="connections for the throughput phase (default 32)")
    add("--stall-concurrency", type=int, default=16, help="connections with a stalled source (default 16)")
    add("--timeout-ms", type=int, default=500, help="HAOBAN_SOURCE_TIMEOUT_MS when stalled (default 500)")
    add("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    add("--database-url", help="an existing PostgreSQL server; a fresh database is made in it")
    add("--generator", choices=["auto", "python", "wrk"], default="auto", help="auto: wrk if on PATH")
    add("--out", type=Path, default=run_http.RESULTS_DIR, help="where the JSON result goes")
    add("--phases", default="throughput,stalled,breaker", help="comma-separated subset of the three phases")
    args = parser.parse_args(argv)
    args.db_pool_max = None  # per phase; see the stalled phase
    if unknown := set(args.phases.split(",")) - {"throughput", "stalled", "breaker"}:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    if args.duration <= 0 or args.warmup < 0 or min(args.concurrency, args.stall_concurrency, args.workers) < 1:
        parser.error("--duration, the concurrencies and --workers must be positive, --warmup not negative")
    if args.warmup + args.duration > harness.ACCESS_TTL_S - 60:
        parser.error(f"warm-up plus duration must stay under {harness.ACCESS_TTL_S - 60}s (the token's lifetime)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    phases = set(args.phases.split(","))
    signal.signal(signal.SIGTERM, run_http._on_sigterm)
    wrk = shutil.which("wrk") if args.generator != "python" else None
    if args.generator == "wrk" and wrk is None:
        print("wrk is not on PATH", file=sys.stderr)
        return 2
    report: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="haoban-bench-")))
        print("starting the database ...", file=sys.stderr)
        server_url = args.database_url or harness.start_embedded(stack, tmp)
        db_url, pg_version = harness.create_database(stack, server_url)
        env = harness.server_env(db_url, 0, tmp / "data")
        harness.run_cli(env, "db", "migrate")
        harness.run_cli(env, "keys", "rotate")
        run = Run(args, wrk, db_url, env, tmp)
        with contextlib.ExitStack() as phase:
            report["throughput"] = throughput(run, phase)  # seeds the citizen, so it always runs
        if phases & {"stalled", "breaker"}:
            run.sim_port = harness.free_port()
            harness.start_simulator(stack, db_url, run.sim_port, tmp / "simulator.log")
        if "stalled" in phases:
            report["stalled"] = []
            for pool_max in (None, args.stall_concurrency + 4):
                with contextlib.ExitStack() as phase:
                    report["stalled"] += stalled(run, phase, pool_max)
        if "breaker" in phases:
            with contextlib.ExitStack() as phase:
                report["breaker"] = breaker(run, phase)
    where = "embedded" if args.database_url is None else "external"
    generator = "wrk" if wrk else "python (asyncio, separate process)"
    machine = run_http.machine_info(args, generator, f"PostgreSQL {pg_version} ({where})")
    machine.pop("db pool max per worker")
    print(exchange_report.render(report, machine, run.failures))
    harness.write_results(args.out, "exchange", {"machine": machine, **report, "failures": run.failures})
    return 1 if run.failures else 0


if __name__ == "__main__":
    harness.run(main, "run_exchange")
