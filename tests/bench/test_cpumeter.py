"""The bench's CPU split: process trees are summed, and a backend leads to its postmaster."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import cpumeter

BURN = (
    "import time\n"
    "end = time.process_time() + 0.4\n"
    "while time.process_time() < end: pass\n"
    "print('done', flush=True)\n"
    "time.sleep(30)\n"
)


def test_a_tree_counts_its_children_and_only_them() -> None:
    child = subprocess.Popen([sys.executable, "-c", BURN], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "done"
        seconds = cpumeter.tree_seconds({"child": child.pid, "me": os.getpid()})
        assert seconds["child"] >= 0.35
        assert seconds["me"] >= seconds["child"]  # the child is in my tree
        assert cpumeter.tree_seconds({"gone": 2**22 + 7}) == {"gone": 0.0}
    finally:
        child.kill()
        child.wait()


async def test_a_live_backend_leads_to_its_postmaster(db_url: str) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        backend = await conn.fetchval("SELECT pg_backend_pid()")
        postmaster = cpumeter.postmaster_of(backend)
        assert postmaster is not None
        assert postmaster != backend
        before = cpumeter.tree_seconds({"db": postmaster})["db"]
        await conn.execute("SELECT count(*) FROM generate_series(1, 3000000)")
        await asyncio.sleep(0.05)
        assert cpumeter.tree_seconds({"db": postmaster})["db"] > before
    finally:
        await conn.close()
    assert cpumeter.postmaster_of(os.getpid()) is None  # not a PostgreSQL process
