"""Markdown tables for `run_exchange.py` (the JSON holds the same data and more)."""

from __future__ import annotations

import math
from typing import Any

import probe

LINKED_TARGET_X_ME = 0.3
STALL_SLACK_MS = 50


def _n(value: float | None, digits: int) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _throughput(phase: dict[str, Any]) -> list[str]:
    rows, sample = phase["rows"], phase["sample"]
    lines = [
        "### Linked data: all six sources on the front-end database",
        "",
        "| scenario | conns | req/s | p50 ms | p99 ms | errors | x /health/live | x /v1/me |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['scenario']} | {r['concurrency']} | {_n(r['rps'], 0)} | {_n(r['p50_ms'], 2)} "
            f"| {_n(r['p99_ms'], 2)} | {r['errors']} | {_n(r['x_live'], 3)} | {_n(r['x_me'], 3)} |"
        )
    linked = rows[2]
    per_pull = sample["access_log_rows_per_pull"]
    lines += [
        "",
        f"- target: all-six linked data ≥ {LINKED_TARGET_X_ME} x /v1/me: "
        f"**{_met(linked['x_me'] >= LINKED_TARGET_X_ME)}** ({_n(linked['x_me'], 3)})",
        f"- one pull appended {per_pull} hash-chained access-log rows, all under the one head-row lock: "
        f"about {_n(linked['rps'] * per_pull, 0)} rows/s at the rate above",
        f"- sample response: {sample['status']} in {sample['ms']} ms, {sample['outcome']}",
    ]
    lines += [f"- {r['scenario']}: {probe.summary(r['probe'])}" for r in rows]
    return lines


def _stalled(rows: list[dict[str, Any]]) -> list[str]:
    timeout = rows[0]["timeout_ms"]
    lines = [
        f"### One HTTP source stalled (estate via the simulator, source timeout {timeout} ms, breaker held closed)",
        "",
        "| server | scenario | conns | req/s | p50 ms | p99 ms | p99 - timeout ms | errors | estate |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['setup']} | {r['scenario']} | {r['concurrency']} | {_n(r['rps'], 1)} | {_n(r['p50_ms'], 1)} "
            f"| {_n(r['p99_ms'], 1)} | {_n(r['p99_over_timeout_ms'], 1)} | {r['errors']} | {r['estate']} |"
        )
    lines.append("")
    for r in rows:
        if "stalled" in r["scenario"]:
            ok = r["p99_over_timeout_ms"] <= STALL_SLACK_MS
            lines.append(
                f"- target p99 ≤ timeout + {STALL_SLACK_MS} ms with {r['setup']}: **{_met(ok)}** "
                f"({_n(r['p99_over_timeout_ms'], 1)} ms over; {r['estate_calls']} estate calls while measuring)"
            )
    lines += [f"- {r['setup']}, {r['scenario']}: {probe.summary(r['probe'])}" for r in rows]
    return lines


def _breaker(phase: dict[str, Any]) -> list[str]:
    lines = [
        f"### The default breaker (5 failures, 30 s reset; timeout {phase['timeout_ms']} ms)",
        "",
        "| step | requests | estate calls | req/s | p50 ms | p99 / max ms | statuses | estate |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for w in phase["waves"]:
        lines.append(
            f"| {w['step']} (all at once) | {w['requests']} | {w['estate_calls']} | | {_n(w['p50_ms'], 1)} "
            f"| {_n(w['max_ms'], 1)} (max) | {w['statuses']} | {w['estate']} |"
        )
    o = phase["open"]
    lines.append(
        f"| load: {o['scenario']} ({o['concurrency']} conns) | {o['ok'] + o['errors']} | {o['estate_calls']} "
        f"| {_n(o['rps'], 0)} | {_n(o['p50_ms'], 1)} | {_n(o['p99_ms'], 1)} (p99) | {o['statuses']} "
        f"| {o['estate']} (sample) |"
    )
    stalled = [w for w in phase["waves"] if w["step"].startswith("stalled, wave")]
    opened_on_timeouts = any(w["estate_calls"] < w["requests"] for w in stalled[1:])
    lines += [
        "",
        f"- estate calls counted by the simulator; requests include the load generator's warm-up. "
        f"Breaker opened on timeouts alone: **{'yes' if opened_on_timeouts else 'no'}**",
    ]
    return lines


def render(report: dict[str, Any], machine: dict[str, Any], failures: list[str]) -> str:
    lines: list[str] = []
    if "throughput" in report:
        lines += [*_throughput(report["throughput"]), ""]
    if report.get("stalled"):
        lines += [*_stalled(report["stalled"]), ""]
    if "breaker" in report:
        lines += [*_breaker(report["breaker"]), ""]
    lines.extend(f"- {key}: {value}" for key, value in machine.items())
    lines.extend(f"- FAILED: {failure}" for failure in failures)
    return "\n".join(lines)
