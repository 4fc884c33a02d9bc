"""Throttling, device attestation, step-up, the one-time-code path and the sandbox shortcut."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.cli import main
from haoban.identity.attestation import frame_digests
from haoban.identity.face.engine import ProcessPoolFaceEngine
from haoban.identity.stepup import require_recent_face
from haoban.kit.clock import FrozenClock
from haoban.tokens.guard import AUTH_DEPENDENCIES, AUTH_GUARDS, CurrentPrincipal
from tests.conftest import LiveServer, make_settings, server_env
from tests.factories import bearer
from tests.identity import flows
from tests.sandbox.bodies import person


@get("/test/payout-like", guards=AUTH_GUARDS, dependencies=AUTH_DEPENDENCIES, include_in_schema=False)
async def payout_like(principal: CurrentPrincipal, state: State) -> dict[str, str]:
    require_recent_face(principal, state.runtime.clock.now())
    return {"ok": "yes"}


@pytest.fixture
async def face_client(
    db_url: str, clock: FrozenClock, engine: ProcessPoolFaceEngine
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_app(make_settings(db_url), database_url=db_url, clock=clock, face_engine=engine)
    app.register(payout_like)
    async with AsyncTestClient(app=app) as client:
        await flows.add_client(client)
        yield client


async def _registered(client: httpx.AsyncClient, seq: int, **over: Any) -> tuple[str, dict[str, Any]]:
    me = person(seq)
    await flows.add_identity(client, me)
    response = await flows.register(client, me, flows.grace(100 + seq), **over)
    assert response.status_code == 201, response.text
    return me, response.json()


async def _failures(db: asyncpg.Connection) -> int:
    value: int = await db.fetchval("SELECT consecutive_failures FROM face_throttles")
    return value


async def test_five_failures_lock_and_the_count_is_exact_under_concurrency(
    live_server: Callable[..., LiveServer], db: asyncpg.Connection
) -> None:
    """Against a real server process with two face workers, so attempts really overlap."""
    server = live_server(HAOBAN_FACE_WORKERS="2", HAOBAN_FACE_QUEUE_PER_WORKER="4")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        await flows.add_client(http)
        me, _ = await _registered(http, 401)
        first = await asyncio.gather(*(flows.login(http, me, flows.astronaut(200 + i)) for i in range(3)))
        assert [r.status_code for r in first] == [401, 401, 401]
        assert await _failures(db) == 3

        second = await asyncio.gather(*(flows.login(http, me, flows.astronaut(210 + i)) for i in range(4)))
        codes = sorted(r.status_code for r in second)
        assert codes == [401, 401, 423, 423], [r.json().get("code") for r in second]
        assert await _failures(db) == 5

        locked = await flows.login(http, me, flows.grace(220))
        assert locked.status_code == 423
        assert int(locked.headers["retry-after"]) >= 25


async def test_the_lock_expires_and_a_success_resets_the_count(
    face_client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    me, _ = await _registered(face_client, 411)
    for i in range(5):
        assert (await flows.login(face_client, me, flows.astronaut(260 + i))).status_code == 401
    assert (await flows.login(face_client, me, flows.grace(270))).status_code == 423
    clock.advance(timedelta(seconds=31))
    ok = await flows.login(face_client, me, flows.grace(221))
    assert ok.status_code == 200, ok.text
    assert await _failures(db) == 0


async def test_fifty_failures_disable_face_login_until_staff_reenable_it(
    face_client: AsyncTestClient[Litestar],
    db: asyncpg.Connection,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    clock: FrozenClock,
) -> None:
    me, _ = await _registered(face_client, 402)
    assert (await flows.login(face_client, me, flows.astronaut(230))).status_code == 401
    await db.execute("UPDATE face_throttles SET consecutive_failures = 49, locked_until = NULL")
    assert (await flows.login(face_client, me, flows.astronaut(231))).status_code == 401
    assert await db.fetchval("SELECT disabled_at IS NOT NULL FROM face_throttles")

    clock.advance(timedelta(hours=2))
    refused = await flows.login(face_client, me, flows.grace(232))
    assert refused.status_code == 423
    assert "disabled" in refused.json()["detail_en"]

    for name, value in server_env(db_url).items():
        monkeypatch.setenv(name, value)
    code = await asyncio.to_thread(
        main, ["faces", "reenable", "--id-number", me, "--staff", "staff-007", "--reason", "ID checked at counter"]
    )
    assert code == 0
    actor = await db.fetchrow("SELECT actor_type, actor_id FROM audit_events WHERE action = 'face.login_reenabled'")
    assert actor is not None
    assert (actor["actor_type"], actor["actor_id"]) == ("staff", "staff-007")
    final = await flows.login(face_client, me, flows.grace(300))
    assert final.status_code == 200, final.json()


def _key_pair() -> tuple[ec.EllipticCurvePrivateKey, dict[str, Any]]:
    private = ec.generate_private_key(ec.SECP256R1())
    public: dict[str, Any] = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    return private, public


async def test_attestation_required_clients_must_sign_the_capture(
    face_client: AsyncTestClient[Litestar], clock: FrozenClock
) -> None:
    private, public = _key_pair()
    await flows.add_client(face_client, client_id="secure-app", attestation="required", attestation_jwk=public)
    secure = {"X-Client-ID": "secure-app"}
    me = person(403)
    await flows.add_identity(face_client, me)

    async def attempt(frames: list[bytes], sign: Any) -> Any:
        ch = await flows.challenge(face_client, me, "register", headers=secure)
        body: dict[str, Any] = {
            "challenge_id": ch["challenge_id"],
            "id_number": me,
            "name": "格蕾丝",
            "frames": flows.b64(frames),
            "consent": flows.TERMS,
        }
        if sign is not None:
            body["attestation"] = sign(ch["nonce"], frames)
        return await face_client.post("/v1/auth/register", json=body, headers=secure)

    def good(nonce: str, frames: list[bytes]) -> str:
        claims = {"nonce": nonce, "frames_sha256": frame_digests(frames), "captured_at": int(clock.now().timestamp())}
        return jwt.encode(claims, private, algorithm="ES256")

    other, _ = _key_pair()
    refusals = [
        await attempt(flows.grace(240), None),
        await attempt(flows.grace(241), lambda n, f: good("another-nonce", f)),
        await attempt(
            flows.grace(242),
            lambda n, f: jwt.encode(
                {"nonce": n, "frames_sha256": frame_digests(f), "captured_at": int(clock.now().timestamp())},
                other,
                algorithm="ES256",
            ),
        ),
        await attempt(flows.grace(243), lambda n, f: good(n, f[:-1])),
    ]
    assert [r.json()["code"] for r in refusals] == ["attestation_invalid"] * 4
    accepted = await attempt(flows.grace(244), good)
    assert accepted.status_code == 201, accepted.text


async def test_step_up_is_required_for_a_stale_or_non_face_session(
    face_client: AsyncTestClient[Litestar], clock: FrozenClock
) -> None:
    me, tokens = await _registered(face_client, 404)
    assert (await face_client.get("/test/payout-like", headers=bearer(tokens["access_token"]))).status_code == 200

    clock.advance(timedelta(minutes=6))
    fresh_access = (await face_client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})).json()[
        "access_token"
    ]
    stale = await face_client.get("/test/payout-like", headers=bearer(fresh_access))
    assert stale.status_code == 401
    assert stale.json()["code"] == "step_up_required"

    ch = await flows.challenge(face_client, me, "step_up")
    stepped = await face_client.post(
        "/v1/auth/step-up",
        json={"challenge_id": ch["challenge_id"], "frames": flows.b64(flows.grace(250))},
        headers={**flows.CLIENT, **bearer(fresh_access)},
    )
    assert stepped.status_code == 200, stepped.text
    again = await face_client.get("/test/payout-like", headers=bearer(stepped.json()["access_token"]))
    assert again.status_code == 200

    sandbox = (await face_client.post("/sandbox/tokens", json={"id_number": me})).json()
    assert (await face_client.get("/test/payout-like", headers=bearer(sandbox["access_token"]))).json()[
        "code"
    ] == "step_up_required"


async def test_one_time_code_login_gives_a_lower_level(face_client: AsyncTestClient[Litestar]) -> None:
    me, _ = await _registered(face_client, 405, phone="13912345678")
    started = await face_client.post("/v1/auth/otp", json={"id_number": me})
    assert started.status_code == 202
    inbox = (await face_client.get("/sandbox/messages", params={"recipient": "13912345678"})).json()["messages"]
    code = inbox[0]["body"].split("验证码 ")[1][:6]

    wrong = "000000" if code != "000000" else "111111"
    bad = await face_client.post(
        "/v1/auth/otp/verify", json={"request_id": started.json()["request_id"], "code": wrong}
    )
    assert bad.status_code == 401
    ok = await face_client.post("/v1/auth/otp/verify", json={"request_id": started.json()["request_id"], "code": code})
    assert ok.status_code == 200, ok.text
    assert ok.json()["acr"] == "urn:haoban:loa:otp"
    payout = await face_client.get("/test/payout-like", headers=bearer(ok.json()["access_token"]))
    assert payout.json()["code"] == "step_up_required"
    reused = await face_client.post(
        "/v1/auth/otp/verify", json={"request_id": started.json()["request_id"], "code": code}
    )
    assert reused.status_code == 401


async def test_one_time_codes_answer_the_same_for_unknown_people(face_client: AsyncTestClient[Litestar]) -> None:
    known = await face_client.post("/v1/auth/otp", json={"id_number": person(406)})
    assert known.status_code == 202
    assert set(known.json()) == {"request_id", "expires_at"}


async def test_sandbox_tokens_need_a_registered_citizen(face_client: AsyncTestClient[Litestar]) -> None:
    me, _ = await _registered(face_client, 407)
    minted = await face_client.post("/sandbox/tokens", json={"id_number": me})
    assert minted.status_code == 201
    assert (await face_client.get("/v1/me", headers=bearer(minted.json()["access_token"]))).status_code == 200
    assert (await face_client.post("/sandbox/tokens", json={"id_number": person(408)})).status_code == 404


async def test_unusable_frames_are_limited_per_identity_not_per_client(
    face_client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    """Issue 20 changed this from a per-app-client count: ten unusable attempts a minute per identity."""
    from tests.identity import frames

    me, _ = await _registered(face_client, 409)
    other, _ = await _registered(face_client, 412)
    blank = [frames.no_face()] * 3
    answers = [await flows.login(face_client, me, blank) for _ in range(11)]
    assert [a.status_code for a in answers] == [422] * 10 + [429]
    assert answers[-1].json()["code"] == "rate_limited"
    assert int(answers[-1].headers["retry-after"]) >= 1
    # Unusable frames are not failed matches: the identity's count is untouched.
    assert await db.fetchval("SELECT max(consecutive_failures) FROM face_throttles") == 0
    # The same app client (and address) still serves everyone else.
    assert (await flows.login(face_client, other, flows.grace(280))).status_code == 200


async def test_a_full_face_queue_answers_503_with_retry_after(live_server: Callable[..., LiveServer]) -> None:
    """One worker with room for one five-frame attempt: concurrent attempts beyond it are turned away at once."""
    server = live_server(HAOBAN_FACE_WORKERS="1", HAOBAN_FACE_QUEUE_PER_WORKER="1")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        await flows.add_client(http)
        me, _ = await _registered(http, 410)
        answers = await asyncio.gather(*(flows.login(http, me, flows.astronaut(500 + i, n=5)) for i in range(4)))
        codes = [a.status_code for a in answers]
        assert 503 in codes, codes
        assert set(codes) <= {401, 503}
        busy = next(a for a in answers if a.status_code == 503)
        assert busy.json()["code"] == "face_busy"
        assert int(busy.headers["retry-after"]) >= 1
        assert (await http.get("/health/ready")).status_code == 200
