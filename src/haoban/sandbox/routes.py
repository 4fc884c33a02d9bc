"""Routes for testers; 404 unless sandbox mode is on."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Response, Router, post
from litestar.params import Body, FromPath

from haoban.deps import Conn, RuntimeDep
from haoban.kit.openapi import PUBLIC, example, problems, success
from haoban.sandbox import service
from haoban.sandbox.guard import sandbox_only
from haoban.sandbox.schemas import TestCitizen, TestCitizenCreate, TestTokenCreate
from haoban.tokens.schemas import TokenPair

_CITIZEN = "7d0b6a52-3c1e-4f0a-9b8e-000000000001"
_PAIR_EXAMPLE = {
    "access_token": "eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLiIsInR5cCI6ImF0K2p3dCJ9...",
    "token_type": "Bearer",
    "expires_in": 600,
    "refresh_token": "hbr_q3Zt8Lm2Xc5Vb9Nw1Rk4Hy7Jd0Fs6Ga2Pe8Uo3Ti5",
    "refresh_token_expires_at": "2026-12-28T10:30:00Z",
    "scope": "openid profile",
}


@post(
    "/citizens",
    operation_id="sandboxCreateCitizen",
    summary="Create a test citizen account",
    description="Idempotent when `citizen_id` is given. Later issues add identities with ID photos here.",
    responses={
        **success(201, TestCitizen, "Created", example("created", {"citizen_id": _CITIZEN, "created": True})),
        **success(200, TestCitizen, "Already there", example("existed", {"citizen_id": _CITIZEN, "created": False})),
        # 409: the ID number belongs to another account, or the account exists with another ID number.
        **problems(400, 404, 409, 422),
    },
)
async def create_citizen(
    data: Annotated[TestCitizenCreate, Body(examples=example("new test citizen", {}))],
    conn: Conn,
    runtime: RuntimeDep,
) -> Response[TestCitizen]:
    result = await service.create_test_citizen(conn, runtime, data)
    return Response(result, status_code=201 if result.created else 200)


@post(
    "/citizens/{citizen_id:uuid}/tokens",
    operation_id="sandboxMintTokens",
    summary="Mint a token pair for a test citizen",
    description=(
        'Tokens carry `amr: ["sandbox"]` and a sandbox `acr`. With `"acr": "face"` they carry the face level'
        ' (`amr: ["face", "sandbox"]`) that applications and payouts ask for. Refused once the sandbox is off.'
    ),
    responses={
        **success(201, TokenPair, "A token pair for the test citizen", example("token pair", _PAIR_EXAMPLE)),
        **problems(400, 404, 422),
    },
)
async def mint_tokens(
    citizen_id: FromPath[UUID],
    data: Annotated[TestTokenCreate, Body(examples=example("openid scope", {"scope": ["openid", "profile"]}))],
    conn: Conn,
    runtime: RuntimeDep,
) -> Response[TokenPair]:
    pair = await service.mint_test_tokens(conn, runtime, citizen_id, data)
    return Response(pair, status_code=201, headers={"Cache-Control": "no-store"})


router = Router(
    path="/sandbox",
    route_handlers=[create_citizen, mint_tokens],
    guards=[sandbox_only],
    tags=["sandbox"],
    security=PUBLIC,
)
