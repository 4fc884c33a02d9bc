"""The migration runner: checksums, drift refusal, advisory lock, one transaction per file."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from haoban.cli import main
from haoban.db import migrations
from haoban.db.pool import connect
from tests.conftest import server_env

REPO_MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


@pytest.fixture
def mig_dir(tmp_path: Path) -> Path:
    target = tmp_path / "migrations"
    shutil.copytree(REPO_MIGRATIONS, target)
    return target


async def _conn(url: str) -> asyncpg.Connection:
    return await connect(url)


async def test_migrate_applies_every_file_once(fresh_db_url: str, mig_dir: Path) -> None:
    conn = await _conn(fresh_db_url)
    try:
        applied = await migrations.migrate(conn, mig_dir)
        assert applied == sorted(p.name for p in mig_dir.glob("*.sql"))
        assert await migrations.migrate(conn, mig_dir) == []
        states = await migrations.status(conn, mig_dir)
        assert {s.state for s in states} == {"applied"}
        assert await conn.fetchval("SELECT to_regclass('public.citizens') IS NOT NULL")
    finally:
        await conn.close()


async def test_edited_applied_migration_is_refused_by_name(fresh_db_url: str, mig_dir: Path) -> None:
    conn = await _conn(fresh_db_url)
    try:
        await migrations.migrate(conn, mig_dir)
        first = sorted(mig_dir.glob("*.sql"))[0]
        first.write_text(first.read_text() + "\n-- a quiet edit\n")
        with pytest.raises(migrations.MigrationError, match=re.escape(first.name)):
            await migrations.migrate(conn, mig_dir)
        with pytest.raises(migrations.MigrationError, match=re.escape(first.name)):
            await migrations.ensure_current(conn, mig_dir)
        states = {s.filename: s.state for s in await migrations.status(conn, mig_dir)}
        assert states[first.name] == "modified"
    finally:
        await conn.close()


async def test_pending_migration_means_behind(fresh_db_url: str, mig_dir: Path) -> None:
    conn = await _conn(fresh_db_url)
    try:
        await migrations.migrate(conn, mig_dir)
        (mig_dir / "9999_later.sql").write_text("CREATE TABLE later (id int);")
        with pytest.raises(migrations.MigrationError, match="behind"):
            await migrations.ensure_current(conn, mig_dir)
        assert await migrations.migrate(conn, mig_dir) == ["9999_later.sql"]
        await migrations.ensure_current(conn, mig_dir)
    finally:
        await conn.close()


async def test_failing_migration_leaves_nothing_behind(fresh_db_url: str, mig_dir: Path) -> None:
    conn = await _conn(fresh_db_url)
    try:
        await migrations.migrate(conn, mig_dir)
        (mig_dir / "9998_broken.sql").write_text("CREATE TABLE half_done (id int);\nSELECT no_such_function();")
        with pytest.raises(asyncpg.PostgresError):
            await migrations.migrate(conn, mig_dir)
        assert not await conn.fetchval("SELECT to_regclass('public.half_done') IS NOT NULL")
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations WHERE version = 9998") == 0
    finally:
        await conn.close()


def test_badly_named_file_is_refused(mig_dir: Path) -> None:
    (mig_dir / "2_oops.sql").write_text("SELECT 1;")
    with pytest.raises(migrations.MigrationError, match=re.escape("2_oops.sql")):
        migrations.discover(mig_dir)


def test_two_replicas_migrating_at_once_do_not_race(fresh_db_url: str, mig_dir: Path) -> None:
    """Two processes start together; the advisory lock makes one wait, then find nothing to do."""
    (mig_dir / "0500_slow.sql").write_text("SELECT pg_sleep(1.0);\nCREATE TABLE slow_marker (id int);")
    env = {**server_env(fresh_db_url), "HAOBAN_MIGRATIONS_DIR": str(mig_dir), "PATH": "/usr/bin:/bin"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "haoban.cli", "db", "migrate"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    counts = sorted(int(out.split()[1]) for out, _ in outputs)
    total = len(list(mig_dir.glob("*.sql")))
    assert counts == [0, total]


def test_cli_status_reports_drift(fresh_db_url: str, mig_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in server_env(fresh_db_url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HAOBAN_MIGRATIONS_DIR", str(mig_dir))
    assert main(["db", "status"]) == 0
    assert main(["db", "migrate"]) == 0
    first = sorted(mig_dir.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edit\n")
    assert main(["db", "status"]) == 1
    assert main(["db", "migrate"]) == 1


def test_production_serve_refuses_a_database_that_is_behind(
    fresh_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in server_env(fresh_db_url).items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--port", "0"]) == 1
    assert "behind" in capsys.readouterr().err
