"""Face challenges, registration, face login, step-up, the one-time-code path, withdrawing a face."""

from __future__ import annotations

from typing import Annotated, cast

from litestar import Request, Response, Router, delete, post
from litestar.datastructures import State
from litestar.params import Body, HeaderParameter

from haoban.deps import Conn
from haoban.identity import flows, service
from haoban.identity.examples import (
    CHALLENGE_CREATE_EXAMPLE,
    CHALLENGE_EXAMPLE,
    LOGIN_EXAMPLE,
    OTP_START_EXAMPLE,
    OTP_STARTED_EXAMPLE,
    OTP_VERIFY_EXAMPLE,
    REGISTER_EXAMPLE,
    STEP_UP_EXAMPLE,
    TOKENS_EXAMPLE,
)
from haoban.identity.schemas import (
    AuthTokens,
    Challenge,
    ChallengeCreate,
    FaceLoginRequest,
    OtpStart,
    OtpStarted,
    OtpVerify,
    RegisterRequest,
    StepUpRequest,
)
from haoban.kit.errors import AppError
from haoban.kit.openapi import PUBLIC, example, problems, success
from haoban.kit.problems import problem_response
from haoban.runtime import Runtime
from haoban.tokens.guard import AUTH_DEPENDENCIES, AUTH_GUARDS, CurrentPrincipal

NO_STORE = {"Cache-Control": "no-store"}
FACE_BODY_LIMIT = 8 * 1_048_576  # five frames of 1 MB, base64-encoded
ClientId = Annotated[
    str,
    HeaderParameter(
        name="X-Client-ID",
        description="The calling app client (the demo app is `haoban-app`).",
        pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$",
    ),
]
_FACE_PROBLEMS = problems(
    400,
    401,
    413,
    422,
    423,
    429,
    503,
    codes={401: "face_verification_failed", 422: "validation_failed", 423: "face_login_locked", 503: "face_busy"},
)


def _answer(
    request: Request[object, object, State], outcome: AuthTokens | AppError, status: int
) -> Response[AuthTokens]:
    """Failures that changed counters are returned, not raised, so the transaction that counted them commits."""
    if isinstance(outcome, AppError):
        problem = problem_response(
            request,
            status=outcome.status,
            code=outcome.code,
            detail=outcome.detail,
            headers={**outcome.headers, **NO_STORE},
            extra=outcome.extra,
        )
        return cast("Response[AuthTokens]", problem)
    return Response(outcome, status_code=status, headers=NO_STORE)


@post(
    "/auth/face/challenges",
    operation_id="createFaceChallenge",
    summary="Start a face verification",
    description=(
        "Lives 120 s, single use, bound to the ID number, the purpose and the calling client. "
        "The answer is the same whether or not the ID number is known."
    ),
    tags=["identity"],
    security=PUBLIC,
    status_code=201,
    responses={
        **success(201, Challenge, "The challenge", example("login", CHALLENGE_EXAMPLE)),
        **problems(400, 401, 422, codes={401: "unknown_client"}),
    },
)
async def create_challenge(
    data: Annotated[ChallengeCreate, Body(examples=example("login", CHALLENGE_CREATE_EXAMPLE))],
    client_id: ClientId,
    conn: Conn,
    state: State,
) -> Challenge:
    return await service.create_challenge(conn, state.runtime, client_id, data)


@post(
    "/auth/register",
    operation_id="registerWithFace",
    summary="Real-name registration: face matched 1:1 against the ID photo",
    description=(
        "Needs explicit biometric consent. The frames are checked (one face each, size, sharpness, same person, "
        "motion between frames, no replay) and matched against the identity registry's photo. Motion evidence is "
        "not presentation-attack detection: apps that can, attest their capture (device attestation)."
    ),
    tags=["identity"],
    security=PUBLIC,
    status_code=201,
    request_max_body_size=FACE_BODY_LIMIT,
    responses={**success(201, AuthTokens, "Registered", example("tokens", TOKENS_EXAMPLE)), **_FACE_PROBLEMS},
)
async def register(
    data: Annotated[RegisterRequest, Body(examples=example("register", REGISTER_EXAMPLE))],
    client_id: ClientId,
    request: Request[object, object, State],
    state: State,
) -> Response[AuthTokens]:
    runtime: Runtime = state.runtime
    return _answer(request, await flows.register(runtime, client_id, data), 201)


@post(
    "/auth/face-login",
    operation_id="faceLogin",
    summary="Log in by face",
    tags=["identity"],
    security=PUBLIC,
    status_code=200,
    request_max_body_size=FACE_BODY_LIMIT,
    responses={**success(200, AuthTokens, "Signed in", example("tokens", TOKENS_EXAMPLE)), **_FACE_PROBLEMS},
)
async def face_login(
    data: Annotated[FaceLoginRequest, Body(examples=example("login", LOGIN_EXAMPLE))],
    client_id: ClientId,
    request: Request[object, object, State],
    state: State,
) -> Response[AuthTokens]:
    return _answer(request, await flows.login(state.runtime, client_id, data), 200)


@post(
    "/auth/step-up",
    operation_id="faceStepUp",
    summary="Verify the signed-in citizen's face again (step-up)",
    description="Payouts, bank-card changes and OAuth consent need a face verification within five minutes.",
    tags=["identity"],
    status_code=200,
    request_max_body_size=FACE_BODY_LIMIT,
    guards=AUTH_GUARDS,
    dependencies=AUTH_DEPENDENCIES,
    responses={**success(200, AuthTokens, "Fresh tokens", example("tokens", TOKENS_EXAMPLE)), **_FACE_PROBLEMS},
)
async def step_up(  # noqa: PLR0917 (Litestar passes these by name)
    data: Annotated[StepUpRequest, Body(examples=example("step-up", STEP_UP_EXAMPLE))],
    client_id: ClientId,
    principal: CurrentPrincipal,
    conn: Conn,
    request: Request[object, object, State],
    state: State,
) -> Response[AuthTokens]:
    return _answer(request, await flows.step_up(conn, state.runtime, principal, client_id, data), 200)


@post(
    "/auth/otp",
    operation_id="startOtpLogin",
    summary="Send a one-time code to the registered phone (no face)",
    description="For citizens who decline face verification. Gives a lower `acr`; services that pay out refuse it.",
    tags=["identity"],
    security=PUBLIC,
    status_code=202,
    responses={
        **success(202, OtpStarted, "Code sent if the phone is registered", example("sent", OTP_STARTED_EXAMPLE)),
        **problems(400, 422),
    },
)
async def start_otp(
    data: Annotated[OtpStart, Body(examples=example("start", OTP_START_EXAMPLE))], conn: Conn, state: State
) -> OtpStarted:
    return await flows.start_otp(conn, state.runtime, data)


@post(
    "/auth/otp/verify",
    operation_id="verifyOtpLogin",
    summary="Log in with the one-time code",
    tags=["identity"],
    security=PUBLIC,
    status_code=200,
    responses={
        **success(200, AuthTokens, "Signed in at the code level", example("tokens", TOKENS_EXAMPLE)),
        **problems(400, 401, 422, codes={401: "otp_invalid"}),
    },
)
async def verify_otp(
    data: Annotated[OtpVerify, Body(examples=example("verify", OTP_VERIFY_EXAMPLE))],
    conn: Conn,
    request: Request[object, object, State],
    state: State,
) -> Response[AuthTokens]:
    return _answer(request, await flows.verify_otp(conn, state.runtime, data), 200)


@delete(
    "/me/face",
    operation_id="deleteMyFace",
    summary="Withdraw biometric consent and delete my face template",
    tags=["identity"],
    status_code=204,
    guards=AUTH_GUARDS,
    dependencies=AUTH_DEPENDENCIES,
    responses=problems(401, 404),
)
async def delete_face(principal: CurrentPrincipal, conn: Conn, state: State) -> None:
    await flows.withdraw_face(conn, state.runtime, principal)


router = Router(
    path="/v1",
    route_handlers=[create_challenge, register, face_login, step_up, start_otp, verify_otp, delete_face],
)
