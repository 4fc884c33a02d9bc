"""Numbered plain-SQL migrations with checksums, applied under an advisory lock.

Files are `NNNN_name.sql` in the migrations directory. Each file runs in its own
transaction. An applied file whose content changed is refused by name.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import asyncpg

import haoban

# Any constant works; it only has to be the same in every replica.
ADVISORY_LOCK_KEY = 0x4841_4F42_414E  # "HAOBAN"

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

State = Literal["applied", "pending", "modified", "missing"]


class MigrationError(RuntimeError):
    """The migration set on disk and in the database disagree."""


@dataclass(frozen=True)
class MigrationFile:
    version: int
    name: str
    path: Path
    checksum: str

    @property
    def filename(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class MigrationStatus:
    version: int
    filename: str
    state: State


def default_dir() -> Path:
    """`HAOBAN_MIGRATIONS_DIR`, the copy inside the wheel, or the repo's `migrations/`."""
    if env := os.environ.get("HAOBAN_MIGRATIONS_DIR"):
        return Path(env)
    packaged = Path(haoban.__file__).parent / "_migrations"
    if packaged.is_dir():
        return packaged
    return Path(haoban.__file__).resolve().parents[2] / "migrations"


def discover(directory: Path) -> list[MigrationFile]:
    if not directory.is_dir() or not any(directory.glob("*.sql")):
        # An installed package without its migrations would "apply 0" and then fail on the first table.
        raise MigrationError(f"no migration files in {directory} (set HAOBAN_MIGRATIONS_DIR)")
    files: list[MigrationFile] = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE.match(path.name)
        if not match:
            raise MigrationError(f"migration file name not understood: {path.name} (want NNNN_name.sql)")
        files.append(
            MigrationFile(
                version=int(match.group(1)),
                name=match.group(2),
                path=path,
                checksum=hashlib.sha256(path.read_bytes()).hexdigest(),
            )
        )
    versions = [f.version for f in files]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migration files share a number")
    return files


_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    filename   text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


async def _applied(conn: asyncpg.Connection) -> dict[int, tuple[str, str]]:
    exists = await conn.fetchval("SELECT to_regclass('public.schema_migrations') IS NOT NULL")
    if not exists:
        return {}
    rows = await conn.fetch("SELECT version, filename, checksum FROM schema_migrations ORDER BY version")
    return {r["version"]: (r["filename"], r["checksum"]) for r in rows}


def _compare(files: list[MigrationFile], applied: dict[int, tuple[str, str]]) -> list[MigrationStatus]:
    out: list[MigrationStatus] = []
    on_disk = {f.version: f for f in files}
    for f in files:
        if f.version not in applied:
            out.append(MigrationStatus(f.version, f.filename, "pending"))
        elif applied[f.version][1] != f.checksum:
            out.append(MigrationStatus(f.version, f.filename, "modified"))
        else:
            out.append(MigrationStatus(f.version, f.filename, "applied"))
    for version, (filename, _) in applied.items():
        if version not in on_disk:
            out.append(MigrationStatus(version, filename, "missing"))
    return sorted(out, key=lambda s: s.version)


async def status(conn: asyncpg.Connection, directory: Path | None = None) -> list[MigrationStatus]:
    return _compare(discover(directory or default_dir()), await _applied(conn))


def _refuse_drift(states: list[MigrationStatus]) -> None:
    for s in states:
        if s.state == "modified":
            raise MigrationError(f"applied migration {s.filename} was edited after it was applied; refusing")
        if s.state == "missing":
            raise MigrationError(f"applied migration {s.filename} is missing from the migrations directory")


async def migrate(conn: asyncpg.Connection, directory: Path | None = None) -> list[str]:
    """Apply pending migrations in order; return the file names applied.

    Holds a session advisory lock for the whole run, so a second replica waits
    and then finds nothing left to do.
    """
    files = discover(directory or default_dir())
    await conn.execute("SELECT pg_advisory_lock($1)", ADVISORY_LOCK_KEY)
    try:
        await conn.execute(_CREATE_TABLE)
        states = _compare(files, await _applied(conn))
        _refuse_drift(states)
        pending = {s.version for s in states if s.state == "pending"}
        done: list[str] = []
        for f in files:
            if f.version not in pending:
                continue
            async with conn.transaction():
                await conn.execute(f.path.read_text(encoding="utf-8"))
                await conn.execute(
                    "INSERT INTO schema_migrations (version, filename, checksum) VALUES ($1, $2, $3)",
                    f.version,
                    f.filename,
                    f.checksum,
                )
            done.append(f.filename)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", ADVISORY_LOCK_KEY)


async def ensure_current(conn: asyncpg.Connection, directory: Path | None = None) -> None:
    """Refuse to serve on a database that is behind or has drifted."""
    states = await status(conn, directory)
    _refuse_drift(states)
    if behind := [s.filename for s in states if s.state == "pending"]:
        raise MigrationError(
            f"database is behind: {len(behind)} pending migration(s), first {behind[0]}; run `haoban db migrate`"
        )
