"""PAR, token and department ingestion are limited per source address and per presented credential."""

from __future__ import annotations

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit.clock import FrozenClock
from haoban.route_limits import INGEST_PER_ADDRESS, PAR_PER_ADDRESS, TOKEN_PER_CREDENTIAL
from haoban.settings import Settings
from tests.conftest import make_settings
from tests.oauth import flows
from tests.staff.test_login_throttle import PeerFromHeader

Client = AsyncTestClient[Litestar]
SECRET = "route-limits-department-secret"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url, HAOBAN_DEPARTMENT_CREDENTIALS=f"limits-dept:housing_fund:{SECRET}")


@pytest.fixture
async def peers(
    app: Litestar, client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> Client:
    await flows.register_clients(db, settings.security.token_hmac_key, clock.now())
    app.asgi_handler = PeerFromHeader(app.asgi_handler)
    return client


def peer(n: int) -> dict[str, str]:
    return {"x-test-peer": f"198.51.100.{n}"}


async def test_par_is_limited_per_address(peers: Client) -> None:
    limit = PAR_PER_ADDRESS[0].limit
    statuses = [
        (await peers.post("/oauth/par", data=flows.par_form(), headers=peer(1))).status_code for _ in range(limit)
    ]
    assert statuses == [201] * limit
    refused = await peers.post("/oauth/par", data=flows.par_form(), headers=peer(1))
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    assert (await peers.post("/oauth/par", data=flows.par_form(), headers=peer(2))).status_code == 201


async def test_the_token_endpoint_is_limited_per_credential_across_addresses(peers: Client) -> None:
    form = {"grant_type": "client_credentials", "scope": "openid"}
    limit = TOKEN_PER_CREDENTIAL[0].limit
    for i in range(limit):
        response = await peers.post("/oauth/token", data=form, headers={**flows.basic(), **peer(i % 200)})
        assert response.status_code != 429, i
    refused = await peers.post("/oauth/token", data=form, headers={**flows.basic(), **peer(250)})
    assert refused.status_code == 429
    # Another credential (here a wrong secret) has its own count: guessing never spends the client's.
    other = await peers.post("/oauth/token", data=form, headers={**flows.basic(secret="wrong"), **peer(251)})
    assert other.status_code == 401


async def test_ingestion_is_limited_per_address_before_authentication(peers: Client) -> None:
    limit = INGEST_PER_ADDRESS[0].limit
    headers = {"Authorization": "Bearer not-a-department-secret", **peer(3)}
    for _ in range(limit):
        assert (await peers.post("/v1/ingest/housing_fund", json={"records": []}, headers=headers)).status_code == 401
    refused = await peers.post("/v1/ingest/housing_fund", json={"records": []}, headers=headers)
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    good = {"Authorization": f"Bearer {SECRET}", **peer(4)}
    assert (await peers.post("/v1/ingest/housing_fund", json={"records": []}, headers=good)).status_code != 429
