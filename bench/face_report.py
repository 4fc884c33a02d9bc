"""The two tables of run_face.py and the lines of evidence under them."""

from __future__ import annotations

import os
import statistics
from typing import Any

LOGIN_TARGET = 1.2  # face-login p50 over the fair baseline's p50 (issue 20)
NONFACE_TARGET = 1.5  # a non-face route's p99 with the face pool saturated over its idle p99


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (like loadgen.py)."""
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, round(p / 100 * len(ordered)))) - 1]


def latency_row(name: str, seconds: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    return {
        "what": name,
        "n": len(ms),
        "p50_ms": statistics.median(ms) if ms else None,
        "p95_ms": pct(ms, 95) if ms else None,
        "max_ms": max(ms, default=None),
    }


def _n(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _verdict(ratio: float | None, target: float) -> str:
    if ratio is None:
        return "not measured"
    if ratio <= target:
        return f"met ({ratio:.2f} <= {target})"
    return f"MISSED: {ratio:.2f} > {target}, {ratio / target - 1:.0%} over the target"


def login_table(rows: list[dict[str, Any]], seq: float, fair: float) -> list[str]:
    lines = [
        "| what | n | p50 ms | p95 ms | max ms | p50 x sequential | p50 x parallel (fair) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        p50 = row["p50_ms"]
        x_seq = None if p50 is None else p50 / seq
        x_fair = None if p50 is None else p50 / fair
        lines.append(
            f"| {row['what']} | {row['n']} | {_n(p50)} | {_n(row['p95_ms'])} | {_n(row['max_ms'])} "
            f"| {_n(x_seq, 2)} | {_n(x_fair, 2)} |"
        )
    return lines


def probe_table(rows: list[dict[str, Any]], idle_p99: float | None) -> list[str]:
    lines = [
        "| phase | requests | p50 ms | p90 ms | p99 ms | max ms | errors | sent late | p99 x idle |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        p99 = row["p99_ms"]
        ratio = None if p99 is None or not idle_p99 else p99 / idle_p99
        lines.append(
            f"| {row['phase']} | {row['requests']} | {_n(row['p50_ms'], 2)} | {_n(row['p90_ms'], 2)} "
            f"| {_n(p99, 2)} | {_n(row['max_ms'], 2)} | {row['errors']} | {row['sent_late']} | {_n(ratio, 2)} |"
        )
    return lines


def _processes(n: int) -> str:
    return f"{n} process" if n == 1 else f"{n} processes"


def _evidence(name: str, ev: dict[str, Any], client_runq: float | None = None) -> str:
    client = "" if client_runq is None else f"; the probe client itself {client_runq:.0f} ms per s"
    return (
        f"- {name}: CPU: event loop {ev['loop_cpu_pct']:.0f}%, face workers {ev['face_cpu_pct']:.0f}% "
        f"({_processes(ev['face_workers'])}), PostgreSQL backends {ev['db_cpu_pct']:.0f}%, whole machine "
        f"{ev['machine_cpu_pct']:.0f}% of {os.cpu_count()}00%; runnable but waiting for a CPU: event loop "
        f"{ev['loop_runq_ms_per_s']:.0f} ms per s, PostgreSQL backends {ev['db_runq_ms_per_s']:.0f} ms per s"
        f"{client}; CPU pressure (some) {ev['cpu_pressure_pct']:.0f}%"
    )


def render(report: dict[str, Any]) -> str:
    base = report["baseline"]
    seq_rows = latency_row("raw face_recognition, 1 process, sequential", base["sequential"]["seconds"])
    workers = base["workers"]
    par_rows = latency_row(
        f"raw face_recognition, {_processes(workers)}, best schedule (fair baseline)", base["parallel"]["seconds"]
    )
    login = latency_row("POST /v1/auth/face-login over HTTP (end to end)", report["logins"]["login_s"])
    challenge = latency_row("POST /v1/auth/face/challenges (before each login)", report["logins"]["challenge_s"])
    seq, fair = seq_rows["p50_ms"], par_rows["p50_ms"]
    ratio = None if login["p50_ms"] is None else login["p50_ms"] / fair
    report["targets"] = {"login_p50_x_fair": ratio}
    frames = base["frames_per_attempt"]
    lines = [
        f"### Face login at concurrency 1 ({frames} frames, {base['encoded_per_attempt']} encoded)",
        "",
        *login_table([seq_rows, par_rows, login, challenge], seq, fair),
        "",
        f"- target: face-login p50 <= {LOGIN_TARGET} x the fair baseline: {_verdict(ratio, LOGIN_TARGET)}",
        f"- against the sequential baseline: {_n(None if ratio is None else login['p50_ms'] / seq, 2)} x",
        f"- login answers: {report['logins']['statuses']}",
        f"- the sequential baseline used {base['sequential']['cpu_per_wall']:.2f} CPU-seconds per second "
        "(1.00 = one core)",
        _evidence("while logging in", report["logins"]["evidence"]),
    ]
    probes = report["probes"]
    idle = probes[0]["p99_ms"]
    saturated = next((p for p in probes if p["phase"].startswith("face pool saturated")), None)
    nonface = None if saturated is None or saturated["p99_ms"] is None or not idle else saturated["p99_ms"] / idle
    report["targets"]["nonface_p99_x_idle"] = nonface
    rate = probes[0]["rate"]
    lines += [
        "",
        f"### GET /v1/me at {rate:g} requests/s, idle and with the face pool saturated",
        "",
        *probe_table(probes, idle),
        "",
        f"- target: p99 saturated <= {NONFACE_TARGET} x p99 idle: {_verdict(nonface, NONFACE_TARGET)}",
    ]
    for probe in probes:
        if "load" in probe:
            load = probe["load"]
            lines.append(
                f"- {probe['phase']}: the load process ({load['concurrency']} concurrent attempts on unknown ID "
                f"numbers) got {load['answers']} in {load['seconds']:.0f} s "
                f"({load['attempts_per_s']:.1f} face attempts/s; 503 face_busy: {load['face_busy']})"
            )
    lines += [_evidence(p["phase"], p["evidence"], p["client_runq_ms_per_s"]) for p in probes]
    lines += ["", *(f"- {key}: {value}" for key, value in report["machine"].items())]
    return "\n".join(lines)
