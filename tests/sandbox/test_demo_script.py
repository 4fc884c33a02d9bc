"""scripts/demo_face.py, run three times in a row against one `haoban serve --demo` process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import server_env
from tests.processes import KEEP_ENV, free_port, side_process

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo_server(db_url: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {**server_env(db_url, HAOBAN_MODE="demo", HAOBAN_DATA_DIR=str(tmp_path / "var"))}
    env.pop("HAOBAN_TEST_DEPLOYMENT")
    command = ["env", *(f"{k}={v}" for k, v in env.items())]
    command += [sys.executable, "-m", "haoban.cli", "serve", "--demo", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with side_process(command, ready_url=f"{base}/health/ready", what="demo server"):
        yield base


@pytest.mark.slow
def test_the_demo_script_runs_three_times_on_one_server(demo_server: str) -> None:
    outputs = []
    for _ in range(3):
        run = subprocess.run(
            [sys.executable, str(ROOT / "scripts/demo_face.py"), "--base", demo_server],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            cwd=ROOT.parent,  # not the checkout: the script needs only the installed package
            env={k: v for k, v in os.environ.items() if k in KEEP_ENV},
        )
        assert run.returncode == 0, run.stdout + run.stderr
        outputs.append(run.stdout)
    first, *later = outputs
    assert "register: 201" in first
    for out in later:
        assert "already registered; logging in instead" in out
    for out in outputs:
        assert "face login: 200 urn:haoban:loa:face" in out
        # Fresh frames every run: the same frames would be refused on all ten tries and the run would fail.
        # A set that happens to look like a stored one is retaken, as a phone would (how often is luck).
    assert "rent withdrawal: 201 paid" in first
