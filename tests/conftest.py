"""Real PostgreSQL for every test.

The server is embedded (a wheel) unless HAOBAN_TEST_DATABASE_URL points at one.
The real migrations are applied once per session to a template database; each
test that needs the database gets its own copy cloned from that template, so
tests can use several connections and subprocess servers without leaking state.
"""

from __future__ import annotations

import asyncio
import base64
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.audit.schemas import Actor
from haoban.db import migrations
from haoban.db.embedded import EmbeddedPostgres
from haoban.db.pool import connect
from haoban.kit.clock import FrozenClock
from haoban.kit.crypto import FieldCipher
from haoban.rules.registry import sync_rule_sets
from haoban.settings import Settings, load_settings
from haoban.tokens.service import ensure_signing_key

FIELD_KEY = base64.urlsafe_b64encode(b"k" * 32).decode()
HMAC_KEY = base64.urlsafe_b64encode(b"h" * 32).decode()
TEST_ISSUER = "https://haoban.test"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    if url := os.environ.get("HAOBAN_TEST_DATABASE_URL"):
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="haoban-test-pg-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pgdata", delete_on_exit=True)
        yield server.start()
        server.stop()


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def template_db(pg_server_url: str) -> Iterator[str]:
    """A database with the real migrations applied, cloned by every test."""
    name = f"haoban_tpl_{os.getpid()}"

    async def build() -> None:
        await _admin(pg_server_url, f'DROP DATABASE IF EXISTS "{name}"')
        await _admin(pg_server_url, f'CREATE DATABASE "{name}"')
        conn = await connect(with_database(pg_server_url, name))
        try:
            await migrations.migrate(conn)
            await sync_rule_sets(conn)
        finally:
            await conn.close()

    asyncio.run(build())
    yield name
    asyncio.run(_admin(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def fresh_db_url(pg_server_url: str) -> Iterator[str]:
    """An empty database (no migrations), for migration-runner tests."""
    name = f"haoban_empty_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(pg_server_url, f'CREATE DATABASE "{name}"'))
    yield with_database(pg_server_url, name)
    asyncio.run(_admin(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def db_url(pg_server_url: str, template_db: str) -> Iterator[str]:
    """A migrated database of this test's own, with an active signing key."""
    name = f"haoban_t_{uuid.uuid4().hex[:12]}"

    async def build() -> None:
        await _admin(pg_server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
        conn = await connect(with_database(pg_server_url, name))
        try:
            settings = make_settings(with_database(pg_server_url, name))
            async with conn.transaction():
                await ensure_signing_key(
                    conn,
                    cipher=FieldCipher(settings.security.field_keys),
                    settings=settings.security,
                    now=datetime.now(UTC),
                    actor=Actor(type="system", id="tests"),
                )
        finally:
            await conn.close()

    asyncio.run(build())
    yield with_database(pg_server_url, name)
    asyncio.run(_admin(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment a production-mode test server runs with."""
    return {
        "DATABASE_URL": database_url,
        "HAOBAN_MODE": "production",
        "HAOBAN_SANDBOX": "true",
        "HAOBAN_TEST_DEPLOYMENT": "true",  # a loopback server on a throwaway database (production_guards)
        "HAOBAN_FIELD_KEYS": f"test1:{FIELD_KEY}",
        "HAOBAN_TOKEN_HMAC_KEY": HMAC_KEY,
        "HAOBAN_ISSUER": TEST_ISSUER,
        "HAOBAN_DB_POOL_MAX": "5",
        # Tests send frames without a device attestation; tests/identity/test_account_safety.py checks the default.
        "HAOBAN_APP_ATTESTATION": "optional",
        **extra,
    }


def make_settings(database_url: str, **extra: str) -> Settings:
    return load_settings(server_env(database_url, **extra))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url)


@pytest.fixture
def app(settings: Settings, db_url: str, clock: FrozenClock) -> Litestar:
    return create_app(settings, database_url=db_url, clock=clock)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://haoban.test") as c:
        yield c


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to this test's database, for checking what was written."""
    conn = await connect(db_url)
    try:
        yield conn
    finally:
        await conn.close()


class LiveServer:
    """`haoban serve` in a subprocess on a free loopback port: real HTTP, real concurrency."""

    def __init__(self, database_url: str, **extra_env: str) -> None:
        import socket
        import subprocess
        import sys

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "haoban.cli", "serve", "--port", str(self.port)],
            env={**keep, **server_env(database_url, **extra_env)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        import time

        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                pytest.fail(f"server exited early ({self.proc.returncode}):\n{out}\n{err[-4000:]}")
            try:
                if httpx.get(f"{self.base_url}/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        pytest.fail("server did not become ready")

    def stop(self) -> tuple[str, str]:
        import signal
        import subprocess

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.communicate(timeout=30)  # a child still holding the pipes fails here, never hangs


@pytest.fixture
def live_server(db_url: str) -> Iterator[Callable[..., LiveServer]]:
    """Start servers on this test's database: `live_server(HAOBAN_X="y")`."""
    started: list[LiveServer] = []

    def start(**extra_env: str) -> LiveServer:
        server = LiveServer(db_url, **extra_env)
        started.append(server)
        server.wait_ready()
        return server

    yield start
    for server in started:
        server.stop()
