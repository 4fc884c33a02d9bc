"""Department ingestion on client-credentials tokens with per-source scopes (`ingest.<source>`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.audit.schemas import Actor
from haoban.kit.clock import FrozenClock
from haoban.oauth.clients import ClientSpecError, create_client
from haoban.oauth.scopes import INGEST_SCOPES
from haoban.root import build_runtime
from haoban.sandbox.demo import load_demo_oauth_clients
from haoban.settings import Settings
from tests.conftest import make_settings
from tests.factories import bearer
from tests.oauth import flows
from tests.sandbox import bodies

Client = AsyncTestClient[Litestar]
HPF_ID = "hpf-center"
HPF_SECRET = "hpf-center-secret-for-tests"
LEGACY_SECRET = "a-legacy-department-secret"


@pytest.fixture
async def dept(db_url: str, db: asyncpg.Connection, clock: FrozenClock) -> AsyncIterator[Client]:
    """Production-like (sandbox off), with one OAuth department client and one deprecated configured credential."""
    settings = make_settings(
        db_url, HAOBAN_SANDBOX="false", HAOBAN_DEPARTMENT_CREDENTIALS=f"legacy-hpf:housing_fund:{LEGACY_SECRET}"
    )
    async with db.transaction():
        await create_client(
            db,
            hmac_key=settings.security.token_hmac_key,
            client_id=HPF_ID,
            client_type="confidential",
            display_name="住房公积金中心",
            purpose="Pushes housing fund accounts",
            redirect_uris=[],
            scopes=["ingest.housing_fund"],
            secret=HPF_SECRET,
            now=clock.now(),
            actor=Actor(type="system", id="tests"),
        )
    async with AsyncTestClient(app=create_app(settings, database_url=db_url, clock=clock)) as client:
        yield client


async def _token(client: Client, client_id: str = HPF_ID, secret: str = HPF_SECRET, **form: str) -> str:
    response = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials", **form}, headers=flows.basic(client_id, secret)
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _funds(n: int) -> dict[str, Any]:
    return {"records": [bodies.fund(bodies.person(i + 1), f"ZZ{i:04d}") for i in range(n)]}


async def test_a_token_with_ingest_housing_fund_writes_fund_records_as_the_client(
    dept: Client, db: asyncpg.Connection
) -> None:
    token = await _token(dept)
    response = await dept.post("/v1/ingest/housing_fund", json=_funds(2), headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {"source": "housing_fund", "accepted": 2, "created": 2}
    assert await db.fetchval("SELECT DISTINCT updated_by FROM shared.hpf_accounts") == HPF_ID
    row = await db.fetchrow("SELECT actor_type, actor_id FROM audit_events WHERE action = 'exchange.records_written'")
    assert row is not None
    assert (row["actor_type"], row["actor_id"]) == ("client", HPF_ID)


async def test_the_same_token_cannot_write_another_source(dept: Client, db: asyncpg.Connection) -> None:
    token = await _token(dept)
    body = {"records": [bodies.estate("豫(2026)郑州市不动产权第0099号", bodies.person(1))]}
    response = await dept.post("/v1/ingest/estate", json=body, headers=bearer(token))
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert "ingest.estate" in response.json()["detail_en"]
    assert await db.fetchval("SELECT count(*) FROM shared.estate_properties") == 0
    unknown = await dept.post("/v1/ingest/tax", json=body, headers=bearer(token))
    assert unknown.status_code == 404


async def test_citizen_tokens_cannot_ingest(
    dept: Client, oauth: Client, citizen_access: str, db: asyncpg.Connection
) -> None:
    delegated = (await flows.tokens(oauth, citizen_access))["access_token"]
    for token in (citizen_access, delegated):  # the citizen's own app token, a mini-program's token
        response = await dept.post("/v1/ingest/housing_fund", json=_funds(1), headers=bearer(token))
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_token"
    assert await db.fetchval("SELECT count(*) FROM shared.hpf_accounts") == 0


async def test_a_disabled_clients_token_stops_working(dept: Client, db: asyncpg.Connection) -> None:
    token = await _token(dept)
    await db.execute("UPDATE oauth_clients SET disabled_at = now() WHERE client_id = $1", HPF_ID)
    response = await dept.post("/v1/ingest/housing_fund", json=_funds(1), headers=bearer(token))
    assert response.status_code == 401


async def test_the_deprecated_configured_credential_still_works(dept: Client, db: asyncpg.Connection) -> None:
    headers = {"Authorization": f"Bearer {LEGACY_SECRET}"}
    response = await dept.post("/v1/ingest/housing_fund", json=_funds(1), headers=headers)
    assert response.status_code == 200, response.text
    assert await db.fetchval("SELECT DISTINCT updated_by FROM shared.hpf_accounts") == "legacy-hpf"
    wrong = await dept.post("/v1/ingest/housing_fund", json=_funds(1), headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


async def test_ingest_scopes_are_for_confidential_clients_only(
    db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    with pytest.raises(ClientSpecError, match="confidential clients only"):
        await create_client(
            db,
            hmac_key=settings.security.token_hmac_key,
            client_id="sneaky-miniprogram",
            client_type="public",
            display_name="x",
            purpose="x",
            redirect_uris=["https://sneaky.example/cb"],
            scopes=["openid", "ingest.housing_fund"],
            secret=None,
            now=clock.now(),
            actor=Actor(type="system", id="tests"),
        )


async def test_a_citizen_cannot_delegate_an_ingest_scope(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    """Even a confidential client registered with ingest scopes cannot ask a citizen for them."""
    async with db.transaction():
        await create_client(
            db,
            hmac_key=settings.security.token_hmac_key,
            client_id="dept-portal",
            client_type="confidential",
            display_name="x",
            purpose="x",
            redirect_uris=["https://dept.example/cb"],
            scopes=["openid", "ingest.housing_fund"],
            secret=HPF_SECRET,
            now=clock.now(),
            actor=Actor(type="system", id="tests"),
        )
    form = flows.par_form(client_id="dept-portal", redirect_uri="https://dept.example/cb", scope="ingest.housing_fund")
    response = await client.post("/oauth/par", data=form, headers=flows.basic("dept-portal", HPF_SECRET))
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_scope"
    allowed = flows.par_form(client_id="dept-portal", redirect_uri="https://dept.example/cb", scope="openid")
    assert (
        await client.post("/oauth/par", data=allowed, headers=flows.basic("dept-portal", HPF_SECRET))
    ).status_code == 201


async def test_the_demo_department_holds_every_ingest_scope(
    client: Client, db: asyncpg.Connection, settings: Settings, db_url: str, clock: FrozenClock
) -> None:
    runtime = build_runtime(settings, database_url=db_url, clock=clock)
    async with db.transaction():
        await load_demo_oauth_clients(db, runtime)
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": " ".join(INGEST_SCOPES)},
        headers=flows.basic("demo-department", "demo-department-secret"),
    )
    assert response.status_code == 200, response.text
    assert set(response.json()["scope"].split()) == set(INGEST_SCOPES)
    assert len(INGEST_SCOPES) == 6


async def _revoke(client: Client, token: str, client_id: str = HPF_ID, secret: str = HPF_SECRET) -> None:
    response = await client.post("/oauth/revoke", data={"token": token}, headers=flows.basic(client_id, secret))
    assert response.status_code == 200, response.text


async def _introspect(client: Client, token: str) -> bytes:
    response = await client.post("/oauth/introspect", data={"token": token}, headers=flows.basic(HPF_ID, HPF_SECRET))
    assert response.status_code == 200, response.text
    return response.content


async def test_a_revoked_client_credentials_token_is_refused_and_inactive(dept: Client, db: asyncpg.Connection) -> None:
    token = await _token(dept)
    assert b'"active":true' in await _introspect(dept, token)
    assert (await dept.post("/v1/ingest/housing_fund", json=_funds(1), headers=bearer(token))).status_code == 200

    await _revoke(dept, token)
    refused = await dept.post("/v1/ingest/housing_fund", json=_funds(1), headers=bearer(token))
    assert refused.status_code == 401, refused.text
    assert refused.json()["code"] == "invalid_token"
    assert await _introspect(dept, token) == b'{"active":false}'
    assert await db.fetchval("SELECT count(*) FROM audit_events WHERE action = 'oauth.client_token.revoked'") == 1

    await _revoke(dept, token)  # again: still 200, nothing more happens
    assert await db.fetchval("SELECT count(*) FROM audit_events WHERE action = 'oauth.client_token.revoked'") == 1
    fresh = await _token(dept)  # only that token ended, not the client
    assert (await dept.post("/v1/ingest/housing_fund", json=_funds(1), headers=bearer(fresh))).status_code == 200


async def test_only_the_owning_client_can_revoke_a_client_credentials_token(
    dept: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    async with db.transaction():
        await create_client(
            db,
            hmac_key=settings.security.token_hmac_key,
            client_id="estate-center",
            client_type="confidential",
            display_name="不动产登记中心",
            purpose="Pushes estate records",
            redirect_uris=[],
            scopes=["ingest.estate"],
            secret=HPF_SECRET,
            now=clock.now(),
            actor=Actor(type="system", id="tests"),
        )
    token = await _token(dept)
    await _revoke(dept, token, client_id="estate-center")  # RFC 7009: 200, and nothing happens
    assert await db.fetchval("SELECT count(*) FROM oauth_revoked_tokens") == 0
    response = await dept.post("/v1/ingest/housing_fund", json=_funds(1), headers=bearer(token))
    assert response.status_code == 200, response.text
    assert b'"active":true' in await _introspect(dept, token)
