"""Set up what a benchmark runs against: a database, a migrated schema, a server.

Every step registers its own cleanup on an ExitStack, so the server is killed
and the embedded database stopped however the run ends (error, Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import http.client
import json
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
ACCESS_TTL_S = 900  # the longest the server allows; the token is minted just before its scenario


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def start_embedded(stack: contextlib.ExitStack, tmp: Path) -> str:
    from haoban.db.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(tmp / "pgdata", delete_on_exit=True)
    stack.callback(server.stop)  # registered first so a half-started server is cleaned up too
    return server.start()


async def _admin(url: str, sql: str) -> Any:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


def scalar(url: str, sql: str) -> Any:
    """One value from one query, on a short-lived connection (for checks around a scenario)."""
    return asyncio.run(_admin(url, sql))


def create_database(stack: contextlib.ExitStack, server_url: str) -> tuple[str, str]:
    """A fresh database for this run, dropped at the end; returns (url, server version)."""
    name = f"haoban_bench_{uuid.uuid4().hex[:12]}"
    version = asyncio.run(_admin(server_url, "SHOW server_version"))
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    stack.callback(lambda: asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))
    return with_database(server_url, name), str(version)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(database_url: str, port: int, data_dir: Path) -> dict[str, str]:
    """Production mode with the sandbox on, fresh secrets, nothing inherited from HAOBAN_* in the shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAOBAN_") and k != "DATABASE_URL"}
    env.update(
        {
            "DATABASE_URL": database_url,
            "HAOBAN_MODE": "production",
            "HAOBAN_SANDBOX": "true",
            "HAOBAN_TEST_DEPLOYMENT": "true",  # loopback, throwaway database: serve warns instead of refusing
            "HAOBAN_DATA_DIR": str(data_dir),
            "HAOBAN_FIELD_KEYS": "bench1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "HAOBAN_TOKEN_HMAC_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "HAOBAN_ISSUER": f"http://127.0.0.1:{port}",
            "HAOBAN_ALLOW_HTTP_ISSUER": "true",
            "HAOBAN_ACCESS_TOKEN_TTL_S": str(ACCESS_TTL_S),
            # One address and a few identities make every request: abuse limits would stop the load.
            "HAOBAN_LIMITS_SCALE": "1000",
            "HAOBAN_APP_ATTESTATION": "optional",
        }
    )
    return env


def run_cli(env: dict[str, str], *args: str) -> str:
    """Run `haoban ...` as a subprocess; raise with its output if it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "haoban.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"haoban {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's own process group (it and its workers), then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def start_server(
    stack: contextlib.ExitStack, env: dict[str, str], port: int, workers: int, log: Path
) -> subprocess.Popen[bytes]:
    """`haoban serve` in its own session (Ctrl-C reaches us, not it); returns once /health/ready is 200."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "haoban.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                f"{port}",
                "--workers",
                f"{workers}",
            ],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack.callback(_stop_group, proc)
    _wait_ready(proc, port, "/health/ready", "haoban serve", log)
    return proc


def _wait_ready(proc: subprocess.Popen[bytes], port: int, path: str, what: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{_tail(log)}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            status, _ = request(port, "GET", path, timeout=2)
            if status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} was not ready after {READY_TIMEOUT_S:.0f}s:\n{_tail(log)}")


def start_simulator(stack: contextlib.ExitStack, database_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    """The source-department simulator (`haoban.simulators.sources.server`) on `port`, reading `database_url`."""
    cmd = [sys.executable, "-m", "haoban.simulators.sources.server", "--database-url", database_url]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*cmd, "--host", "127.0.0.1", "--port", f"{port}"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack.callback(_stop_group, proc)
    _wait_ready(proc, port, "/control", "the source simulator", log)
    return proc


def request(
    port: int,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    timeout: float = 10,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = None if body is None else json.dumps(body).encode()
        sent = {**({} if body is None else {"Content-Type": "application/json"}), **(headers or {})}
        conn.request(method, path, body=payload, headers=sent)
        response = conn.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        conn.close()


def _post(port: int, path: str) -> tuple[int, Any]:
    try:
        return request(port, "POST", path, {})
    except TimeoutError:
        raise RuntimeError(f"POST {path} did not answer within 10s") from None


def sandbox_token(port: int) -> str:
    """A test citizen and an access token for it, through the sandbox routes."""
    status, citizen = _post(port, "/sandbox/citizens")
    if status not in (200, 201):
        raise RuntimeError(f"POST /sandbox/citizens answered {status}: {citizen}")
    citizen_id = citizen["citizen_id"]
    status, pair = _post(port, f"/sandbox/citizens/{citizen_id}/tokens")
    if status != 201:
        raise RuntimeError(f"POST /sandbox/citizens/{citizen_id}/tokens answered {status}: {pair}")
    token: str = pair["access_token"]
    return token


def json_safe(value: Any) -> Any:
    """NaN (no successful request) is not JSON; write null instead."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


def write_results(out_dir: Path, name: str, document: dict[str, Any]) -> Path:
    """`<out_dir>/<name>-<UTC stamp>.json` with the stamp as `when`; say where it went."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = out_dir / f"{name}-{stamp}.json"
    out.write_text(json.dumps(json_safe({"when": stamp, **document}), indent=2, allow_nan=False) + "\n")
    print(f"\nwrote {out}", file=sys.stderr)
    return out


def run(main: Callable[[], int], name: str) -> NoReturn:
    """The entry point of a bench script: its exit code; 130 on Ctrl-C; 2 when the server or database failed."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; servers and databases stopped", file=sys.stderr)
        sys.exit(130)
    except (RuntimeError, subprocess.SubprocessError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        sys.exit(2)


def add_server_args(parser: argparse.ArgumentParser) -> None:
    """The knobs every server bench shares (run the server, drive it, measure)."""
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per scenario (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each (default 1)")
    parser.add_argument("--concurrency", type=int, default=32, help="keep-alive connections (default 32)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    parser.add_argument("--db-pool-max", type=int, help="HAOBAN_DB_POOL_MAX for the server (default: its own)")
