"""Digest version 2: the append is one SQL statement that computes the chain, and Python agrees with it."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import msgspec
import pytest

from haoban.db import migrations
from haoban.db.pool import connect
from haoban.exchange.consent import repository as repo
from haoban.exchange.consent.access_log import GENESIS, LogEntry, LogRow, chain_hash, content_hash, row_digest
from haoban.exchange.consent.service import verify_chain
from haoban.exchange.sources.items import SOURCES
from tests.conftest import LiveServer
from tests.exchange.test_access_log import _pulling_citizen, _tamper

REPO_MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
AT = datetime(2026, 5, 1, 8, 30, 0, 123456, tzinfo=UTC)
SUBJECT = UUID("12345678-1234-5678-1234-567812345678")


def entry(n: int, **changes: Any) -> LogEntry:
    base = LogEntry(
        at=AT + timedelta(seconds=n),
        requester_type="citizen",
        requester_id=f"citizen-{n}",
        subject_id=SUBJECT,
        source="housing_fund",
        items=("housing_fund.status", "housing_fund.balance", "housing_fund.account"),
        purpose_kind="self_view",
        purpose_ref="",
        outcome="ok",
        request_hash="ab" * 32,
        response_hash="cd" * 32,
        request_id=f"req-{n}",
    )
    return msgspec.structs.replace(base, **changes)


async def _rows(db: asyncpg.Connection) -> list[LogRow]:
    async with db.transaction():
        return [r async for r in repo.all_rows(db)]


def test_version_1_digest_is_unchanged() -> None:
    """The value the version-1 code produced before version 2 existed."""
    row = LogRow(
        **msgspec.structs.asdict(
            entry(
                0,
                requester_id="张三",
                items=("housing_fund.balance", "housing_fund.status"),
                purpose_ref="住房公积金提取",
                response_hash=None,
                request_id=None,
            )
        ),
        seq=1,
        prev_hash=GENESIS,
        row_hash="",
        hash_version=1,
    )
    assert row_digest(row) == "597f117f189eb4ecc77cb177715742c524cf0b318324cfd90a41f080a1c8e20d"


async def test_sql_hash_equals_python_hash_for_chinese_text_and_null_response(db: asyncpg.Connection) -> None:
    first = entry(1, requester_id="张三", purpose_ref="住房公积金提取（租房）", response_hash=None, request_id=None)
    second = entry(2, outcome="unavailable", response_hash=None)
    assert await repo.append(db, [first, second]) == 2

    rows = await _rows(db)
    one = chain_hash(GENESIS, 1, content_hash(first))
    two = chain_hash(one, 2, content_hash(second))
    assert [(r.seq, r.prev_hash, r.row_hash, r.hash_version) for r in rows] == [
        (1, GENESIS, one, 2),
        (2, one, two, 2),
    ]
    # Every field came back as sent (items keep their order), so the verifier recomputes the same hash.
    for row, sent in zip(rows, [first, second], strict=True):
        assert LogEntry(**{f: getattr(row, f) for f in LogEntry.__struct_fields__}) == sent
        assert row_digest(row) == row.row_hash
    assert await repo.head(db) == (2, two)
    assert (await verify_chain(db)).ok


async def _write_v1(db: asyncpg.Connection, entries: list[LogEntry]) -> None:
    """Rows as the version-1 code wrote them, before the `hash_version` column existed."""
    prev = GENESIS
    for seq, e in enumerate(entries, 1):
        row = LogRow(**msgspec.structs.asdict(e), seq=seq, prev_hash=prev, row_hash="", hash_version=1)
        prev = row_digest(row) or ""
        await db.execute(
            "INSERT INTO data_access_log (seq, at, requester_type, requester_id, subject_id, source, items,"
            " purpose_kind, purpose_ref, outcome, request_hash, response_hash, request_id, prev_hash, row_hash)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            seq,
            e.at,
            e.requester_type,
            e.requester_id,
            e.subject_id,
            e.source,
            list(e.items),
            e.purpose_kind,
            e.purpose_ref,
            e.outcome,
            e.request_hash,
            e.response_hash,
            e.request_id,
            row.prev_hash,
            prev,
        )
    await db.execute("UPDATE data_access_log_head SET last_seq = $1, last_hash = $2 WHERE id = 1", len(entries), prev)


async def test_a_version_1_chain_continued_with_version_2_rows_verifies(fresh_db_url: str, tmp_path: Path) -> None:
    before = tmp_path / "migrations"
    before.mkdir()
    for path in REPO_MIGRATIONS.glob("*.sql"):
        if path.name < "0012":
            shutil.copy(path, before / path.name)
    db = await connect(fresh_db_url)
    try:
        await migrations.migrate(db, before)
        await _write_v1(db, [entry(n, purpose_ref="住房公积金") for n in range(1, 4)])
        assert (await migrations.migrate(db, REPO_MIGRATIONS))[0] == "0012_access_log_v2.sql"
        await repo.append(db, [entry(4), entry(5, response_hash=None)])
        await repo.append(db, [entry(6)])

        rows = await _rows(db)
        assert [(r.seq, r.hash_version) for r in rows] == [(1, 1), (2, 1), (3, 1), (4, 2), (5, 2), (6, 2)]
        assert rows[3].prev_hash == rows[2].row_hash
        result = await verify_chain(db)
        assert result.ok, result
        assert result.checked == 6

        await _tamper(db, "UPDATE data_access_log SET requester_id = 'someone-else' WHERE seq = 2")
        assert (await verify_chain(db)).broken_seq == 2
    finally:
        await db.close()


async def test_an_edited_version_2_row_is_named(db: asyncpg.Connection) -> None:
    await repo.append(db, [entry(n) for n in range(1, 5)])
    assert (await verify_chain(db)).ok
    await _tamper(db, "UPDATE data_access_log SET purpose_ref = 'forged' WHERE seq = 3")
    result = await verify_chain(db)
    assert (result.ok, result.broken_seq, result.reason, result.checked) == (False, 3, "row content was changed", 2)


@pytest.mark.parametrize(
    ("sql", "broken_seq", "reason"),
    [
        ("DELETE FROM data_access_log WHERE seq = 2", 2, "missing row"),
        ("DELETE FROM data_access_log WHERE seq = 4", 4, "rows missing at the end"),
        ("UPDATE data_access_log SET hash_version = 1 WHERE seq = 2", 2, "row content was changed"),
    ],
)
async def test_a_deleted_or_downgraded_version_2_row_is_named(
    db: asyncpg.Connection, sql: str, broken_seq: int, reason: str
) -> None:
    await repo.append(db, [entry(n) for n in range(1, 5)])
    await _tamper(db, sql)
    result = await verify_chain(db)
    assert (result.ok, result.broken_seq, result.reason) == (False, broken_seq, reason)


async def test_twenty_concurrent_appends_queue_on_the_head(db_url: str, db: asyncpg.Connection) -> None:
    """Twenty connections append at once, each with no transaction: seqs stay consecutive, the chain whole."""
    conns = [await connect(db_url) for _ in range(20)]
    try:
        await asyncio.gather(*(repo.append(c, [entry(i), entry(i), entry(i)]) for i, c in enumerate(conns)))
    finally:
        for c in conns:
            await c.close()
    rows = await _rows(db)
    assert [r.seq for r in rows] == list(range(1, 61))
    # Each call's three rows are consecutive: one statement, one hold of the head lock.
    assert all(len({r.requester_id for r in rows[i : i + 3]}) == 1 for i in range(0, 60, 3))
    result = await verify_chain(db)
    assert (result.ok, result.checked) == (True, 60), result


async def test_twenty_concurrent_pulls_keep_one_unbroken_chain(
    live_server: Callable[..., LiveServer], db: asyncpg.Connection
) -> None:
    """Through a real server process: twenty pulls overlap, each appending one row per source."""
    server = live_server()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        citizens = [await _pulling_citizen(http, db, 210 + i) for i in range(5)]
        responses = await asyncio.gather(
            *(http.get("/v1/me/linked-data", headers=auth) for auth in citizens for _ in range(4))
        )
    assert {r.status_code for r in responses} == {200}
    rows = await _rows(db)
    assert [r.seq for r in rows] == list(range(1, 20 * len(SOURCES) + 1))
    assert {r.hash_version for r in rows} == {2}
    result = await verify_chain(db)
    assert (result.ok, result.checked) == (True, 20 * len(SOURCES)), result
