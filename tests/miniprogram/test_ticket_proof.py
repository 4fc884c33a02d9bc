"""A binding ticket binds only with the verifier of the mini-program that asked for it (PKCE-style)."""

from __future__ import annotations

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.miniprogram.service import BindingProofInvalid, split_presented
from tests.identity import flows
from tests.miniprogram.helpers import OTHER_VERIFIER, VERIFIER, challenge_of, mint, ticket_for
from tests.sandbox.bodies import person

Client = AsyncTestClient[Litestar]


async def _bindings(db: asyncpg.Connection) -> int:
    count: int = await db.fetchval("SELECT count(*) FROM miniprogram_bindings")
    return count


async def test_only_the_challenge_is_kept(mp_client: Client, db: asyncpg.Connection) -> None:
    await ticket_for(mp_client, "wx-proof-1")
    row = await db.fetchrow("SELECT challenge FROM miniprogram_binding_tickets")
    assert row is not None
    assert row["challenge"] == challenge_of(VERIFIER)


async def test_the_code_exchange_needs_a_ticket_challenge(mp_client: Client) -> None:
    code = await mint(mp_client, "wx-proof-2")
    for body in (
        {"code": code},
        {"code": code, "ticket_challenge": "short"},
        {"code": code, "ticket_challenge": "plain"},
    ):
        response = await mp_client.post("/v1/auth/miniprogram/wechat", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "ticket_challenge"


async def test_a_ticket_without_its_verifier_binds_nothing_and_costs_no_face_work(
    mp_client: Client, db: asyncpg.Connection
) -> None:
    me = person(521)
    await flows.add_identity(mp_client, me)
    unbound = await ticket_for(mp_client, "wx-proof-3")
    bare = await flows.register(mp_client, me, flows.grace(31), binding_ticket=unbound["binding_ticket"])
    assert bare.status_code == 401, bare.text
    assert bare.json()["code"] == "binding_proof_invalid"
    assert await db.fetchval("SELECT count(*) FROM face_templates") == 0
    assert await _bindings(db) == 0


async def test_a_wrong_verifier_is_refused_and_the_ticket_survives_for_its_device(
    mp_client: Client, db: asyncpg.Connection
) -> None:
    me = person(522)
    await flows.add_identity(mp_client, me)
    assert (await flows.register(mp_client, me, flows.grace(32))).status_code == 201
    unbound = await ticket_for(mp_client, "wx-proof-4")
    stolen = unbound["binding_ticket"] + OTHER_VERIFIER  # someone who saw the ticket, not the device
    refused = await flows.login(mp_client, me, flows.grace(33), binding_ticket=stolen)
    assert refused.status_code == 401, refused.text
    assert refused.json()["code"] == "binding_proof_invalid"
    assert await _bindings(db) == 0

    bound = await flows.login(mp_client, me, flows.grace(34), binding_ticket=unbound["proof"])
    assert bound.status_code == 200, bound.text
    assert await _bindings(db) == 1


async def test_a_ticket_from_before_device_binding_is_refused(mp_client: Client, db: asyncpg.Connection) -> None:
    me = person(523)
    await flows.add_identity(mp_client, me)
    unbound = await ticket_for(mp_client, "wx-proof-5")
    await db.execute("UPDATE miniprogram_binding_tickets SET challenge = NULL")
    response = await flows.register(mp_client, me, flows.grace(35), binding_ticket=unbound["proof"])
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "binding_proof_invalid"


def test_the_presented_value_is_ticket_then_verifier() -> None:
    ticket = "hbm_" + "t" * 43
    assert split_presented(ticket + VERIFIER) == (ticket, VERIFIER)
    for bad in (ticket, ticket + VERIFIER[:-1], ticket + VERIFIER + "x", "hbx_" + "t" * 43 + VERIFIER):
        with pytest.raises(BindingProofInvalid):
            split_presented(bad)
