"""Signing keys: the in-memory key ring, rotation, and the first key at start."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey, EllipticCurvePublicKey

from haoban.audit import service as audit
from haoban.audit.schemas import Actor
from haoban.kit.clock import Clock
from haoban.kit.crypto import FieldCipher
from haoban.kit.errors import Unavailable
from haoban.settings import SecuritySettings
from haoban.tokens import jwt as tokens_jwt
from haoban.tokens import repository as repo
from haoban.tokens.schemas import SigningKey

KEYRING_TTL_S = 60.0

Executor = asyncpg.Pool | asyncpg.Connection


def _aad(kid: str) -> str:
    return f"signing_keys:{kid}"


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint, used as the kid."""
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


class KeyRing:
    """In-memory view of the usable signing keys, reloaded every minute or on an unknown kid."""

    def __init__(self, cipher: FieldCipher, clock: Clock) -> None:
        self._cipher = cipher
        self._clock = clock
        self._loaded_at = -1.0
        self._active: tuple[str, EllipticCurvePrivateKey] | None = None
        self._public: dict[str, EllipticCurvePublicKey] = {}
        self._jwks: list[dict[str, Any]] = []
        self._lock = asyncio.Lock()

    async def _load(self, db: Executor) -> None:
        rows = await repo.usable_keys(db, self._clock.now())
        active: tuple[str, EllipticCurvePrivateKey] | None = None
        public: dict[str, EllipticCurvePublicKey] = {}
        for row in rows:
            pub = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(row.public_jwk))
            if not isinstance(pub, EllipticCurvePublicKey):
                continue
            public[row.kid] = pub
            if row.status == "active":
                pem = self._cipher.decrypt(row.private_key_enc, aad=_aad(row.kid))
                priv = serialization.load_pem_private_key(pem, password=None)
                if isinstance(priv, EllipticCurvePrivateKey):
                    active = (row.kid, priv)
        self._active, self._public = active, public
        self._jwks = [r.public_jwk for r in rows if r.kid in public]
        self._loaded_at = self._clock.now().timestamp()

    async def refresh(self, db: Executor, *, force: bool = False) -> None:
        if not force and not self._stale():
            return
        async with self._lock:
            if force or self._stale():
                await self._load(db)

    def _stale(self) -> bool:
        age = self._clock.now().timestamp() - self._loaded_at
        return self._loaded_at < 0 or not 0 <= age < KEYRING_TTL_S

    async def signing_key(self, db: Executor) -> tuple[str, EllipticCurvePrivateKey]:
        await self.refresh(db)
        if self._active is None:
            await self.refresh(db, force=True)
        if self._active is None:
            raise Unavailable("no active signing key; run `haoban keys rotate`")
        return self._active

    async def public_keys(self, db: Executor, kid: str | None = None) -> dict[str, EllipticCurvePublicKey]:
        await self.refresh(db)
        if kid is not None and kid not in self._public:
            await self.refresh(db, force=True)
        return self._public

    async def jwks(self, db: Executor) -> list[dict[str, Any]]:
        await self.refresh(db)
        return list(self._jwks)


async def rotate_keys(
    conn: asyncpg.Connection, *, cipher: FieldCipher, settings: SecuritySettings, now: datetime, actor: Actor
) -> str:
    """Add a new active key; the old one keeps verifying for the longest token lifetime."""
    private = ec.generate_private_key(ec.SECP256R1())
    public_jwk: dict[str, Any] = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    kid = _thumbprint(public_jwk)
    public_jwk.update({"kid": kid, "use": "sig", "alg": tokens_jwt.ALGORITHM})
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    await repo.lock_keys(conn)
    retired = await repo.retire_expired(conn, now)
    retiring = await repo.retire_active(conn, retire_after=now + timedelta(seconds=settings.access_token_ttl_s + 60))
    await repo.insert_key(
        conn, kid=kid, private_key_enc=cipher.encrypt(pem, aad=_aad(kid)), public_jwk=public_jwk, created_at=now
    )
    await audit.record(
        conn,
        actor=actor,
        action="signing_key.rotated",
        subject_type="signing_key",
        subject_id=kid,
        at=now,
        details={"retiring": retiring, "retired": retired},
    )
    return kid


async def ensure_signing_key(
    conn: asyncpg.Connection, *, cipher: FieldCipher, settings: SecuritySettings, now: datetime, actor: Actor
) -> str | None:
    """Create a first key when there is none (demo start); return its kid if created."""
    if any(k.status == "active" for k in await repo.usable_keys(conn, now)):
        return None
    return await rotate_keys(conn, cipher=cipher, settings=settings, now=now, actor=actor)


async def has_active_key(conn: asyncpg.Connection, now: datetime) -> bool:
    keys: list[SigningKey] = await repo.usable_keys(conn, now)
    return any(k.status == "active" for k in keys)
