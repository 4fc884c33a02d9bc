"""Registration and face login on real photos, through the real app and database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import numpy as np
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.identity.face.engine import ProcessPoolFaceEngine
from haoban.identity.face.features import template_from_bytes
from haoban.kit.clock import FrozenClock
from haoban.kit.crypto import FieldCipher
from haoban.settings import Settings
from tests.conftest import make_settings
from tests.factories import bearer
from tests.identity import flows
from tests.identity.flows import CLIENT
from tests.sandbox.bodies import person


@pytest.fixture
async def face_client(
    db_url: str, clock: FrozenClock, engine: ProcessPoolFaceEngine
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_app(make_settings(db_url), database_url=db_url, clock=clock, face_engine=engine)
    async with AsyncTestClient(app=app) as client:
        await flows.add_client(client)
        yield client


async def test_registration_matches_the_id_photo_and_issues_face_tokens(
    face_client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    me = person(301)
    await flows.add_identity(face_client, me)
    response = await flows.register(face_client, me, flows.grace(1), phone="13812345678")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["acr"] == "urn:haoban:loa:face"
    assert body["token_type"] == "Bearer"
    assert response.headers["cache-control"] == "no-store"
    me_view = (await face_client.get("/v1/me", headers=bearer(body["access_token"]))).json()
    assert me_view["face_enrolled"] is True
    assert me_view["id_number_masked"] == me[:6] + "********" + me[-4:]
    assert me_view["session"]["amr"] == ["face"]
    consent = await db.fetchrow("SELECT terms_version, consented_at FROM face_templates")
    assert consent is not None
    assert consent["terms_version"] == "2026-11"


async def test_an_impostor_is_refused(face_client: AsyncTestClient[Litestar], db: asyncpg.Connection) -> None:
    me = person(302)
    await flows.add_identity(face_client, me)
    response = await flows.register(face_client, me, flows.astronaut(2))
    assert response.status_code == 401
    assert response.json()["code"] == "face_verification_failed"
    assert await db.fetchval("SELECT count(*) FROM face_templates") == 0
    reason = await db.fetchval("SELECT details->>'reason' FROM audit_events WHERE action = 'face.register.failed'")
    assert reason == "face_mismatch"


async def test_login_after_registration_and_replayed_frames_are_refused(
    face_client: AsyncTestClient[Litestar],
) -> None:
    me = person(303)
    await flows.add_identity(face_client, me)
    first = flows.grace(3)
    assert (await flows.register(face_client, me, first)).status_code == 201

    ok = await flows.login(face_client, me, flows.grace(4))
    assert ok.status_code == 200, ok.text
    assert ok.json()["acr"] == "urn:haoban:loa:face"

    replay = await flows.login(face_client, me, first)
    assert replay.status_code == 422
    assert "used before" in replay.json()["errors"][0]["reason_en"]


async def test_copies_of_one_frame_are_refused(face_client: AsyncTestClient[Litestar]) -> None:
    me = person(304)
    await flows.add_identity(face_client, me)
    one = flows.grace(5, n=1)[0]
    response = await flows.register(face_client, me, [one, one, one])
    assert response.status_code == 422
    assert "motion" in response.text


@pytest.mark.parametrize("kind", ["no_face", "two_faces"])
async def test_a_frame_without_exactly_one_face_is_named(face_client: AsyncTestClient[Litestar], kind: str) -> None:
    from tests.identity import frames

    me = person(305)
    await flows.add_identity(face_client, me)
    bad = frames.no_face() if kind == "no_face" else frames.two_faces()
    frame_list = flows.grace(6)
    frame_list[1] = bad
    response = await flows.register(face_client, me, frame_list)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "frames[1]"


async def test_a_used_or_expired_challenge_is_refused(
    face_client: AsyncTestClient[Litestar], clock: FrozenClock
) -> None:
    me = person(306)
    await flows.add_identity(face_client, me)
    ch = await flows.challenge(face_client, me, "register")
    body = {
        "challenge_id": ch["challenge_id"],
        "id_number": me,
        "name": "格蕾丝",
        "frames": flows.b64(flows.grace(7)),
        "consent": flows.TERMS,
    }
    assert (await face_client.post("/v1/auth/register", json=body, headers=CLIENT)).status_code == 201
    again = await face_client.post(
        "/v1/auth/register", json={**body, "frames": flows.b64(flows.grace(8))}, headers=CLIENT
    )
    assert again.status_code == 401
    assert again.json()["code"] == "challenge_invalid"

    late = await flows.challenge(face_client, me, "login")
    clock.advance(timedelta(seconds=121))
    expired = await face_client.post(
        "/v1/auth/face-login",
        json={"challenge_id": late["challenge_id"], "id_number": me, "frames": flows.b64(flows.grace(9))},
        headers=CLIENT,
    )
    assert expired.status_code == 401
    assert expired.json()["code"] == "challenge_invalid"


async def test_a_challenge_is_bound_to_its_purpose(face_client: AsyncTestClient[Litestar]) -> None:
    me = person(307)
    await flows.add_identity(face_client, me)
    ch = await flows.challenge(face_client, me, "login")
    body = {
        "challenge_id": ch["challenge_id"],
        "id_number": me,
        "name": "格蕾丝",
        "frames": flows.b64(flows.grace(10)),
        "consent": flows.TERMS,
    }
    response = await face_client.post("/v1/auth/register", json=body, headers=CLIENT)
    assert response.json()["code"] == "challenge_invalid"


async def test_unknown_id_wrong_name_and_wrong_face_answer_identically(
    face_client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    known, unknown, dead = person(308), person(309), person(310)
    await flows.add_identity(face_client, known)
    await flows.add_identity(face_client, dead, status="deceased")
    answers = [
        await flows.register(face_client, unknown, flows.grace(11)),
        await flows.register(face_client, known, flows.grace(12), name="别人"),
        await flows.register(face_client, dead, flows.grace(13)),
        await flows.register(face_client, known, flows.astronaut(14)),
        await flows.login(face_client, unknown, flows.grace(15)),
    ]
    seen = {str(flows.comparable(a)) for a in answers}
    assert len(seen) == 1, seen
    assert answers[0].status_code == 401
    reasons = [
        r["r"]
        for r in await db.fetch(
            "SELECT details->>'reason' AS r FROM audit_events WHERE action LIKE 'face.%' ORDER BY id"
        )
    ]
    assert reasons == ["identity_not_found", "name_mismatch", "identity_deceased", "face_mismatch", "no_account"]


async def test_challenges_answer_the_same_for_unknown_id_numbers(face_client: AsyncTestClient[Litestar]) -> None:
    known, unknown = person(311), person(312)
    await flows.add_identity(face_client, known)
    a, b = await flows.challenge(face_client, known, "login"), await flows.challenge(face_client, unknown, "login")
    assert set(a) == set(b)
    assert a["min_frames"] == b["min_frames"]


async def test_biometric_consent_is_required(face_client: AsyncTestClient[Litestar]) -> None:
    me = person(313)
    await flows.add_identity(face_client, me)
    response = await flows.register(
        face_client, me, flows.grace(16), consent={"biometric": False, "terms_version": "1"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "consent.biometric"


async def test_the_stored_template_is_encrypted_and_can_be_deleted(
    face_client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings
) -> None:
    me = person(314)
    await flows.add_identity(face_client, me)
    tokens = (await flows.register(face_client, me, flows.grace(17))).json()
    row = await db.fetchrow("SELECT citizen_id, template_enc FROM face_templates")
    assert row is not None
    sealed: str = row["template_enc"]
    assert sealed.startswith("v1.test1.")
    raw = FieldCipher(settings.security.field_keys).decrypt(sealed, aad=f"face_templates:{row['citizen_id']}")
    encoding = template_from_bytes(raw)
    assert encoding.shape == (128,)
    assert raw not in sealed.encode()
    assert np.float32(encoding[0]).tobytes() not in sealed.encode()

    auth = bearer(tokens["access_token"])
    assert (await face_client.delete("/v1/me/face", headers=auth)).status_code == 204
    assert (await face_client.get("/v1/me", headers=auth)).json()["face_enrolled"] is False
    assert await db.fetchval("SELECT count(*) FROM face_templates") == 0
    refused = await flows.login(face_client, me, flows.grace(41))
    assert refused.status_code == 401, refused.text
    assert (await face_client.delete("/v1/me/face", headers=auth)).status_code == 404
