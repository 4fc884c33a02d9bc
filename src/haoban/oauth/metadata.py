"""OpenID Connect Discovery 1.0 / RFC 8414 metadata (one document, served at both well-known paths)."""

from __future__ import annotations

from haoban.identity.codes import OTP_ACR
from haoban.identity.stepup import FACE_ACR
from haoban.miniprogram.service import MINIPROGRAM_ACR
from haoban.oauth.schemas import SCOPES, ProviderMetadata

# The levels a citizen session (and so a grant) can carry; face is the only one that
# passes step-up (`identity.stepup`).
ACR_VALUES = [FACE_ACR, OTP_ACR, MINIPROGRAM_ACR]
GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials"]
AUTH_METHODS = ["none", "client_secret_basic"]


def provider_metadata(issuer: str) -> ProviderMetadata:
    """Every URL is built from the issuer, which is byte-identical to the `iss` of every token."""
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=f"{issuer}/oauth/authorize",
        pushed_authorization_request_endpoint=f"{issuer}/oauth/par",
        require_pushed_authorization_requests=True,
        token_endpoint=f"{issuer}/oauth/token",
        revocation_endpoint=f"{issuer}/oauth/revoke",
        introspection_endpoint=f"{issuer}/oauth/introspect",
        userinfo_endpoint=f"{issuer}/oauth/userinfo",
        end_session_endpoint=f"{issuer}/oauth/logout",
        jwks_uri=f"{issuer}/.well-known/jwks.json",
        scopes_supported=list(SCOPES),
        response_types_supported=["code"],
        response_modes_supported=["query"],
        grant_types_supported=list(GRANT_TYPES),
        code_challenge_methods_supported=["S256"],
        token_endpoint_auth_methods_supported=list(AUTH_METHODS),
        revocation_endpoint_auth_methods_supported=list(AUTH_METHODS),
        introspection_endpoint_auth_methods_supported=["client_secret_basic"],
        subject_types_supported=["pairwise"],
        id_token_signing_alg_values_supported=["ES256"],
        claims_supported=["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "name"],
        acr_values_supported=list(ACR_VALUES),
        authorization_response_iss_parameter_supported=True,
    )
