"""Sandbox routes for identity testers: tokens without a camera, app clients, the phone inbox."""

from __future__ import annotations

import json
from typing import Annotated, Any

import msgspec
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from jwt.algorithms import ECAlgorithm
from jwt.exceptions import InvalidKeyError
from litestar import Response, Router, get, post
from litestar.params import Body, QueryParameter

from haoban.citizens import service as citizens
from haoban.deps import Conn, RuntimeDep
from haoban.identity import service as identity
from haoban.identity.schemas import AppClientCreate, SandboxTokenRequest
from haoban.kit.errors import FieldError, NotFound, ValidationFailed
from haoban.kit.openapi import PUBLIC, example, problems, success
from haoban.notifications import service as messages
from haoban.notifications.service import SandboxMessage
from haoban.sandbox.guard import sandbox_only
from haoban.sandbox.service import SANDBOX_ACTOR, sandbox_grant
from haoban.tokens.schemas import TokenPair

_PAIR = {
    "access_token": "eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLiIsInR5cCI6ImF0K2p3dCJ9...",
    "token_type": "Bearer",
    "expires_in": 600,
    "refresh_token": "hbr_x0m1Yf3kQ2bq8Jw7W2VZ0ZxRk7h0qB9Uu4n2b5cF1sE",
    "refresh_token_expires_at": "2026-12-28T10:30:00Z",
    "scope": "openid profile",
}


class SandboxInbox(msgspec.Struct, frozen=True, kw_only=True):
    messages: list[SandboxMessage]


@post(
    "/tokens",
    operation_id="sandboxTokensForIdNumber",
    summary="Mint tokens for a registered test citizen, by ID number",
    description=(
        'Sandbox only: no camera needed. Tokens carry `amr: ["sandbox"]` and a sandbox `acr`; with `"acr": "face"`'
        ' they carry the face level (`acr` urn:haoban:loa:face, `amr: ["face", "sandbox"]`) that applications and'
        " payouts ask for. Every sandbox token is refused once the sandbox is off."
    ),
    responses={
        **success(201, TokenPair, "Tokens", example("tokens", _PAIR)),
        **problems(400, 404, 422),
    },
)
async def tokens_for(
    data: Annotated[
        SandboxTokenRequest,
        Body(
            examples=[
                *example("demo renter", {"id_number": "11010519491231002X"}),
                *example("face level", {"id_number": "11010519491231002X", "acr": "face"}),
            ]
        ),
    ],
    conn: Conn,
    runtime: RuntimeDep,
) -> Response[TokenPair]:
    citizen_id = await citizens.find_by_id_number(conn, runtime.vault.index(data.id_number))
    if citizen_id is None:
        raise NotFound("No citizen account is registered with this ID number.")
    grant = sandbox_grant(citizen_id, ("openid", "profile"), data.acr, runtime.clock.now())
    pair = await runtime.tokens.issue(conn, grant, actor=SANDBOX_ACTOR)
    return Response(pair, status_code=201, headers={"Cache-Control": "no-store"})


@post(
    "/app-clients",
    operation_id="sandboxRegisterAppClient",
    summary="Register an app client (with an ES256 attestation key when attestation is required)",
    responses={**problems(400, 422)},
    status_code=204,
)
async def register_client(
    data: Annotated[
        AppClientCreate,
        Body(examples=example("demo app", {"client_id": "my-app", "name": "My app", "attestation": "optional"})),
    ],
    conn: Conn,
    runtime: RuntimeDep,
) -> None:
    if data.attestation_jwk is not None:
        if why := jwk_problem(data.attestation_jwk):
            raise ValidationFailed(errors=[FieldError(field="attestation_jwk", reason=why)])
    elif data.attestation == "required":
        raise ValidationFailed(
            errors=[FieldError(field="attestation_jwk", reason="an EC P-256 public JWK is required")]
        )
    await register_app_client(conn, runtime, data)


def jwk_problem(jwk: dict[str, Any]) -> str | None:
    """Why this is not an EC P-256 public JWK that the attestation check can load, or None."""
    if "d" in jwk:
        return "send the public key only"
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        return "an EC P-256 public JWK is required (kty EC, crv P-256)"
    try:
        key = ECAlgorithm.from_jwk(json.dumps(jwk))
    except (InvalidKeyError, ValueError, TypeError):
        return "x and y must be the base64url coordinates of a point on P-256"
    if not isinstance(key, EllipticCurvePublicKey):
        return "send the public key only"
    return None


async def register_app_client(conn: Conn, runtime: RuntimeDep, data: AppClientCreate) -> None:
    await identity.register_app_client(conn, data, at=runtime.clock.now())


@get(
    "/messages",
    operation_id="sandboxMessages",
    summary="What the sandbox phone or app received (one-time codes by phone, application notices by citizen)",
    responses={
        **success(
            200,
            SandboxInbox,
            "Newest first",
            example(
                "one code",
                {
                    "messages": [
                        {
                            "id": 1,
                            "channel": "sms",
                            "recipient": "13812345678",
                            "body": "【好办】登录验证码 042137，5 分钟内有效。",
                            "sent_at": "2026-11-28T10:30:00Z",
                        }
                    ]
                },
            ),
        ),
        **problems(400, 422),
    },
)
async def inbox(
    conn: Conn,
    recipient: Annotated[
        str,
        QueryParameter(
            name="recipient",
            pattern=r"^(1[3-9]\d{9}|citizen:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$",
            description="A phone number (one-time codes) or `citizen:<citizen_id>` (application notices in the app)",
        ),
    ],
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=50)] = 10,
) -> SandboxInbox:
    return SandboxInbox(messages=await messages.for_recipient(conn, recipient, limit))


router = Router(
    path="/sandbox",
    route_handlers=[tokens_for, register_client, inbox],
    guards=[sandbox_only],
    tags=["sandbox"],
    security=PUBLIC,
)
