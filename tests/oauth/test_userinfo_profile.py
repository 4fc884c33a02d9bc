"""Userinfo under `profile`: the masked name through a consented, logged pull; never the ID number."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.exchange.sources.ports import SourceUnavailable
from haoban.kit.clock import FrozenClock
from haoban.settings import Settings
from tests.exchange import seed
from tests.factories import bearer
from tests.oauth import flows

Client = AsyncTestClient[Litestar]
PURPOSE = {"kind": "service", "ref": f"oauth:{flows.PUBLIC_ID}"}


class _DownIdentity:
    async def lookup(self, id_number: str) -> Any:
        raise SourceUnavailable("http_error", "registry down")

    async def photo(self, id_number: str) -> bytes | None:
        return None


@pytest.fixture
async def citizen(oauth: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock) -> tuple[str, str]:
    """A citizen named 张三丰 in the identity registry, with a face-verified first-party token."""
    me = seed.person(61)
    await seed.identity(db, me, name="张三丰")
    created = await oauth.post("/sandbox/citizens", json={"id_number": me})
    assert created.status_code == 201, created.text
    return me, await flows.face_token(db, settings, clock, str(created.json()["citizen_id"]))


async def _access(oauth: Client, access: str, scope: str) -> str:
    response = await flows.exchange(oauth, await flows.code(oauth, access, scope=scope))
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def _consents(oauth: Client, access: str) -> list[dict[str, Any]]:
    body: dict[str, Any] = (await oauth.get("/v1/me/consents", headers=bearer(access))).json()
    return [c for c in body["consents"] if c["purpose"] == PURPOSE]


async def _log(oauth: Client, access: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = (await oauth.get("/v1/me/data-access-log", headers=bearer(access))).json()[
        "entries"
    ]
    return entries


async def test_profile_gives_the_masked_name_under_a_logged_consented_pull(
    oauth: Client, citizen: tuple[str, str]
) -> None:
    id_number, access = citizen
    token = await _access(oauth, access, "openid profile identity.verified")

    response = await oauth.get("/oauth/userinfo", headers=bearer(token))
    assert response.status_code == 200, response.text
    info = response.json()
    assert info["name"] == "张**"
    assert set(info) == {"sub", "name", "real_name_verified", "real_name_level"}
    assert "张三丰" not in response.text
    assert id_number not in response.text
    assert id_number[-4:] not in response.text  # not even a masked ID number

    # The approval recorded the consent the pull runs under ...
    consents = await _consents(oauth, access)
    assert len(consents) == 1
    assert consents[0]["status"] == "active"
    assert "identity.name" in consents[0]["items"]
    # ... and the read is in the citizen's data-access log, naming the client.
    log = await _log(oauth, access)
    assert len(log) == 1
    assert log[0]["requester"] == {"type": "client", "id": flows.PUBLIC_ID}
    assert log[0]["purpose"] == PURPOSE
    assert log[0]["source"] == "identity"
    assert log[0]["outcome"] == "ok"


async def test_without_profile_no_name_no_consent_no_pull(oauth: Client, citizen: tuple[str, str]) -> None:
    _id_number, access = citizen
    token = await _access(oauth, access, "openid identity.verified")
    info = (await oauth.get("/oauth/userinfo", headers=bearer(token))).json()
    assert "name" not in info
    assert await _consents(oauth, access) == []
    assert await _log(oauth, access) == []


async def test_approving_again_does_not_add_a_second_consent(oauth: Client, citizen: tuple[str, str]) -> None:
    _id_number, access = citizen
    await _access(oauth, access, "openid profile")
    await _access(oauth, access, "openid profile hpf.read")
    assert len(await _consents(oauth, access)) == 1


async def test_an_unavailable_registry_leaves_the_name_out(
    oauth: Client, app: Litestar, citizen: tuple[str, str]
) -> None:
    _id_number, access = citizen
    token = await _access(oauth, access, "openid profile")
    runtime = app.state.runtime
    runtime._sources = msgspec.structs.replace(runtime.sources, identity=_DownIdentity())
    response = await oauth.get("/oauth/userinfo", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"sub"}
    log = await _log(oauth, access)
    assert [e["outcome"] for e in log] == ["unavailable"]  # the attempt is still logged


async def test_revoking_the_consent_in_the_app_ends_the_name(oauth: Client, citizen: tuple[str, str]) -> None:
    _id_number, access = citizen
    token = await _access(oauth, access, "openid profile")
    (consent,) = await _consents(oauth, access)
    revoked = await oauth.delete(f"/v1/me/consents/{consent['id']}", headers=bearer(access))
    assert revoked.status_code == 204, revoked.text
    response = await oauth.get("/oauth/userinfo", headers=bearer(token))
    assert response.status_code == 200
    assert set(response.json()) == {"sub"}
    assert await _log(oauth, access) == []  # refused before any pull


async def test_withdrawing_the_approval_revokes_its_consent(
    oauth: Client, citizen: tuple[str, str], db: asyncpg.Connection
) -> None:
    _id_number, access = citizen
    token = await _access(oauth, access, "openid profile")
    withdrawn = await oauth.delete(f"/v1/me/authorizations/{flows.PUBLIC_ID}", headers=bearer(access))
    assert withdrawn.status_code == 204, withdrawn.text
    (consent,) = await _consents(oauth, access)
    assert consent["status"] == "revoked"
    assert (await oauth.get("/oauth/userinfo", headers=bearer(token))).status_code == 401
    revoked = await db.fetchval(
        "SELECT (details->>'consents_revoked')::int FROM audit_events WHERE action = 'oauth.authorization.withdrawn'"
    )
    assert revoked == 1


async def test_another_clients_consent_does_not_give_this_client_the_name(
    oauth: Client, citizen: tuple[str, str]
) -> None:
    """The consent is per client (its own purpose): approving `other-miniprogram` does not cover ours."""
    _id_number, access = citizen
    other = flows.par_form(client_id=flows.OTHER_ID, redirect_uri=flows.OTHER_REDIRECT, scope="openid profile")
    pushed = await oauth.post("/oauth/par", data=other)
    assert pushed.status_code == 201, pushed.text
    assert (await flows.decide(oauth, access, pushed.json()["request_uri"])).status_code == 200
    token = await _access(oauth, access, "openid profile")
    # Ours was recorded by our own approval; withdraw only ours and the other client's stays.
    await oauth.delete(f"/v1/me/authorizations/{flows.PUBLIC_ID}", headers=bearer(access))
    consents = (await oauth.get("/v1/me/consents", headers=bearer(access))).json()["consents"]
    live = {c["purpose"]["ref"] for c in consents if c["status"] == "active"}
    assert live == {f"oauth:{flows.OTHER_ID}"}
    assert (await oauth.get("/oauth/userinfo", headers=bearer(token))).status_code == 401
