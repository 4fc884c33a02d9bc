"""Drive a scenario with `wrk` when it is installed; same result shape as loadgen.py.

wrk counts 3xx as success ("Non-2xx or 3xx responses"); none of the benchmarked
routes redirect, so that line is taken as the non-2xx error count.
"""

from __future__ import annotations

import math
import re
import subprocess
from typing import Any

_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_TIME = r"([\d.]+)(us|ms|s|m|h)"


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS_MS[unit]


def parse(output: str) -> dict[str, Any]:
    """Read the numbers out of `wrk --latency` output."""
    done = re.search(r"(\d+) requests in " + _TIME, output)
    if done is None:
        raise ValueError(f"unexpected wrk output:\n{output}")
    requests = int(done.group(1))
    duration_s = _ms(done.group(2), done.group(3)) / 1e3
    latency = {pct: _ms(v, u) for pct, v, u in re.findall(r"^\s+(50|99)(?:\.0+)?%\s+" + _TIME, output, re.M)}
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    statuses: dict[str, int] = {}
    if non_2xx:
        statuses["non-2xx"] = int(non_2xx.group(1))
    if socket:
        for name, count in zip(("connect", "read", "write", "timeout"), socket.groups(), strict=True):
            if int(count):
                statuses[f"socket-{name}"] = int(count)
    errors = sum(statuses.values())
    ok = requests - statuses.get("non-2xx", 0)
    return {
        "generator": "wrk",
        "requests": requests,
        "ok": ok,
        "errors": errors,
        "statuses": statuses,
        "duration_s": duration_s,
        "rps": ok / duration_s if duration_s > 0 else 0.0,
        "p50_ms": latency.get("50", float("nan")),
        "p99_ms": latency.get("99", float("nan")),
    }


def run(
    wrk: str, url: str, *, headers: list[str], concurrency: int, duration: float, warmup: float, threads: int
) -> dict[str, Any]:
    """Warm up, then measure; wrk takes whole seconds."""
    threads = max(1, min(threads, concurrency))
    base = [wrk, "--latency", f"-t{threads}", f"-c{concurrency}"]
    for header in headers:
        base += ["-H", header]
    if warmup > 0:
        subprocess.run([*base, f"-d{max(1, math.ceil(warmup))}s", url], capture_output=True, check=True)
    done = subprocess.run([*base, f"-d{max(1, math.ceil(duration))}s", url], capture_output=True, text=True, check=True)
    return parse(done.stdout)
