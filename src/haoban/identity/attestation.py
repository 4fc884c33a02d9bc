"""Device attestation: a JWS by the app client's ES256 key over the capture (pure).

The phone's liveness SDK signs `{nonce, frames_sha256, captured_at}`; we check
the signature, that the nonce is this challenge's, that the hashes are exactly
the frames we received, and that the capture is recent.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey

MAX_CAPTURE_AGE_S = 120
CLOCK_SKEW_S = 30


class AttestationInvalid(ValueError):
    """Why an attestation was refused (for the audit log)."""


def frame_digests(frames: list[bytes]) -> list[str]:
    return [hashlib.sha256(f).hexdigest() for f in frames]


def verify(token: str, jwk: dict[str, Any], *, nonce: str, frames: list[bytes], now: datetime) -> None:
    try:
        key = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(jwk))
    except (jwt.PyJWTError, ValueError, KeyError) as exc:
        raise AttestationInvalid("client key unusable") from exc
    if not isinstance(key, EllipticCurvePublicKey):
        raise AttestationInvalid("client key is not an EC public key")
    try:
        claims: dict[str, Any] = jwt.decode(token, key, algorithms=["ES256"], options={"verify_aud": False})
    except jwt.PyJWTError as exc:
        raise AttestationInvalid("the attestation signature or its claims do not verify") from exc
    if claims.get("nonce") != nonce:
        raise AttestationInvalid("nonce does not match the challenge")
    if claims.get("frames_sha256") != frame_digests(frames):
        raise AttestationInvalid("frame hashes do not match the frames")
    captured = claims.get("captured_at")
    if not isinstance(captured, int | float):
        raise AttestationInvalid("captured_at missing")
    age = now.timestamp() - captured
    if age > MAX_CAPTURE_AGE_S or age < -CLOCK_SKEW_S:
        raise AttestationInvalid("capture is not recent")
