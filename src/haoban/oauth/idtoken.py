"""OpenID Connect ID tokens and pairwise subject identifiers."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

from haoban.kit.crypto import keyed_hash
from haoban.tokens import jwt as tokens_jwt

ID_TOKEN_TTL_S = 600
ID_TOKEN_TYP = "JWT"  # noqa: S105 - a JOSE type, not a secret; not at+jwt, so never taken as an access token


def pairwise_sub(hmac_key: bytes, *, citizen_id: uuid.UUID, client_id: str) -> str:
    """OIDC Core §8.1: a different, stable `sub` per client, so clients cannot correlate a citizen."""
    digest = keyed_hash(hmac_key, f"pairwise-sub:{client_id}:{citizen_id}")
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_id_token(
    *,
    key: EllipticCurvePrivateKey,
    kid: str,
    issuer: str,
    client_id: str,
    sub: str,
    now: datetime,
    auth_time: datetime,
    acr: str,
    amr: list[str],
    nonce: str | None,
    sid: str,
) -> str:
    iat = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": sub,
        "aud": client_id,
        "azp": client_id,
        "iat": iat,
        "exp": iat + ID_TOKEN_TTL_S,
        "auth_time": int(auth_time.timestamp()),
        "acr": acr,
        "amr": amr,
        "sid": sid,  # the grant, which RP-initiated logout ends (haoban.oauth.logout)
    }
    if nonce is not None:
        claims["nonce"] = nonce
    return jwt.encode(claims, key, algorithm=tokens_jwt.ALGORITHM, headers={"kid": kid, "typ": ID_TOKEN_TYP})
