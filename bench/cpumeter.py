"""CPU seconds spent by process trees (Linux /proc), to split a scenario's cost per request.

The driver samples the trees when its measured window opens and when it
closes, so warm-up and setup are not charged. A tree is a root pid and every
descendant alive at that moment: the server and its workers, or the postmaster
and its backends. Where /proc is missing the meter reports nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
_TICK = os.sysconf("SC_CLK_TCK")


def process_stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds) of a live process, None when it is gone."""
    try:
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK  # ppid; utime, stime (fields 14, 15)


def _all() -> dict[int, tuple[int, float]]:
    found: dict[int, tuple[int, float]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (stat := process_stat(int(entry.name))) is not None:
            found[int(entry.name)] = stat
    return found


def tree_seconds(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of each named tree, keyed by name."""
    if not PROC.is_dir():
        return {}
    procs = _all()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in procs.items():
        children.setdefault(parent, []).append(pid)
    totals: dict[str, float] = {}
    for name, root in roots.items():
        todo, total = [root], 0.0
        while todo:
            pid = todo.pop()
            if pid in procs:
                total += procs[pid][1]
            todo.extend(children.get(pid, ()))
        totals[name] = total
    return totals


def postmaster_of(backend_pid: int) -> int | None:
    """The postmaster of a local PostgreSQL backend (its parent), or None when it is not on this machine."""
    stat = process_stat(backend_pid)
    if stat is None:
        return None
    try:  # a pid from another pid namespace (a container) may name an unrelated process here
        command = (PROC / str(stat[0]) / "cmdline").read_bytes()
    except OSError:
        return None
    return stat[0] if b"postgres" in command or b"pginstall" in command else None
