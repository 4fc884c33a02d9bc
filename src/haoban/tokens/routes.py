"""JWKS, refresh and sign-out."""

from __future__ import annotations

from typing import Annotated, cast

from litestar import Request, Response, Router, get, post
from litestar.datastructures import State
from litestar.params import Body

from haoban.deps import Conn, RuntimeDep
from haoban.kit.openapi import PUBLIC, example, problems, success
from haoban.kit.problems import problem_response
from haoban.tokens.guard import AUTH_DEPENDENCIES, AUTH_GUARDS, CurrentPrincipal
from haoban.tokens.schemas import Jwks, RefreshRequest, TokenPair
from haoban.tokens.service import InvalidGrant

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

_PAIR_EXAMPLE = {
    "access_token": "eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLiIsInR5cCI6ImF0K2p3dCJ9...",
    "token_type": "Bearer",
    "expires_in": 600,
    "refresh_token": "hbr_x0m1Yf3kQ2bq8Jw7W2VZ0ZxRk7h0qB9Uu4n2b5cF1sE",
    "refresh_token_expires_at": "2026-12-28T10:30:00Z",
    "scope": "openid profile",
}

_JWKS_EXAMPLE = {
    "keys": [
        {
            "kty": "EC",
            "crv": "P-256",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
            "kid": "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
            "use": "sig",
            "alg": "ES256",
        }
    ]
}


@get(
    "/.well-known/jwks.json",
    operation_id="getJwks",
    summary="Public signing keys (JWKS)",
    description="Public members only. Retired keys stay here until every token they signed has expired.",
    tags=["tokens"],
    security=PUBLIC,
    responses={**success(200, Jwks, "The JSON Web Key Set", example("one active key", _JWKS_EXAMPLE)), **problems()},
    cache=False,
)
async def jwks(runtime: RuntimeDep) -> Jwks:
    return Jwks(keys=await runtime.keyring.jwks(runtime.pool))


@post(
    "/v1/auth/refresh",
    operation_id="refreshTokens",
    summary="Rotate a refresh token for a new token pair",
    description=(
        "Each refresh token works once. Presenting one that was already used revokes the whole session "
        "(every refresh and access token of that sign-in)."
    ),
    tags=["tokens"],
    security=PUBLIC,
    status_code=200,
    responses={
        **success(200, TokenPair, "A new token pair", example("token pair", _PAIR_EXAMPLE)),
        **problems(400, 422, codes={400: "invalid_grant"}),
    },
)
async def refresh(
    data: Annotated[
        RefreshRequest,
        Body(examples=example("refresh", {"refresh_token": "hbr_x0m1Yf3kQ2bq8Jw7W2VZ0ZxRk7h0qB9Uu4n2b5cF1sE"})),
    ],
    conn: Conn,
    runtime: RuntimeDep,
    request: Request[object, object, State],
) -> Response[TokenPair]:
    result = await runtime.tokens.refresh(conn, data.refresh_token)
    if isinstance(result, InvalidGrant):
        # Returned, not raised: the reuse revocation must commit.
        problem = problem_response(
            request, status=result.status, code=result.code, detail=result.detail, headers=NO_STORE
        )
        return cast("Response[TokenPair]", problem)
    return Response(result, status_code=200, headers=NO_STORE)


@post(
    "/v1/auth/logout",
    operation_id="logout",
    summary="End this session",
    description="Revokes every refresh and access token of the current sign-in.",
    tags=["tokens"],
    status_code=204,
    guards=AUTH_GUARDS,
    dependencies=AUTH_DEPENDENCIES,
    responses=problems(401),
)
async def logout(principal: CurrentPrincipal, conn: Conn, runtime: RuntimeDep) -> None:
    await runtime.tokens.revoke_session(conn, principal, reason="logout")


router = Router(path="/", route_handlers=[jwks, refresh, logout])
