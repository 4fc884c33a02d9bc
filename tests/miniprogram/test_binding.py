"""Code exchange, binding tickets and face binding, on the sandbox platform through the real app."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit.clock import FrozenClock
from tests.factories import bearer
from tests.identity import flows
from tests.miniprogram.helpers import VERIFIER, exchange, mint, ticket_for
from tests.sandbox.bodies import person

REQUEST_URI = "urn:ietf:params:oauth:request_uri:" + "x" * 43


async def test_face_login_with_a_ticket_binds_and_the_next_code_signs_in_below_face_level(
    mp_client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    me = person(501)
    await flows.add_identity(mp_client, me)
    registered = await flows.register(mp_client, me, flows.grace(11))
    assert registered.status_code == 201, registered.text
    citizen_id = registered.json()["citizen_id"]

    unbound = await ticket_for(mp_client, "wx-open-501")
    ticket = unbound["binding_ticket"]
    assert ticket.startswith("hbm_")
    expires_at = datetime.fromisoformat(unbound["expires_at"])
    assert expires_at - clock.now() <= timedelta(minutes=10)
    kept = await db.fetch("SELECT ticket_hmac FROM miniprogram_binding_tickets")
    assert [len(r["ticket_hmac"]) for r in kept] == [32]  # only an HMAC is kept
    assert ticket.encode() not in kept[0]["ticket_hmac"]

    login = await flows.login(mp_client, me, flows.grace(12), binding_ticket=unbound["proof"])
    assert login.status_code == 200, login.text
    assert login.json()["acr"] == "urn:haoban:loa:face"
    bound_to = await db.fetchval(
        "SELECT citizen_id::text FROM miniprogram_bindings WHERE platform = 'wechat' AND open_id = 'wx-open-501'"
    )
    assert bound_to == citizen_id
    audited = await db.fetchval("SELECT count(*) FROM audit_events WHERE action = 'miniprogram.bound'")
    assert audited == 1

    signed_in = await exchange(mp_client, await mint(mp_client, "wx-open-501"))
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.headers["cache-control"] == "no-store"
    body = signed_in.json()
    assert body["outcome"] == "signed_in"
    tokens = body["tokens"]
    assert tokens["citizen_id"] == citizen_id
    assert tokens["acr"] == "urn:haoban:loa:miniprogram"
    session = (await mp_client.get("/v1/me", headers=bearer(tokens["access_token"]))).json()["session"]
    assert session["amr"] == ["miniprogram"]

    # Never a face-level session: a step-up guarded action refuses it.
    approve = await mp_client.post(
        "/v1/oauth/authorizations",
        json={"request_uri": REQUEST_URI, "decision": "approve"},
        headers=bearer(tokens["access_token"]),
    )
    assert approve.status_code == 401, approve.text
    assert approve.json()["code"] == "step_up_required"

    # The ticket was spent: it cannot bind again.
    again = await flows.login(mp_client, me, flows.grace(13), binding_ticket=unbound["proof"])
    assert again.status_code == 401, again.text
    assert again.json()["code"] == "binding_ticket_invalid"


async def test_registration_with_a_ticket_binds(mp_client: AsyncTestClient[Litestar], db: asyncpg.Connection) -> None:
    me = person(502)
    await flows.add_identity(mp_client, me)
    ticket = (await ticket_for(mp_client, "ali-2088502", platform="alipay"))["proof"]
    registered = await flows.register(mp_client, me, flows.grace(14), binding_ticket=ticket)
    assert registered.status_code == 201, registered.text
    bound_to = await db.fetchval(
        "SELECT citizen_id::text FROM miniprogram_bindings WHERE platform = 'alipay' AND open_id = 'ali-2088502'"
    )
    assert bound_to == registered.json()["citizen_id"]
    signed_in = await exchange(mp_client, await mint(mp_client, "ali-2088502", "alipay"), "alipay")
    assert signed_in.json()["tokens"]["acr"] == "urn:haoban:loa:miniprogram"


async def test_an_expired_ticket_is_refused_before_any_face_work(
    mp_client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    me = person(503)
    await flows.add_identity(mp_client, me)
    ticket = (await ticket_for(mp_client, "wx-open-503"))["proof"]
    clock.advance(timedelta(minutes=10, seconds=1))
    registered = await flows.register(mp_client, me, flows.grace(15), binding_ticket=ticket)
    assert registered.status_code == 401, registered.text
    assert registered.json()["code"] == "binding_ticket_invalid"
    assert await db.fetchval("SELECT count(*) FROM miniprogram_bindings") == 0
    assert await db.fetchval("SELECT count(*) FROM face_templates") == 0


async def test_an_unknown_ticket_is_refused(mp_client: AsyncTestClient[Litestar]) -> None:
    me = person(504)
    await flows.add_identity(mp_client, me)
    response = await flows.register(mp_client, me, flows.grace(16), binding_ticket="hbm_" + "A" * 43 + VERIFIER)
    assert response.status_code == 401
    assert response.json()["code"] == "binding_ticket_invalid"


async def test_a_used_code_is_refused(mp_client: AsyncTestClient[Litestar]) -> None:
    code = await mint(mp_client, "wx-open-505")
    assert (await exchange(mp_client, code)).status_code == 200
    reused = await exchange(mp_client, code)
    assert reused.status_code == 401
    assert reused.json()["code"] == "miniprogram_code_invalid"


async def test_an_expired_code_is_refused(mp_client: AsyncTestClient[Litestar], clock: FrozenClock) -> None:
    code = await mint(mp_client, "wx-open-506")
    clock.advance(timedelta(minutes=5, seconds=1))
    response = await exchange(mp_client, code)
    assert response.status_code == 401
    assert response.json()["code"] == "miniprogram_code_invalid"


async def test_a_code_of_the_other_platform_is_refused(mp_client: AsyncTestClient[Litestar]) -> None:
    code = await mint(mp_client, "wx-open-507", "wechat")
    response = await exchange(mp_client, code, "alipay")
    assert response.status_code == 401


async def test_an_unknown_platform_is_not_found(mp_client: AsyncTestClient[Litestar]) -> None:
    assert (await exchange(mp_client, "abc", "douyin")).status_code == 404


async def test_tickets_expire_within_ten_minutes(mp_client: AsyncTestClient[Litestar], clock: FrozenClock) -> None:
    body = await ticket_for(mp_client, "wx-open-508")
    assert datetime.fromisoformat(body["expires_at"]) <= clock.now().astimezone(UTC) + timedelta(minutes=10)


async def test_a_second_ticket_for_a_bound_account_is_refused_before_face_work(
    mp_client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    me = person(509)
    await flows.add_identity(mp_client, me)
    first = (await ticket_for(mp_client, "wx-open-509"))["proof"]
    second = (await ticket_for(mp_client, "wx-open-509"))["proof"]
    assert (await flows.register(mp_client, me, flows.grace(17), binding_ticket=first)).status_code == 201
    refused = await flows.login(mp_client, me, flows.grace(18), binding_ticket=second)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "miniprogram_already_bound"
    assert await db.fetchval("SELECT count(*) FROM miniprogram_bindings") == 1


async def test_two_concurrent_face_logins_with_one_ticket_bind_once(
    mp_client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    me = person(510)
    await flows.add_identity(mp_client, me)
    assert (await flows.register(mp_client, me, flows.grace(19))).status_code == 201
    ticket = (await ticket_for(mp_client, "wx-open-510"))["proof"]
    results = await asyncio.gather(
        flows.login(mp_client, me, flows.grace(20), binding_ticket=ticket),
        flows.login(mp_client, me, flows.grace(21), binding_ticket=ticket),
    )
    assert sorted(r.status_code for r in results) == [200, 401], [r.text for r in results]
    assert next(r for r in results if r.status_code == 401).json()["code"] == "binding_ticket_invalid"
    assert await db.fetchval("SELECT count(*) FROM miniprogram_bindings") == 1
    assert await db.fetchval("SELECT count(*) FROM audit_events WHERE action = 'miniprogram.bound'") == 1
