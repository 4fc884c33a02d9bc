"""The data-access log: one row per pull, readable by its citizen only, hash-chained."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.cli import main
from haoban.exchange.consent.service import verify_chain
from haoban.exchange.sources.items import SOURCES
from tests.conftest import LiveServer, server_env
from tests.exchange import seed
from tests.exchange.test_linked_data import ALL_ITEMS, bound_citizen, consent


async def _pulling_citizen(client: httpx.AsyncClient, db: asyncpg.Connection, n: int) -> dict[str, str]:
    me = seed.person(n)
    await seed.identity(db, me)
    _, auth = await bound_citizen(client, me)
    await consent(client, auth, ALL_ITEMS)
    return auth


async def test_each_pull_is_logged_and_readable_by_its_citizen_only(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    alice = await _pulling_citizen(client, db, 101)
    bob = await _pulling_citizen(client, db, 102)
    for _ in range(2):
        assert (await client.get("/v1/me/linked-data", headers=alice)).status_code == 200
    assert (await client.get("/v1/me/linked-data?sources=identity", headers=bob)).status_code == 200

    page = (await client.get("/v1/me/data-access-log", params={"limit": 4}, headers=alice)).json()
    assert len(page["entries"]) == 4
    seqs = [e["seq"] for e in page["entries"]]
    assert seqs == sorted(seqs, reverse=True)
    first = page["entries"][0]
    assert first["purpose"] == {"kind": "self_view", "ref": ""}
    assert first["requester"]["type"] == "citizen"
    assert first["source"] in SOURCES
    assert first["items"]
    assert first["at"]

    rest = (
        await client.get("/v1/me/data-access-log", params={"limit": 50, "before": page["next_before"]}, headers=alice)
    ).json()
    assert len(page["entries"]) + len(rest["entries"]) == 2 * len(SOURCES)
    assert rest["next_before"] is None

    bobs = (await client.get("/v1/me/data-access-log", headers=bob)).json()["entries"]
    assert [e["source"] for e in bobs] == ["identity"]
    alice_seqs = {e["seq"] for e in page["entries"] + rest["entries"]}
    assert not alice_seqs & {e["seq"] for e in bobs}


async def test_concurrent_pulls_keep_one_unbroken_chain(
    live_server: Callable[..., LiveServer], db: asyncpg.Connection
) -> None:
    """Against a real server process, so the twelve pulls really overlap on the chain's head."""
    server = live_server()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        citizens = [await _pulling_citizen(http, db, 110 + i) for i in range(4)]
        responses = await asyncio.gather(
            *(http.get("/v1/me/linked-data", headers=auth) for auth in citizens for _ in range(3))
        )
    assert {r.status_code for r in responses} == {200}
    seqs = [r["seq"] for r in await db.fetch("SELECT seq FROM data_access_log ORDER BY seq")]
    assert seqs == list(range(1, 12 * len(SOURCES) + 1))
    conn_result = await verify_chain(db)
    assert conn_result.ok, conn_result


def _verify(db_url: str, monkeypatch: pytest.MonkeyPatch) -> int:
    for name, value in server_env(db_url).items():
        monkeypatch.setenv(name, value)
    return main(["audit", "verify"])


async def _tamper(db: asyncpg.Connection, sql: str) -> None:
    """Bypass the append-only trigger, as someone with database access could."""
    async with db.transaction():
        await db.execute("SET LOCAL session_replication_role = replica")
        await db.execute(sql)


async def test_audit_verify_passes_then_names_an_edited_row(
    client: AsyncTestClient[Litestar],
    db: asyncpg.Connection,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    auth = await _pulling_citizen(client, db, 121)
    await client.get("/v1/me/linked-data", headers=auth)
    assert await asyncio.to_thread(_verify, db_url, monkeypatch) == 0
    assert f"{len(SOURCES)} row(s) verified" in capsys.readouterr().out

    await _tamper(db, "UPDATE data_access_log SET requester_id = 'someone-else' WHERE seq = 3")
    assert await asyncio.to_thread(_verify, db_url, monkeypatch) == 1
    assert "seq 3" in capsys.readouterr().err


async def test_audit_verify_names_a_deleted_row(
    client: AsyncTestClient[Litestar],
    db: asyncpg.Connection,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    auth = await _pulling_citizen(client, db, 131)
    await client.get("/v1/me/linked-data", headers=auth)
    await _tamper(db, "DELETE FROM data_access_log WHERE seq = 2")
    assert await asyncio.to_thread(_verify, db_url, monkeypatch) == 1
    assert "seq 2" in capsys.readouterr().err


async def test_log_rows_cannot_be_changed_through_sql(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    auth = await _pulling_citizen(client, db, 141)
    await client.get("/v1/me/linked-data?sources=identity", headers=auth)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute("UPDATE data_access_log SET outcome = 'ok'")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute("DELETE FROM data_access_log")
