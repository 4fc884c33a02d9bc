"""HTTP for the OAuth 2 / OpenID Connect provider (one module per spec behind these routes)."""

from __future__ import annotations

from typing import Annotated, cast

from litestar import Request, Response, Router, delete, get, post
from litestar.datastructures import State
from litestar.enums import MediaType, RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, PathParameter, QueryParameter
from litestar.response import Redirect

from haoban.deps import Conn, RuntimeDep
from haoban.kit.openapi import PUBLIC, example, problems, success
from haoban.oauth import authorize, clients, examples, introspect, logout, par, revoke, token, userinfo
from haoban.oauth.errors import EXCEPTION_HANDLERS, NO_STORE, InvalidRequest, OAuthError, oauth_response, single_valued
from haoban.oauth.guard import SCOPED_DEPENDENCIES, SCOPED_GUARDS
from haoban.oauth.metadata import provider_metadata
from haoban.oauth.schemas import (
    ApprovalList,
    AuthorizationDecision,
    AuthorizationRedirect,
    AuthorizationView,
    Client,
    Introspection,
    LoggedOut,
    OAuthTokenResponse,
    ParResponse,
    ProviderMetadata,
    UserInfo,
)
from haoban.route_limits import par_limit, token_limit
from haoban.tokens.guard import AUTH_DEPENDENCIES, AUTH_GUARDS, CurrentPrincipal

Form = dict[str, str | list[str]]
_OAUTH_400 = {400: "invalid_request", 401: "invalid_client"}


async def _calling_client(
    conn: Conn,
    runtime: RuntimeDep,
    request: Request[object, object, State],
    params: dict[str, str],
    *,
    require_confidential: bool = False,
) -> Client:
    """The client calling a form-encoded OAuth endpoint: Basic auth, or `client_id` for public clients."""
    return await clients.authenticate_client(
        conn,
        hmac_key=runtime.settings.security.token_hmac_key,
        authorization=request.headers.get("authorization"),
        form_client_id=params.get("client_id"),
        require_confidential=require_confidential,
    )


@get(
    "/.well-known/openid-configuration",
    operation_id="getOpenIdConfiguration",
    summary="OpenID Connect discovery metadata",
    description="`issuer` is byte-identical to the `iss` of every token this server signs.",
    tags=["oauth"],
    security=PUBLIC,
    responses={
        **success(200, ProviderMetadata, "Provider metadata", example("metadata", examples.METADATA)),
        **problems(),
    },
    cache=False,
)
async def openid_configuration(runtime: RuntimeDep) -> ProviderMetadata:
    return provider_metadata(runtime.settings.security.issuer)


@get(
    "/.well-known/oauth-authorization-server",
    operation_id="getOAuthAuthorizationServerMetadata",
    summary="OAuth 2.0 authorization server metadata (RFC 8414)",
    description="The same document as `/.well-known/openid-configuration`, for plain OAuth 2.0 clients.",
    tags=["oauth"],
    security=PUBLIC,
    responses={
        **success(200, ProviderMetadata, "Server metadata", example("metadata", examples.METADATA)),
        **problems(),
    },
    cache=False,
)
async def oauth_authorization_server(runtime: RuntimeDep) -> ProviderMetadata:
    return provider_metadata(runtime.settings.security.issuer)


@post(
    "/oauth/par",
    operation_id="pushAuthorizationRequest",
    guards=[par_limit],  # per address (and per credential): haoban.route_limits
    summary="Push an authorization request (RFC 9126)",
    description=(
        "Form-encoded. Public clients send `client_id`; confidential clients authenticate with HTTP Basic. "
        "Only `response_type=code` with an S256 `code_challenge`, a `state` and an exactly registered "
        "`redirect_uri`. Errors are never redirected."
    ),
    tags=["oauth"],
    security=PUBLIC,
    status_code=201,
    responses={
        **success(
            201, ParResponse, "The request_uri to open the citizen's app with", example("pushed", examples.PAR_RESPONSE)
        ),
        **problems(400, 401, 422, codes=_OAUTH_400),
    },
)
async def push_authorization_request(
    data: Annotated[Form, Body(media_type=RequestEncodingType.URL_ENCODED, examples=example("PAR", examples.PAR_FORM))],
    conn: Conn,
    runtime: RuntimeDep,
    request: Request[object, object, State],
) -> Response[ParResponse]:
    params = single_valued(data)
    client = await _calling_client(conn, runtime, request, params)
    body = await par.push(
        conn, client=client, params=params, hmac_key=runtime.settings.security.token_hmac_key, clock=runtime.clock
    )
    return Response(body, status_code=201, headers=NO_STORE)


@get(
    "/oauth/authorize",
    operation_id="describeAuthorizationRequest",
    summary="Describe a pushed authorization request",
    description=(
        "Called by the citizen's Haoban app (opened by the mini-program with `client_id` and `request_uri`) "
        "to show who asks for what before the citizen decides at `POST /v1/oauth/authorizations`. "
        "It never redirects: a bad request is an error here."
    ),
    tags=["oauth"],
    security=PUBLIC,
    responses={
        **success(200, AuthorizationView, "What the app shows the citizen", example("request", examples.VIEW)),
        **problems(400, codes=_OAUTH_400),
    },
)
async def describe_authorization_request(
    client_id: Annotated[str, QueryParameter(name="client_id", min_length=3, max_length=64)],
    request_uri: Annotated[str, QueryParameter(name="request_uri", min_length=40, max_length=120)],
    conn: Conn,
    runtime: RuntimeDep,
) -> AuthorizationView:
    return await authorize.describe(
        conn,
        client_id=client_id,
        request_uri=request_uri,
        hmac_key=runtime.settings.security.token_hmac_key,
        clock=runtime.clock,
    )


@post(
    "/v1/oauth/authorizations",
    operation_id="decideAuthorization",
    summary="Approve or deny a client's request",
    description=(
        "Approving needs a face verification in the last five minutes (401 `step_up_required`). "
        "Returns where the app sends the citizen: the client's redirect URI with `code`, `state` and `iss`, "
        "or `error=access_denied`."
    ),
    tags=["oauth"],
    status_code=200,
    guards=AUTH_GUARDS,
    dependencies=AUTH_DEPENDENCIES,
    responses={
        **success(200, AuthorizationRedirect, "Where to send the citizen", example("approved", examples.REDIRECT)),
        **problems(400, 401, 422, codes={400: "invalid_request"}),
    },
)
async def decide_authorization(
    data: Annotated[AuthorizationDecision, Body(examples=example("approve", examples.DECISION))],
    principal: CurrentPrincipal,
    conn: Conn,
    runtime: RuntimeDep,
) -> AuthorizationRedirect:
    target = await authorize.decide(
        conn, principal=principal, runtime=runtime, request_uri=data.request_uri, approve=data.decision == "approve"
    )
    return AuthorizationRedirect(redirect_to=target)


@get(
    "/v1/me/authorizations",
    operation_id="listMyAuthorizations",
    summary="Clients I have approved",
    tags=["oauth"],
    guards=AUTH_GUARDS,
    dependencies=AUTH_DEPENDENCIES,
    responses={**success(200, ApprovalList, "Approvals", example("one client", examples.APPROVALS)), **problems(401)},
)
async def list_my_authorizations(principal: CurrentPrincipal, conn: Conn) -> ApprovalList:
    return ApprovalList(items=await authorize.approvals(conn, principal))


@delete(
    "/v1/me/authorizations/{client_id:str}",
    operation_id="withdrawAuthorization",
    summary="Withdraw a client's approval",
    description=(
        "Forgets the approvals, revokes every token the client holds for me and the data consents "
        "my approvals of `profile` recorded."
    ),
    tags=["oauth"],
    status_code=204,
    guards=AUTH_GUARDS,
    dependencies=AUTH_DEPENDENCIES,
    responses=problems(400, 401, 404, codes={400: "validation_failed"}),
)
async def withdraw_authorization(
    client_id: Annotated[str, PathParameter(min_length=3, max_length=64)],
    principal: CurrentPrincipal,
    conn: Conn,
    runtime: RuntimeDep,
) -> None:
    await authorize.withdraw(conn, runtime, principal=principal, client_id=client_id)


@post(
    "/oauth/token",
    operation_id="oauthToken",
    guards=[token_limit],  # per address (and per credential): haoban.route_limits
    summary="Token endpoint",
    description=(
        "Form-encoded. `authorization_code` (with the PKCE `code_verifier`), `refresh_token` (rotated; reuse "
        "revokes the grant) and `client_credentials` (confidential clients only). A second redemption of a code "
        "fails with `invalid_grant` and revokes the tokens of the first."
    ),
    tags=["oauth"],
    security=PUBLIC,
    status_code=200,
    responses={
        **success(200, OAuthTokenResponse, "Tokens", example("code exchange", examples.TOKEN_RESPONSE)),
        **problems(400, 401, 422, codes={400: "invalid_grant", 401: "invalid_client"}),
    },
)
async def oauth_token(
    data: Annotated[
        Form, Body(media_type=RequestEncodingType.URL_ENCODED, examples=example("code", examples.TOKEN_FORM))
    ],
    conn: Conn,
    runtime: RuntimeDep,
    request: Request[object, object, State],
) -> Response[OAuthTokenResponse]:
    params = single_valued(data)
    client = await _calling_client(conn, runtime, request, params)
    result = await token.exchange(conn, runtime, client, params)
    if isinstance(result, OAuthError):
        # Returned, not raised: revoking the reused grant must commit.
        return cast("Response[OAuthTokenResponse]", oauth_response(request, result))
    return Response(result, status_code=200, headers=NO_STORE)


@post(
    "/oauth/revoke",
    operation_id="oauthRevoke",
    summary="Revoke a token (RFC 7009)",
    description=(
        "Form-encoded, same client authentication as the token endpoint. Revoking a refresh or access token "
        "ends the whole grant; a client-credentials access token is refused from then on. Answers 200 for "
        "unknown tokens and for other clients' tokens (which stay valid)."
    ),
    tags=["oauth"],
    security=PUBLIC,
    status_code=200,
    media_type=MediaType.TEXT,
    responses=problems(400, 401, 422, codes={400: "invalid_request", 401: "invalid_client"}),
)
async def oauth_revoke(
    data: Annotated[
        Form, Body(media_type=RequestEncodingType.URL_ENCODED, examples=example("refresh token", examples.REVOKE_FORM))
    ],
    conn: Conn,
    runtime: RuntimeDep,
    request: Request[object, object, State],
) -> Response[str]:
    params = single_valued(data)
    client = await _calling_client(conn, runtime, request, params)
    if not params.get("token"):
        raise InvalidRequest("The token parameter is required.")
    await revoke.revoke(conn, runtime, client, params.get("token", ""))
    return Response("", status_code=200, headers=NO_STORE)


@post(
    "/oauth/introspect",
    operation_id="oauthIntrospect",
    summary="Introspect a token (RFC 7662)",
    description=(
        "Only for confidential clients (HTTP Basic), and only about their own tokens. "
        'Anything inactive, unknown or issued to another client is exactly `{"active": false}`.'
    ),
    tags=["oauth"],
    security=[{"clientSecretBasic": []}],
    status_code=200,
    responses={
        **success(
            200,
            Introspection,
            "The token's state",
            [*example("active", examples.INTROSPECTION), *example("inactive", examples.INACTIVE)],
        ),
        **problems(400, 401, 422, codes={400: "invalid_request", 401: "invalid_client"}),
    },
)
async def oauth_introspect(
    data: Annotated[
        Form, Body(media_type=RequestEncodingType.URL_ENCODED, examples=example("token", examples.INTROSPECT_FORM))
    ],
    conn: Conn,
    runtime: RuntimeDep,
    request: Request[object, object, State],
) -> Response[Introspection]:
    params = single_valued(data)
    client = await _calling_client(conn, runtime, request, params, require_confidential=True)
    if not params.get("token"):
        raise InvalidRequest("The token parameter is required.")
    result = await introspect.introspect(conn, runtime, client, params.get("token", ""))
    return Response(result, status_code=200, headers=NO_STORE)


@get(
    "/oauth/userinfo",
    operation_id="oauthUserinfo",
    summary="OpenID Connect userinfo",
    description=(
        "A delegated access token with `openid`. `sub` is pairwise (per client); with `profile`, the masked "
        "`name`, pulled from the identity registry under the consent the approval recorded (and logged in the "
        "citizen's data-access log; absent when the registry cannot be asked); with `identity.verified`, "
        "whether and how the real name was verified. Never the ID number."
    ),
    tags=["oauth"],
    guards=SCOPED_GUARDS,
    dependencies=SCOPED_DEPENDENCIES,
    responses={**success(200, UserInfo, "Claims", example("verified", examples.USERINFO)), **problems(401, 403)},
    cache=False,
)
async def oauth_userinfo(principal: CurrentPrincipal, runtime: RuntimeDep) -> Response[UserInfo]:
    info = await userinfo.userinfo(runtime, principal)
    return Response(info, status_code=200, headers=NO_STORE)


_LOGOUT_DESCRIPTION = (
    "OpenID Connect RP-Initiated Logout. `id_token_hint` (required: this provider keeps no browser session) names "
    "the grant to end; an expired hint is accepted. Ending it revokes the grant's refresh tokens and its access "
    "tokens. With `post_logout_redirect_uri`, which must be one of the client's registered redirect URIs, the "
    'answer is a 303 to it (with `state`); without, 200 `{"ended": ...}`. A bad hint or URI ends nothing and '
    "redirects nowhere."
)
_LOGOUT_RESPONSES = {
    **success(200, LoggedOut, "The grant is ended", example("ended", {"ended": True})),
    303: ResponseSpec(None, description="Back to the client's post_logout_redirect_uri", generate_examples=False),
    **problems(400, codes={400: "invalid_id_token_hint"}),
}


def _logged_out(outcome: logout.LogoutOutcome) -> Response[LoggedOut]:
    if outcome.redirect_to is not None:
        return cast("Response[LoggedOut]", Redirect(outcome.redirect_to, status_code=303, headers=NO_STORE))
    return Response(LoggedOut(ended=outcome.ended), status_code=200, headers=NO_STORE)


@get(
    "/oauth/logout",
    operation_id="endSession",
    summary="End session (RP-initiated logout)",
    description=_LOGOUT_DESCRIPTION,
    tags=["oauth"],
    security=PUBLIC,
    responses=_LOGOUT_RESPONSES,
    cache=False,
)
async def end_session(
    conn: Conn,
    runtime: RuntimeDep,
    *,
    id_token_hint: Annotated[str | None, QueryParameter(description="An ID token this provider issued")] = None,
    client_id: Annotated[str | None, QueryParameter(description="The client; must be the hint's audience")] = None,
    post_logout_redirect_uri: Annotated[
        str | None, QueryParameter(description="One of the client's registered redirect URIs")
    ] = None,
    logout_state: Annotated[
        str | None, QueryParameter(name="state", description="Passed back on the redirect", max_length=512)
    ] = None,
    ui_locales: Annotated[str | None, QueryParameter(description="Ignored (no page is shown)")] = None,
) -> Response[LoggedOut]:
    given = {
        "id_token_hint": id_token_hint,
        "client_id": client_id,
        "post_logout_redirect_uri": post_logout_redirect_uri,
        "state": logout_state,
    }
    params = {k: v for k, v in given.items() if v is not None}
    return _logged_out(await logout.end_session(conn, runtime, params))


@post(
    "/oauth/logout",
    operation_id="endSessionPost",
    summary="End session (RP-initiated logout), form-encoded",
    description=_LOGOUT_DESCRIPTION,
    tags=["oauth"],
    security=PUBLIC,
    status_code=200,
    responses=_LOGOUT_RESPONSES,
)
async def end_session_post(
    data: Annotated[
        Form, Body(media_type=RequestEncodingType.URL_ENCODED, examples=example("logout", examples.LOGOUT_FORM))
    ],
    conn: Conn,
    runtime: RuntimeDep,
) -> Response[LoggedOut]:
    return _logged_out(await logout.end_session(conn, runtime, single_valued(data)))


router = Router(
    path="/",
    route_handlers=[
        openid_configuration,
        oauth_authorization_server,
        push_authorization_request,
        describe_authorization_request,
        decide_authorization,
        list_my_authorizations,
        withdraw_authorization,
        oauth_token,
        oauth_revoke,
        oauth_introspect,
        oauth_userinfo,
        end_session,
        end_session_post,
    ],
    exception_handlers=EXCEPTION_HANDLERS,
)
