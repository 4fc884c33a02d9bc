"""Where a scenario's time went: CPU of the server and of its database backends, and what the
backends were waiting on (sampled from `pg_stat_activity`).

Evidence for a bottleneck, not a benchmark figure: sampling costs a little CPU
of its own, and on a shared machine other processes' PostgreSQL backends are
not counted (only those connected to the bench database are).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg

import cpumeter

SAMPLE_EVERY_S = 0.02


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (0 when it is gone)."""
    stat = cpumeter.process_stat(pid)
    return 0.0 if stat is None else stat[1]


def _group(pgid: int) -> list[int]:
    """Every process in the process group `pgid` (the server and its workers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
            except ProcessLookupError:
                continue
    return pids


_ACTIVITY = (
    "SELECT pid, state, coalesce(wait_event_type || ':' || wait_event, 'on CPU') FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
)


class Probe:
    """`with Probe(db_url, server_pid) as probe: ...` then `probe.result`."""

    def __init__(self, database_url: str, server_pgid: int) -> None:
        self.database_url = database_url
        self.server_pgid = server_pgid
        self.result: dict[str, Any] = {}
        self._stop = threading.Event()
        self._waits: Counter[str] = Counter()
        self._backends: dict[int, float] = {}  # pid -> its CPU seconds when first seen
        self._samples = 0
        self._thread = threading.Thread(target=lambda: asyncio.run(self._sample()), daemon=True)

    async def _sample(self) -> None:
        conn = await asyncpg.connect(self.database_url)
        try:
            while not self._stop.is_set():
                rows = await conn.fetch(_ACTIVITY)
                self._samples += 1
                for pid, state, wait in rows:
                    self._backends.setdefault(pid, _cpu_s(pid))
                    if state == "active":
                        self._waits[wait] += 1
                    elif state == "idle in transaction":
                        self._waits["idle in transaction"] += 1
                await asyncio.sleep(SAMPLE_EVERY_S)
        finally:
            await conn.close()

    def __enter__(self) -> Probe:
        self._server = {pid: _cpu_s(pid) for pid in _group(self.server_pgid)}
        self._thread.start()
        self._start = time.monotonic()
        return self

    def __exit__(self, *_: object) -> None:
        elapsed = time.monotonic() - self._start
        self._stop.set()
        self._thread.join(timeout=5)
        server = sum(_cpu_s(pid) - before for pid, before in self._server.items())
        db = sum(_cpu_s(pid) - before for pid, before in self._backends.items())
        busy = sum(self._waits.values())
        self.result = {
            "wall_s": round(elapsed, 2),
            "server_cpu_pct": round(100 * server / elapsed, 1),
            "db_backends_cpu_pct": round(100 * db / elapsed, 1),
            "samples": self._samples,
            "mean_active_backends": round(busy / self._samples, 2) if self._samples else 0.0,
            "active_backend_states": dict(self._waits.most_common(6)),
        }


def summary(result: dict[str, Any]) -> str:
    if not result:
        return "no probe"
    states = ", ".join(f"{name} {count}" for name, count in result["active_backend_states"].items())
    return (
        f"server CPU {result['server_cpu_pct']}% of one core, DB backends {result['db_backends_cpu_pct']}%; "
        f"{result['mean_active_backends']} backends busy on average; backend-samples by state: {states or 'none'}"
    )
