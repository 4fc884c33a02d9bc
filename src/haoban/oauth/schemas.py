"""Wire and domain types for the OAuth 2 / OpenID Connect provider."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from haoban.oauth.scopes import CITIZEN_SCOPES, INGEST_SCOPES

SCOPES: tuple[str, ...] = (*CITIZEN_SCOPES, *INGEST_SCOPES)
"""Every scope a client may be registered with; ingest scopes only for confidential clients."""
REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"

ClientType = Literal["public", "confidential"]


class Client(msgspec.Struct, frozen=True, kw_only=True):
    client_id: str
    client_type: ClientType
    secret_hmac: bytes | None
    display_name: str
    purpose: str
    redirect_uris: list[str]
    allowed_scopes: list[str]
    disabled_at: datetime | None


class ParRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A validated, stored authorization request."""

    client_id: str
    redirect_uri: str
    scope: list[str]
    state: str
    nonce: str | None
    code_challenge: str
    expires_at: datetime
    used_at: datetime | None


class CodeRow(msgspec.Struct, frozen=True, kw_only=True):
    client_id: str
    citizen_id: UUID
    redirect_uri: str
    scope: list[str]
    nonce: str | None
    code_challenge: str
    acr: str
    amr: list[str]
    auth_time: datetime
    expires_at: datetime
    redeemed_at: datetime | None
    family_id: UUID | None


# --- wire -------------------------------------------------------------------


class ProviderMetadata(msgspec.Struct, frozen=True, kw_only=True):
    """OpenID Provider / RFC 8414 authorization server metadata."""

    issuer: str
    authorization_endpoint: str
    pushed_authorization_request_endpoint: str
    require_pushed_authorization_requests: bool
    token_endpoint: str
    revocation_endpoint: str
    introspection_endpoint: str
    userinfo_endpoint: str
    end_session_endpoint: str
    jwks_uri: str
    scopes_supported: list[str]
    response_types_supported: list[str]
    response_modes_supported: list[str]
    grant_types_supported: list[str]
    code_challenge_methods_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    revocation_endpoint_auth_methods_supported: list[str]
    introspection_endpoint_auth_methods_supported: list[str]
    subject_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    claims_supported: list[str]
    acr_values_supported: list[str]
    authorization_response_iss_parameter_supported: bool


class LoggedOut(msgspec.Struct, frozen=True, kw_only=True):
    """The answer of the end-session endpoint when no post_logout_redirect_uri was given."""

    ended: bool  # False when the grant had already ended


class ParResponse(msgspec.Struct, frozen=True, kw_only=True):
    request_uri: str
    expires_in: int


class AuthorizationView(msgspec.Struct, frozen=True, kw_only=True):
    """What the citizen's app shows before the citizen decides."""

    client_id: str
    client_name: str
    purpose: str
    scopes: list[str]
    request_uri: str
    expires_at: datetime


RequestUri = Annotated[str, msgspec.Meta(min_length=40, max_length=120, pattern=r"^urn:ietf:params:oauth:request_uri:")]


class AuthorizationDecision(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    request_uri: RequestUri
    decision: Literal["approve", "deny"]


class AuthorizationRedirect(msgspec.Struct, frozen=True, kw_only=True):
    redirect_to: str


class Approval(msgspec.Struct, frozen=True, kw_only=True):
    client_id: str
    client_name: str
    purpose: str
    scopes: list[str]
    approved_at: datetime


class ApprovalList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Approval]


class OAuthTokenResponse(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    access_token: str
    token_type: str
    expires_in: int
    scope: str
    refresh_token: str | None = None
    id_token: str | None = None


class UserInfo(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """OIDC userinfo: the pairwise `sub`; with `profile` the masked name (absent when the identity
    registry cannot be asked or the citizen revoked the consent); with `identity.verified` how the
    real name was verified.

    Never the ID number, and never the internal citizen id.
    """

    sub: str
    name: str | None = None
    real_name_verified: bool | None = None
    real_name_level: str | None = None


class Introspection(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """RFC 7662; an inactive token is exactly `{"active": false}`."""

    active: bool
    scope: str | None = None
    client_id: str | None = None
    token_type: str | None = None
    exp: int | None = None
    iat: int | None = None
    sub: str | None = None
    aud: str | None = None
    iss: str | None = None
