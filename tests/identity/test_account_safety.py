"""Account safety on the face path (issue 20, part 4): each takeover and abuse path, through the real app.

Every test here failed on the code before the change: a second registration replaced the
face and the phone, junk frames from one app client locked out every citizen, codes had no
send or guess limit, any session could delete the face, and the first-party app needed no
device attestation in production.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.cli import main
from haoban.identity.attestation import frame_digests
from haoban.identity.face.engine import ProcessPoolFaceEngine
from haoban.kit.clock import FrozenClock
from haoban.kit.crypto import FieldCipher
from haoban.serve import _banner
from haoban.settings import Settings, load_settings
from tests.conftest import make_settings, server_env
from tests.factories import bearer
from tests.identity import flows, frames
from tests.sandbox.bodies import person

PHONE, NEW_PHONE, OTHER_PHONE = "13812340001", "13912340002", "13712340003"


class PeerFromHeader:
    """The test transport always reports the peer `testclient`; this lets a test act from several addresses."""

    def __init__(self, app: Litestar) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"x-test-peer":
                    scope = {**scope, "client": (value.decode(), 40000)}
        await self.app(scope, receive, send)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)


def at(address: str) -> dict[str, str]:
    return {"x-test-peer": address}


@pytest.fixture
async def face_client(
    db_url: str, clock: FrozenClock, engine: ProcessPoolFaceEngine
) -> AsyncIterator[AsyncTestClient[PeerFromHeader]]:
    app = create_app(make_settings(db_url), database_url=db_url, clock=clock, face_engine=engine)
    async with AsyncTestClient(app=PeerFromHeader(app)) as client:
        await flows.add_client(client)
        yield client


async def _registered(client: httpx.AsyncClient, seq: int, phone: str | None = PHONE) -> tuple[str, dict[str, Any]]:
    me = person(seq)
    await flows.add_identity(client, me)
    response = await flows.register(client, me, flows.grace(600 + seq), **({"phone": phone} if phone else {}))
    assert response.status_code == 201, response.text
    return me, response.json()


async def _register(client: httpx.AsyncClient, id_number: str, seed: int, **over: Any) -> httpx.Response:
    """A registration with grace frames; a new capture when the engine finds a frame too like an earlier one.

    Several registrations of one identity remember many frame sets of one photo, and the replay check on the
    aligned face may find two captures alike: a person would simply try again. Replays are tested elsewhere.
    """
    for attempt in range(4):
        response = await flows.register(client, id_number, flows.grace(seed + 1000 * attempt), **over)
        if not (response.status_code == 422 and response.json().get("code") == "replayed_frame"):
            break
    return response


async def _inbox(client: httpx.AsyncClient, phone: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = (
        await client.get("/sandbox/messages", params={"recipient": phone, "limit": 50})
    ).json()["messages"]
    return messages


def _code(message: dict[str, Any]) -> str:
    body: str = message["body"]
    return body.split("验证码 ")[1][:6]


async def _face_login(
    client: httpx.AsyncClient, id_number: str, frame_list: list[bytes], address: str
) -> httpx.Response:
    headers = {**flows.CLIENT, **at(address)}
    ch = await client.post(
        "/v1/auth/face/challenges", json={"id_number": id_number, "purpose": "login"}, headers=headers
    )
    if ch.status_code != 201:
        return ch
    body = {"challenge_id": ch.json()["challenge_id"], "id_number": id_number, "frames": flows.b64(frame_list)}
    return await client.post("/v1/auth/face-login", json=body, headers=headers)


# --- abuse limits keyed per address and identity, never per app client ----------------------------------------


async def test_junk_frames_from_one_client_do_not_lock_out_other_citizens(
    face_client: AsyncTestClient[Litestar],
) -> None:
    victim, _ = await _registered(face_client, 701)
    attacker_target = person(702)
    blank = [frames.no_face()] * 3
    junk = [await _face_login(face_client, attacker_target, blank, "198.51.100.66") for _ in range(31)]
    # The victim uses the same first-party app, from another address and from the attacker's own.
    for address in ("203.0.113.7", "198.51.100.66"):
        ok = await _face_login(face_client, victim, flows.grace(710 + len(address)), address)
        assert ok.status_code == 200, ok.text
    # The attacker's identity met its own limit.
    codes = [r.status_code for r in junk]
    assert codes[:10] == [422] * 10
    assert set(codes[10:]) == {429}, codes
    assert {r.json()["code"] for r in junk[10:]} == {"rate_limited"}


async def test_face_challenges_are_limited_per_identity_and_per_address(
    face_client: AsyncTestClient[Litestar],
) -> None:
    target = person(703)

    async def challenge(id_number: str, address: str) -> int:
        response = await face_client.post(
            "/v1/auth/face/challenges",
            json={"id_number": id_number, "purpose": "login"},
            headers={**flows.CLIENT, **at(address)},
        )
        return response.status_code

    per_identity = [await challenge(target, f"192.0.2.{i}") for i in range(25)]
    assert per_identity == [201] * 20 + [429] * 5
    per_address = [await challenge(person(800 + i), "192.0.2.200") for i in range(125)]
    assert per_address == [201] * 120 + [429] * 5
    assert await challenge(person(999), "192.0.2.201") == 201  # other addresses and identities are untouched


# --- one-time codes (NIST SP 800-63B) --------------------------------------------------------------------------


async def test_fifteen_hundred_code_guesses_do_not_go_through(
    face_client: AsyncTestClient[Litestar], clock: FrozenClock
) -> None:
    me, _ = await _registered(face_client, 704)
    started = await face_client.post("/v1/auth/otp", json={"id_number": me}, headers=at("203.0.113.1"))
    assert started.status_code == 202
    request_id = started.json()["request_id"]
    real = _code((await _inbox(face_client, PHONE))[0])
    guesses = [f"{n:06d}" for n in range(1_500) if f"{n:06d}" != real]
    guesses.insert(700, real)  # even the right code, once locked, does not get in
    # From a different address each time: the lock is the identity's, not an address's.
    answers = [
        await face_client.post(
            "/v1/auth/otp/verify",
            json={"request_id": request_id, "code": guess},
            headers=at(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"),
        )
        for i, guess in enumerate(guesses)
    ]
    statuses = [a.status_code for a in answers]
    assert 200 not in statuses
    assert statuses[:10] == [401] * 10
    assert set(statuses[10:]) == {429}
    assert answers[-1].json()["code"] == "rate_limited"
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 60

    # The lock ends; the next wrong code locks again, twice as long; a right code ends the streak.
    clock.advance(timedelta(seconds=61))
    again = await face_client.post("/v1/auth/otp", json={"id_number": me}, headers=at("203.0.113.1"))
    fresh = _code((await _inbox(face_client, PHONE))[0])
    wrong = "000000" if fresh != "000000" else "111111"
    verify = {"request_id": again.json()["request_id"]}
    assert (await face_client.post("/v1/auth/otp/verify", json={**verify, "code": wrong})).status_code == 401
    longer = await face_client.post("/v1/auth/otp/verify", json={**verify, "code": fresh})
    assert longer.status_code == 429
    assert int(longer.headers["retry-after"]) > 60
    clock.advance(timedelta(seconds=121))
    ok = await face_client.post("/v1/auth/otp/verify", json={**verify, "code": fresh})
    assert ok.status_code == 200, ok.text


async def test_a_code_takes_five_tries_and_lives_five_minutes(
    face_client: AsyncTestClient[Litestar], clock: FrozenClock
) -> None:
    me, _ = await _registered(face_client, 705)
    first = (await face_client.post("/v1/auth/otp", json={"id_number": me})).json()
    code = _code((await _inbox(face_client, PHONE))[0])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        await face_client.post("/v1/auth/otp/verify", json={"request_id": first["request_id"], "code": wrong})
    spent = await face_client.post("/v1/auth/otp/verify", json={"request_id": first["request_id"], "code": code})
    assert spent.status_code == 401  # the sixth try is refused even with the right code
    clock.advance(timedelta(seconds=61))
    second = (await face_client.post("/v1/auth/otp", json={"id_number": me})).json()
    late_code = _code((await _inbox(face_client, PHONE))[0])
    clock.advance(timedelta(minutes=5, seconds=1))
    late = await face_client.post("/v1/auth/otp/verify", json={"request_id": second["request_id"], "code": late_code})
    assert late.status_code == 401


async def test_no_more_codes_than_the_limit_reach_one_phone(
    face_client: AsyncTestClient[Litestar], clock: FrozenClock
) -> None:
    me, _ = await _registered(face_client, 706)
    burst = [
        (await face_client.post("/v1/auth/otp", json={"id_number": me}, headers=at(f"10.0.{i // 256}.{i % 256}")))
        for i in range(300)
    ]
    assert [r.status_code for r in burst].count(202) == 1
    assert {r.json()["code"] for r in burst if r.status_code == 429} == {"rate_limited"}
    assert len(await _inbox(face_client, PHONE)) == 1

    # A whole (UTC) day of one attempt every seven minutes: 5 an hour, 10 a day.
    now = clock.now()
    clock.advance((now + timedelta(days=1)).replace(hour=0, minute=0, second=30) - now)
    hourly: list[int] = []
    for step in range(24 * 60 // 7):
        answer = await face_client.post("/v1/auth/otp", json={"id_number": me}, headers=at("10.9.9.9"))
        hourly.append(answer.status_code)
        if step < 24 * 60 // 7 - 1:
            clock.advance(timedelta(minutes=7))
    assert hourly[:9].count(202) == 5  # the first hour
    assert hourly.count(202) == 10
    assert len(await _inbox(face_client, PHONE)) == 11


async def test_one_phone_gets_one_code_a_minute_whichever_identity_asks(
    face_client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings
) -> None:
    first, _ = await _registered(face_client, 708, phone=OTHER_PHONE)
    second, _ = await _registered(face_client, 709, phone=OTHER_PHONE)
    answers = [await face_client.post("/v1/auth/otp", json={"id_number": who}) for who in (first, second)]
    assert [a.status_code for a in answers] == [202, 202]
    assert set(answers[0].json()) == set(answers[1].json())
    assert len(await _inbox(face_client, OTHER_PHONE)) == 1
    assert await db.fetchval("SELECT count(*) FROM audit_events WHERE action = 'otp.send_suppressed'") == 1


# --- registration never replaces an existing account's face or phone ---------------------------------------------


async def _template(db: asyncpg.Connection) -> str:
    value: str = await db.fetchval("SELECT template_enc FROM face_templates")
    return value


async def _phone(db: asyncpg.Connection, settings: Settings) -> str:
    row = await db.fetchrow("SELECT id, phone_enc FROM citizens WHERE phone_enc IS NOT NULL")
    assert row is not None
    return (
        FieldCipher(settings.security.field_keys).decrypt(row["phone_enc"], aad=f"citizens:phone:{row['id']}").decode()
    )


async def test_registering_an_existing_account_replaces_neither_face_nor_phone(
    face_client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    me, _ = await _registered(face_client, 710)
    template = await _template(db)
    # Frames from another photo of the same person match the registry photo...
    second = await _register(face_client, me, 900, phone=NEW_PHONE)
    assert second.status_code == 409, second.text
    assert second.json()["code"] == "already_registered"
    assert "access_token" not in second.text
    # ...but nothing was replaced, and the next code goes to the phone the owner gave.
    assert await _template(db) == template
    assert await _phone(db, settings) == PHONE
    assert (await face_client.post("/v1/auth/otp", json={"id_number": me})).status_code == 202
    assert len(await _inbox(face_client, PHONE)) == 1
    assert await _inbox(face_client, NEW_PHONE) == []
    assert await db.fetchval("SELECT count(*) FROM audit_events WHERE action = 'face.register.already_registered'") == 1


async def test_before_the_registry_match_an_existing_account_answers_like_no_account(
    face_client: AsyncTestClient[Litestar],
) -> None:
    me, _ = await _registered(face_client, 711)
    unknown = person(712)
    answers = [
        await flows.register(face_client, me, flows.astronaut(901)),
        await flows.register(face_client, unknown, flows.grace(902)),
        await _register(face_client, me, 903, name="别人"),
    ]
    assert len({str(flows.comparable(a)) for a in answers}) == 1
    assert answers[0].status_code == 401


async def test_a_match_against_the_registry_does_not_reset_the_enrolled_faces_failures(
    face_client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    me, _ = await _registered(face_client, 713)
    for i in range(3):
        assert (await flows.login(face_client, me, flows.astronaut(910 + i))).status_code == 401
    assert (await _register(face_client, me, 915)).status_code == 409
    assert await db.fetchval("SELECT consecutive_failures FROM face_throttles") == 3


async def test_a_withdrawn_face_is_re_enrolled_only_after_a_staff_reset(
    face_client: AsyncTestClient[Litestar],
    db: asyncpg.Connection,
    db_url: str,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    me, tokens = await _registered(face_client, 714)
    assert (await face_client.delete("/v1/me/face", headers=bearer(tokens["access_token"]))).status_code == 204
    refused = await _register(face_client, me, 920, phone=NEW_PHONE)
    assert refused.status_code == 409
    assert await db.fetchval("SELECT count(*) FROM face_templates") == 0

    for name, value in server_env(db_url).items():
        monkeypatch.setenv(name, value)
    args = ["faces", "reset", "--id-number", me, "--staff", "staff-042", "--reason", "ID card checked at counter"]
    assert await asyncio.to_thread(main, args) == 0
    audit = await db.fetchrow(
        "SELECT actor_type, actor_id, details->>'reason' AS reason FROM audit_events WHERE action = 'face.reset'"
    )
    assert audit is not None
    assert (audit["actor_type"], audit["actor_id"], audit["reason"]) == (
        "staff",
        "staff-042",
        "ID card checked at counter",
    )

    enrolled = await _register(face_client, me, 921, phone=NEW_PHONE)
    assert enrolled.status_code == 201, enrolled.text
    assert enrolled.json()["citizen_id"] == tokens["citizen_id"]
    assert await _phone(db, settings) == PHONE  # a reset re-enrols the face, never the phone
    assert await db.fetchval("SELECT count(*) FROM audit_events WHERE action = 'face.reenrolled'") == 1
    # The reset is spent.
    assert (await _register(face_client, me, 922)).status_code == 409
    assert (
        await asyncio.to_thread(main, ["faces", "reset", "--id-number", person(715), "--staff", "s", "--reason", "r"])
        == 1
    )


async def test_an_account_that_never_had_a_face_gets_its_first_one_but_keeps_its_phone(
    face_client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    """The demo's accounts (made in the sandbox, no face): registering enrols the face; a second time is 409."""
    me = person(723)
    await flows.add_identity(face_client, me)
    made = await face_client.post("/sandbox/citizens", json={"id_number": me})
    assert made.status_code == 201, made.text
    first = await _register(face_client, me, 960, phone=NEW_PHONE)
    assert first.status_code == 201, first.text
    assert first.json()["citizen_id"] == made.json()["citizen_id"]
    assert await db.fetchval("SELECT phone_enc FROM citizens") is None  # registration never sets an existing phone
    again = await _register(face_client, me, 961)
    assert again.status_code == 409


async def test_a_staff_reset_replaces_an_enrolled_face(
    face_client: AsyncTestClient[Litestar],
    db: asyncpg.Connection,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    me, _ = await _registered(face_client, 716)
    before = await _template(db)
    for name, value in server_env(db_url).items():
        monkeypatch.setenv(name, value)
    assert (
        await asyncio.to_thread(main, ["faces", "reset", "--id-number", me, "--staff", "s-1", "--reason", "new face"])
        == 0
    )
    assert await db.fetchval("SELECT count(*) FROM face_templates") == 0
    assert (await _register(face_client, me, 930)).status_code == 201
    assert await _template(db) != before


async def test_a_face_login_allows_one_re_enrolment_that_keeps_the_phone(
    face_client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    me, tokens = await _registered(face_client, 741)
    before = await _template(db)
    code_level = await _code_session(face_client, me)
    refused = await face_client.post("/v1/me/face/re-enrolment", headers=bearer(code_level))
    assert refused.status_code == 401
    assert refused.json()["code"] == "step_up_required"
    assert (await _register(face_client, me, 950, phone=NEW_PHONE)).status_code == 409

    allowed = await face_client.post("/v1/me/face/re-enrolment", headers=bearer(tokens["access_token"]))
    assert allowed.status_code == 201, allowed.text
    assert allowed.headers["cache-control"] == "no-store"
    assert await _template(db) == before  # the enrolled face works until a new one replaces it
    enrolled = await _register(face_client, me, 951, phone=NEW_PHONE)
    assert enrolled.status_code == 201, enrolled.text
    assert enrolled.json()["citizen_id"] == tokens["citizen_id"]
    assert await _template(db) != before
    assert await _phone(db, settings) == PHONE
    actions = await db.fetch(
        "SELECT action, actor_type FROM audit_events WHERE action LIKE 'face.reenrol%' ORDER BY action"
    )
    assert [(r["action"], r["actor_type"]) for r in actions] == [
        ("face.reenrolled", "client"),
        ("face.reenrolment.allowed", "citizen"),
    ]
    assert (await _register(face_client, me, 952)).status_code == 409  # spent

    fresh = (await _face_login(face_client, me, flows.grace(953), "10.0.0.9")).json()
    assert (
        await face_client.post("/v1/me/face/re-enrolment", headers=bearer(fresh["access_token"]))
    ).status_code == 201
    clock.advance(timedelta(minutes=11))
    assert (await _register(face_client, me, 954)).status_code == 409  # expired


# --- the face level for deleting the face and changing the phone -------------------------------------------------


async def _code_session(client: httpx.AsyncClient, id_number: str, phone: str = PHONE) -> str:
    started = (await client.post("/v1/auth/otp", json={"id_number": id_number})).json()
    code = _code((await _inbox(client, phone))[0])
    verified = await client.post("/v1/auth/otp/verify", json={"request_id": started["request_id"], "code": code})
    assert verified.status_code == 200, verified.text
    token: str = verified.json()["access_token"]
    return token


async def test_deleting_the_face_needs_the_face_level(
    face_client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    me, tokens = await _registered(face_client, 717)
    code_level = await _code_session(face_client, me)
    sandbox = (await face_client.post("/sandbox/tokens", json={"id_number": me})).json()["access_token"]
    for token in (code_level, sandbox):
        refused = await face_client.delete("/v1/me/face", headers=bearer(token))
        assert refused.status_code == 401
        assert refused.json()["code"] == "step_up_required"
    clock.advance(timedelta(minutes=6))
    stale = (await face_client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})).json()
    assert (await face_client.delete("/v1/me/face", headers=bearer(stale["access_token"]))).status_code == 401
    assert await db.fetchval("SELECT count(*) FROM face_templates") == 1
    fresh = await flows.login(face_client, me, flows.grace(940))
    assert (await face_client.delete("/v1/me/face", headers=bearer(fresh.json()["access_token"]))).status_code == 204


async def _wait_for(client: httpx.AsyncClient, phone: str, count: int) -> list[dict[str, Any]]:
    for _ in range(100):
        messages = await _inbox(client, phone)
        if len(messages) >= count:
            return messages
        await asyncio.sleep(0.1)
    return await _inbox(client, phone)


async def test_changing_the_phone_needs_the_face_level_and_a_code_from_the_new_number(
    face_client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    me, tokens = await _registered(face_client, 718)
    code_level = await _code_session(face_client, me)
    refused = await face_client.post("/v1/me/phone-change", json={"phone": NEW_PHONE}, headers=bearer(code_level))
    assert refused.status_code == 401
    assert refused.json()["code"] == "step_up_required"
    # A login code sent to the old phone before the change...
    clock.advance(timedelta(seconds=61))
    pending = (await face_client.post("/v1/auth/otp", json={"id_number": me})).json()
    pending_code = _code((await _inbox(face_client, PHONE))[0])

    clock.advance(timedelta(seconds=61))
    face = bearer(tokens["access_token"])
    started = await face_client.post("/v1/me/phone-change", json={"phone": NEW_PHONE}, headers=face)
    assert started.status_code == 202, started.text
    assert started.json()["phone_masked"] == "139****0002"
    assert await _phone(db, settings) == PHONE  # nothing changes before the confirmation
    code = _code((await _inbox(face_client, NEW_PHONE))[0])
    request_id = started.json()["request_id"]
    wrong = "000000" if code != "000000" else "111111"
    bad = await face_client.post(
        "/v1/me/phone-change/confirm", json={"request_id": request_id, "code": wrong}, headers=face
    )
    assert bad.status_code == 401
    assert bad.json()["code"] == "otp_invalid"
    # A login code is not a phone-change code.
    assert (
        await face_client.post(
            "/v1/me/phone-change/confirm",
            json={"request_id": pending["request_id"], "code": pending_code},
            headers=face,
        )
    ).status_code == 401
    done = await face_client.post(
        "/v1/me/phone-change/confirm", json={"request_id": request_id, "code": code}, headers=face
    )
    assert done.status_code == 200, done.text
    assert done.json()["phone_masked"] == "139****0002"
    assert await _phone(db, settings) == NEW_PHONE

    # The old number is told (through the outbox), and its pending login code stopped working.
    told = await _wait_for(face_client, PHONE, 3)
    assert "已更换为 139****0002" in told[0]["body"]
    stale = await face_client.post(
        "/v1/auth/otp/verify", json={"request_id": pending["request_id"], "code": pending_code}
    )
    assert stale.status_code == 401
    change = await db.fetchrow(
        "SELECT details->>'old' AS old, details->>'new' AS new FROM audit_events WHERE action = 'citizen.phone_changed'"
    )
    assert change is not None
    assert (change["old"], change["new"]) == ("138****0001", "139****0002")


async def test_phone_changes_are_limited_like_code_sends(
    face_client: AsyncTestClient[Litestar], clock: FrozenClock
) -> None:
    _, tokens = await _registered(face_client, 719)
    face = bearer(tokens["access_token"])
    first = await face_client.post("/v1/me/phone-change", json={"phone": NEW_PHONE}, headers=face)
    assert first.status_code == 202
    again = await face_client.post("/v1/me/phone-change", json={"phone": OTHER_PHONE}, headers=face)
    assert again.status_code == 429
    assert again.json()["code"] == "rate_limited"
    assert "retry-after" in again.headers
    same = await face_client.post("/v1/me/phone-change", json={"phone": PHONE}, headers=face)
    assert same.status_code in (422, 429)
    clock.advance(timedelta(minutes=6))
    stale = await face_client.post("/v1/me/phone-change", json={"phone": OTHER_PHONE}, headers=face)
    assert stale.json()["code"] == "step_up_required"


# --- device attestation of the first-party app --------------------------------------------------------------------


async def test_production_requires_attestation_from_the_first_party_app(
    db_url: str, clock: FrozenClock, engine: ProcessPoolFaceEngine
) -> None:
    settings = make_settings(db_url, HAOBAN_APP_ATTESTATION="")  # the production default
    private = ec.generate_private_key(ec.SECP256R1())
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    app = create_app(settings, database_url=db_url, clock=clock, face_engine=engine)
    async with AsyncTestClient(app=app) as client:
        await flows.add_client(client)  # registered as "optional", without a key
        me = person(720)
        await flows.add_identity(client, me)
        bare = await flows.register(client, me, flows.grace(950))
        assert bare.status_code == 401
        assert bare.json()["code"] == "attestation_invalid"

        await flows.add_client(client, attestation="optional", attestation_jwk=public)
        shots = flows.grace(951)
        ch = await flows.challenge(client, me, "register")
        claims = {
            "nonce": ch["nonce"],
            "frames_sha256": frame_digests(shots),
            "captured_at": int(clock.now().timestamp()),
        }
        body = {
            "challenge_id": ch["challenge_id"],
            "id_number": me,
            "name": "格蕾丝",
            "frames": flows.b64(shots),
            "consent": flows.TERMS,
            "attestation": jwt.encode(claims, private, algorithm="ES256"),
        }
        signed = await client.post("/v1/auth/register", json=body, headers=flows.CLIENT)
        assert signed.status_code == 201, signed.text


def test_the_demo_relaxes_attestation_and_says_so(tmp_path: Any) -> None:
    demo = load_settings({"HAOBAN_MODE": "demo", "HAOBAN_DATA_DIR": str(tmp_path)})
    assert demo.security.app_attestation == "optional"
    assert "OPTIONAL for haoban-app" in _banner(demo, [])
    production = load_settings(server_env("postgresql://x/y", HAOBAN_APP_ATTESTATION=""))
    assert production.security.app_attestation == "required"
    assert "OPTIONAL" not in _banner(production, [])
