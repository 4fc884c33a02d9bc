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

_TICK = os.sysconf("SC_CLK_TCK")


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
        self.db_runq = {p: _runq_s(p) for p in self.db}
        self.machine, self.psi = _machine_busy_s(), _psi_some_s()
        self.start = time.monotonic()
        return self

    def __exit__(self, *_: object) -> None:
        wall = time.monotonic() - self.start
        used = {p: pgprobe._cpu_s(p) - before for p, before in self.before.items()}
        runq = _runq_s(self.server_pid) - self.runq
        db_runq = sum(max(0.0, _runq_s(p) - before) for p, before in self.db_runq.items())  # 0 once gone
        machine, psi = _machine_busy_s() - self.machine, _psi_some_s() - self.psi
        self.result = {
            "wall_s": round(wall, 2),
            "loop_cpu_pct": 100 * used[self.server_pid] / wall,
            "loop_runq_ms": 1000 * runq,
            "loop_runq_ms_per_s": 1000 * runq / wall,
            "db_runq_ms_per_s": 1000 * db_runq / wall,  # all the server's backends together
            "face_workers": len(self.face),
            "face_cpu_pct": 100 * sum(used[p] for p in self.face) / wall,
            "db_cpu_pct": 100 * sum(used[p] for p in self.db) / wall,
            "machine_cpu_pct": 100 * machine / wall,  # every process on the machine, ours included
            "cpu_pressure_pct": 100 * psi / wall,  # share of the time some task waited for a CPU
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


def _machine_busy_s() -> float:
    """CPU-seconds spent busy on all CPUs since boot (/proc/stat: everything but idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / _TICK


def _psi_some_s() -> float:
    """Seconds in which at least one runnable task waited for a CPU (/proc/pressure/cpu), 0 without PSI."""
    try:
        some = Path("/proc/pressure/cpu").read_text().splitlines()[0]
        return int(some.rsplit("total=", 1)[1]) / 1e6
    except (OSError, IndexError, ValueError):
        return 0.0


def renice_face_workers(server_pid: int, niceness: int) -> list[int]:
    """What-if only: lower the face workers' CPU priority (they are this run's own processes)."""
    pids = [p for p in pgprobe._group(server_pid) if p != server_pid and _is_face_worker(p)]
    for pid in pids:
        os.setpriority(os.PRIO_PROCESS, pid, niceness)
    return pids
