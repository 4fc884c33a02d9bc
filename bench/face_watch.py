"""Where the CPU went during a run_face.py phase, read from /proc: evidence, not a figure.

For the server's event loop (the `haoban serve` process: one uvicorn worker runs in it), its
face workers (the process pool's children) and the bench database's PostgreSQL backends:
CPU time, and for the event loop also the time its thread was runnable but waiting for a CPU
(`/proc/<pid>/schedstat`, second field). That wait is what a request pays when every core is
busy with face work.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import harness
import probe as pgprobe


class Watch:
    """CPU and run-queue wait of the server's event loop, its face workers and its database backends."""

    def __init__(self, server_pid: int, db_url: str) -> None:
        self.server_pid, self.db_url = server_pid, db_url

    def _pids(self) -> tuple[list[int], list[int]]:
        face = [p for p in pgprobe._group(self.server_pid) if p != self.server_pid and _is_face_worker(p)]
        db = harness.scalar(
            self.db_url,
            "SELECT coalesce(array_agg(pid), '{}') FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        return face, list(db)

    def __enter__(self) -> Watch:
        self.face, self.db = self._pids()
        self.before = {p: pgprobe._cpu_s(p) for p in [self.server_pid, *self.face, *self.db]}
        self.runq = _runq_s(self.server_pid)
        self.start = time.monotonic()
        return self

    def __exit__(self, *_: object) -> None:
        wall = time.monotonic() - self.start
        used = {p: pgprobe._cpu_s(p) - before for p, before in self.before.items()}
        runq = _runq_s(self.server_pid) - self.runq
        self.result = {
            "wall_s": round(wall, 2),
            "loop_cpu_pct": 100 * used[self.server_pid] / wall,
            "loop_runq_ms": 1000 * runq,
            "loop_runq_ms_per_s": 1000 * runq / wall,
            "face_workers": len(self.face),
            "face_cpu_pct": 100 * sum(used[p] for p in self.face) / wall,
            "db_cpu_pct": 100 * sum(used[p] for p in self.db) / wall,
        }


def _is_face_worker(pid: int) -> bool:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"multiprocessing.spawn" in cmd


def _runq_s(pid: int) -> float:
    """Seconds the process's main thread has spent runnable but waiting for a CPU (schedstat)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def renice_face_workers(server_pid: int, niceness: int) -> list[int]:
    """What-if only: lower the face workers' CPU priority (they are this run's own processes)."""
    pids = [p for p in pgprobe._group(server_pid) if p != server_pid and _is_face_worker(p)]
    for pid in pids:
        os.setpriority(os.PRIO_PROCESS, pid, niceness)
    return pids
