"""Face challenges, registration, face login, step-up, the one-time-code path, withdrawing a face, phone changes."""

from __future__ import annotations

from typing import Annotated, TypeVar, cast

from litestar import Request, Response, Router, delete, post
from litestar.datastructures import State
from litestar.params import Body, HeaderParameter

from haoban.deps import Conn, RuntimeDep
from haoban.identity import codes, service
from haoban.identity.examples import (
    CHALLENGE_CREATE_EXAMPLE,
    CHALLENGE_EXAMPLE,
    LOGIN_EXAMPLE,
    OTP_START_EXAMPLE,
    OTP_STARTED_EXAMPLE,
    OTP_VERIFY_EXAMPLE,
    PHONE_CHANGE_CONFIRM_EXAMPLE,
    PHONE_CHANGE_START_EXAMPLE,
    PHONE_CHANGE_STARTED_EXAMPLE,
    PHONE_CHANGED_EXAMPLE,
    REENROLMENT_ALLOWED_EXAMPLE,
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
    PhoneChangeConfirm,
    PhoneChanged,
    PhoneChangeStart,
    PhoneChangeStarted,
    ReenrolmentAllowed,
    RegisterRequest,
    StepUpRequest,
)
from haoban.kit.errors import AppError
from haoban.kit.openapi import PUBLIC, example, problems, success
from haoban.kit.problems import problem_response
from haoban.limits.http import request_address
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
_FACE_CODES = {
    401: "face_verification_failed",
    422: "validation_failed",
    423: "face_login_locked",
    429: "rate_limited",
    503: "face_busy",
}
_FACE_PROBLEMS = problems(400, 401, 413, 422, 423, 429, 503, codes=_FACE_CODES)
T = TypeVar("T")


def _address(request: Request[object, object, State], runtime: RuntimeDep) -> str:
    return request_address(request, runtime.settings.http.trusted_proxies)


def _answer(request: Request[object, object, State], outcome: T | AppError, status: int) -> Response[T]:
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
        return cast("Response[T]", problem)
    return Response(outcome, status_code=status, headers=NO_STORE)


@post(
    "/auth/face/challenges",
    operation_id="createFaceChallenge",
    summary="Start a face verification",
    description=(
        "Lives 120 s, single use, bound to the ID number, the purpose and the calling client. "
        "The answer is the same whether or not the ID number is known. Limited per source address and per "
        "ID number (429 `rate_limited` with Retry-After)."
    ),
    tags=["identity"],
    security=PUBLIC,
    status_code=201,
    responses={
        **success(201, Challenge, "The challenge", example("login", CHALLENGE_EXAMPLE)),
        **problems(400, 401, 422, 429, codes={401: "unknown_client", 429: "rate_limited"}),
    },
)
async def create_challenge(
    data: Annotated[ChallengeCreate, Body(examples=example("login", CHALLENGE_CREATE_EXAMPLE))],
    client_id: ClientId,
    conn: Conn,
    request: Request[object, object, State],
    runtime: RuntimeDep,
) -> Challenge:
    return await service.create_challenge(conn, runtime, client_id, data, address=_address(request, runtime))


@post(
    "/auth/register",
    operation_id="registerWithFace",
    summary="Real-name registration: face matched 1:1 against the ID photo",
    description=(
        "Needs explicit biometric consent. The frames are checked (one face each, size, sharpness, same person, "
        "motion between frames, no replay) and matched against the identity registry's photo. Motion evidence is "
        "not presentation-attack detection: apps that can, attest their capture (device attestation). "
        "An existing account is never given a new phone here, nor a new face once it had one: after the face "
        "has matched the registry photo the answer is 409 `already_registered` (log in instead), unless a service "
        "centre reset face login (`haoban faces reset`). Before the match every failure is the same 401."
    ),
    tags=["identity"],
    security=PUBLIC,
    status_code=201,
    request_max_body_size=FACE_BODY_LIMIT,
    responses={
        **success(201, AuthTokens, "Registered", example("tokens", TOKENS_EXAMPLE)),
        **problems(400, 401, 409, 413, 422, 423, 429, 503, codes={**_FACE_CODES, 409: "already_registered"}),
    },
)
async def register(
    data: Annotated[RegisterRequest, Body(examples=example("register", REGISTER_EXAMPLE))],
    client_id: ClientId,
    request: Request[object, object, State],
    runtime: RuntimeDep,
) -> Response[AuthTokens]:
    return _answer(request, await service.register(runtime, client_id, data, address=_address(request, runtime)), 201)


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
    runtime: RuntimeDep,
) -> Response[AuthTokens]:
    return _answer(request, await service.login(runtime, client_id, data, address=_address(request, runtime)), 200)


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
    runtime: RuntimeDep,
) -> Response[AuthTokens]:
    outcome = await service.step_up(conn, runtime, principal, client_id, data, address=_address(request, runtime))
    return _answer(request, outcome, 200)


@post(
    "/auth/otp",
    operation_id="startOtpLogin",
    summary="Send a one-time code to the registered phone (no face)",
    description=(
        "For citizens who decline face verification. Gives a lower `acr`; services that pay out refuse it. "
        "A code lives 5 minutes and takes 5 tries. Sends are limited per ID number (1 a minute, 5 an hour, "
        "10 a day), per phone and per source address; a phone over its limit gets no code, with the same answer."
    ),
    tags=["identity"],
    security=PUBLIC,
    status_code=202,
    responses={
        **success(202, OtpStarted, "Code sent if the phone is registered", example("sent", OTP_STARTED_EXAMPLE)),
        **problems(400, 422, 429, 503, codes={429: "rate_limited"}),
    },
)
async def start_otp(
    data: Annotated[OtpStart, Body(examples=example("start", OTP_START_EXAMPLE))],
    conn: Conn,
    request: Request[object, object, State],
    runtime: RuntimeDep,
) -> OtpStarted:
    return await codes.start_otp(conn, runtime, data, address=_address(request, runtime))


@post(
    "/auth/otp/verify",
    operation_id="verifyOtpLogin",
    summary="Log in with the one-time code",
    description=(
        "Ten wrong codes in a row for one ID number (across codes) lock it, for a minute and then twice as long "
        "each time (429 `rate_limited` with Retry-After); a right code ends the streak. Also limited per address."
    ),
    tags=["identity"],
    security=PUBLIC,
    status_code=200,
    responses={
        **success(200, AuthTokens, "Signed in at the code level", example("tokens", TOKENS_EXAMPLE)),
        **problems(400, 401, 422, 429, codes={401: "otp_invalid", 429: "rate_limited"}),
    },
)
async def verify_otp(
    data: Annotated[OtpVerify, Body(examples=example("verify", OTP_VERIFY_EXAMPLE))],
    conn: Conn,
    request: Request[object, object, State],
    runtime: RuntimeDep,
) -> Response[AuthTokens]:
    return _answer(request, await codes.verify_otp(conn, runtime, data, address=_address(request, runtime)), 200)


@delete(
    "/me/face",
    operation_id="deleteMyFace",
    summary="Withdraw biometric consent and delete my face template",
    description="Needs the face level: a face verification (login or step-up) within the last five minutes.",
    tags=["identity"],
    status_code=204,
    guards=AUTH_GUARDS,
    dependencies=AUTH_DEPENDENCIES,
    responses=problems(401, 404, codes={401: "step_up_required"}),
)
async def delete_face(principal: CurrentPrincipal, conn: Conn, runtime: RuntimeDep) -> None:
    await service.withdraw_face(conn, runtime, principal)


@post(
    "/me/face/re-enrolment",
    operation_id="allowFaceReenrolment",
    summary="Allow enrolling a new face (after a face login)",
    description=(
        "Needs the face level: a face verification with the enrolled face within five minutes. The next "
        "`POST /v1/auth/register` of this identity within ten minutes whose face matches the registry photo "
        "replaces the enrolled face; until then the enrolled face keeps working. The phone number stays."
    ),
    tags=["identity"],
    status_code=201,
    guards=AUTH_GUARDS,
    dependencies=AUTH_DEPENDENCIES,
    responses={
        **success(
            201,
            ReenrolmentAllowed,
            "Re-enrolment allowed until `expires_at`",
            example("allowed", REENROLMENT_ALLOWED_EXAMPLE),
        ),
        **problems(401, 404, codes={401: "step_up_required"}),
    },
)
async def allow_face_reenrolment(
    principal: CurrentPrincipal, conn: Conn, runtime: RuntimeDep
) -> Response[ReenrolmentAllowed]:
    return Response(await service.allow_reenrolment(conn, runtime, principal), status_code=201, headers=NO_STORE)


_PHONE_CODES = {401: "step_up_required", 422: "validation_failed", 429: "rate_limited", 503: "service_unavailable"}


@post(
    "/me/phone-change",
    operation_id="startPhoneChange",
    summary="Change my phone number: send a code to the new number",
    description=(
        "Needs the face level (a face verification within five minutes). The number changes only when the code "
        "sent to the new number is confirmed. Limited like one-time-code sends (per ID number, per phone, per "
        "address)."
    ),
    tags=["identity"],
    status_code=202,
    guards=AUTH_GUARDS,
    dependencies=AUTH_DEPENDENCIES,
    responses={
        **success(
            202, PhoneChangeStarted, "Code sent to the new number", example("sent", PHONE_CHANGE_STARTED_EXAMPLE)
        ),
        **problems(400, 401, 422, 429, 503, codes=_PHONE_CODES),
    },
)
async def start_phone_change(
    data: Annotated[PhoneChangeStart, Body(examples=example("new number", PHONE_CHANGE_START_EXAMPLE))],
    principal: CurrentPrincipal,
    conn: Conn,
    request: Request[object, object, State],
    runtime: RuntimeDep,
) -> Response[PhoneChangeStarted]:
    started = await codes.start_phone_change(conn, runtime, principal, data, address=_address(request, runtime))
    return Response(started, status_code=202, headers=NO_STORE)


@post(
    "/me/phone-change/confirm",
    operation_id="confirmPhoneChange",
    summary="Confirm the new phone number with its code",
    description=(
        "Needs the face level too. On success the old number is told by SMS, and codes already sent to it stop "
        "working. Wrong codes count towards the same lockout as code logins."
    ),
    tags=["identity"],
    status_code=200,
    guards=AUTH_GUARDS,
    dependencies=AUTH_DEPENDENCIES,
    responses={
        **success(200, PhoneChanged, "The number is changed", example("changed", PHONE_CHANGED_EXAMPLE)),
        **problems(400, 401, 422, 429, codes={**_PHONE_CODES, 401: "otp_invalid"}),
    },
)
async def confirm_phone_change(
    data: Annotated[PhoneChangeConfirm, Body(examples=example("code", PHONE_CHANGE_CONFIRM_EXAMPLE))],
    principal: CurrentPrincipal,
    conn: Conn,
    request: Request[object, object, State],
    runtime: RuntimeDep,
) -> Response[PhoneChanged]:
    outcome = await codes.confirm_phone_change(conn, runtime, principal, data, address=_address(request, runtime))
    return _answer(request, outcome, 200)


router = Router(
    path="/v1",
    route_handlers=[
        create_challenge,
        register,
        face_login,
        step_up,
        start_otp,
        verify_otp,
        delete_face,
        allow_face_reenrolment,
        start_phone_change,
        confirm_phone_change,
    ],
)
