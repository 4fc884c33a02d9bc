"""Pure JWT signing and verification for access tokens (ES256 only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey, EllipticCurvePublicKey

ALGORITHM = "ES256"
ACCESS_TYP = "at+jwt"
REQUIRED_CLAIMS = ("iss", "aud", "sub", "exp", "iat", "jti", "scope", "acr", "amr", "auth_time", "sid", "client_id")


class TokenRejected(ValueError):
    """Why a token was refused (for logs and audit, never for the client)."""


def sign(claims: dict[str, Any], key: EllipticCurvePrivateKey, kid: str) -> str:
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid, "typ": ACCESS_TYP})


def verify(
    token: str,
    *,
    keys: dict[str, EllipticCurvePublicKey],
    issuer: str,
    audience: str,
    now: datetime,
    leeway_s: int = 30,
) -> dict[str, Any]:
    """Verify signature, algorithm, type, issuer, audience and times; return claims."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenRejected("malformed token") from exc
    if header.get("alg") != ALGORITHM:
        raise TokenRejected(f"algorithm {header.get('alg')!r} not accepted")
    if header.get("typ") != ACCESS_TYP:
        raise TokenRejected("not an access token")
    key = keys.get(str(header.get("kid")))
    if key is None:
        raise TokenRejected("unknown key id")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            options={"require": list(REQUIRED_CLAIMS), "verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.PyJWTError as exc:
        raise TokenRejected(str(exc)) from exc
    ts = now.timestamp()
    if not isinstance(claims["exp"], int) or claims["exp"] <= ts - leeway_s:
        raise TokenRejected("expired")
    if not isinstance(claims["iat"], int) or claims["iat"] > ts + leeway_s:
        raise TokenRejected("issued in the future")
    if not isinstance(claims["amr"], list) or not isinstance(claims["scope"], str):
        raise TokenRejected("malformed claims")
    return claims
