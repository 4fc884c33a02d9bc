"""Token use cases: key rotation, issuing a session, refreshing, revoking."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey, EllipticCurvePublicKey

from haoban.audit import repository as audit
from haoban.audit.schemas import Actor
from haoban.db.pool import unit_of_work
from haoban.kit.clock import Clock
from haoban.kit.crypto import FieldCipher, keyed_hash
from haoban.kit.errors import AppError, InvalidToken, Unavailable
from haoban.settings import SecuritySettings
from haoban.tokens import jwt as tokens_jwt
from haoban.tokens import repository as repo
from haoban.tokens.schemas import SANDBOX_AMR, Principal, SessionBinding, SessionGrant, SigningKey, TokenPair

REFRESH_PREFIX = "hbr_"
KEYRING_TTL_S = 60.0

Executor = asyncpg.Pool | asyncpg.Connection


class InvalidGrant(AppError):
    status = 400
    code = "invalid_grant"


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


class TokenService:
    """Issues and refreshes first-party sessions."""

    def __init__(self, *, settings: SecuritySettings, keyring: KeyRing, clock: Clock, sandbox: bool = False) -> None:
        self._settings = settings
        self._keyring = keyring
        self._clock = clock
        self._sandbox = sandbox  # sandbox-minted sessions are refused unless the sandbox is on

    def _hmac(self, token: str) -> bytes:
        return keyed_hash(self._settings.token_hmac_key, token)

    async def _access_token(
        self, conn: asyncpg.Connection, *, family_id: uuid.UUID, grant: SessionGrant, now: datetime
    ) -> str:
        # The request's own connection: never hold one and wait for a second.
        kid, key = await self._keyring.signing_key(conn)
        iat = int(now.timestamp())
        claims = {
            "iss": self._settings.issuer,
            "aud": self._settings.api_audience,
            "sub": str(grant.citizen_id),
            "client_id": grant.client_id,
            "iat": iat,
            "exp": iat + self._settings.access_token_ttl_s,
            "jti": uuid.uuid4().hex,
            "scope": " ".join(grant.scope),
            "acr": grant.acr,
            "amr": list(grant.amr),
            "auth_time": int(grant.auth_time.timestamp()),
            "sid": str(family_id),
        }
        return tokens_jwt.sign(claims, key, kid)

    async def _new_refresh(self, conn: asyncpg.Connection, family_id: uuid.UUID, now: datetime) -> str:
        token = REFRESH_PREFIX + secrets.token_urlsafe(32)
        await repo.insert_refresh(
            conn, token_id=uuid.uuid4(), family_id=family_id, token_hmac=self._hmac(token), issued_at=now
        )
        return token

    async def open_family(
        self, conn: asyncpg.Connection, grant: SessionGrant, now: datetime
    ) -> tuple[uuid.UUID, datetime]:
        """A new session (token family) for `grant`; its absolute lifetime is the refresh TTL."""
        family_id = uuid.uuid4()
        expires_at = now + timedelta(seconds=self._settings.refresh_token_ttl_s)
        await repo.insert_family(
            conn,
            family_id=family_id,
            citizen_id=grant.citizen_id,
            client_id=grant.client_id,
            scope=" ".join(grant.scope),
            acr=grant.acr,
            amr=list(grant.amr),
            auth_time=grant.auth_time,
            created_at=now,
            expires_at=expires_at,
        )
        return family_id, expires_at

    async def issue(self, conn: asyncpg.Connection, grant: SessionGrant, *, actor: Actor) -> TokenPair:
        now = self._clock.now()
        family_id, expires_at = await self.open_family(conn, grant, now)
        refresh = await self._new_refresh(conn, family_id, now)
        access = await self._access_token(conn, family_id=family_id, grant=grant, now=now)
        await audit.record(
            conn,
            actor=actor,
            action="session.issued",
            subject_type="citizen",
            subject_id=str(grant.citizen_id),
            at=now,
            details={"session_id": str(family_id), "client_id": grant.client_id, "amr": list(grant.amr)},
        )
        return self._pair(access, refresh, expires_at, grant.scope)

    def _pair(self, access: str, refresh: str, expires_at: datetime, scope: tuple[str, ...]) -> TokenPair:
        return TokenPair(
            access_token=access,
            token_type="Bearer",  # noqa: S106 (a token type, not a secret)
            expires_in=self._settings.access_token_ttl_s,
            refresh_token=refresh,
            refresh_token_expires_at=expires_at,
            scope=" ".join(scope),
        )

    async def refresh(self, conn: asyncpg.Connection, token: str) -> TokenPair | InvalidGrant:
        """Rotate a refresh token.

        Presenting a token that was already used revokes its whole family. That
        revocation must survive the error, so this returns the error instead of
        raising it and the request's transaction commits.
        """
        now = self._clock.now()
        row = await repo.lock_refresh(conn, self._hmac(token))
        if row is None:
            return InvalidGrant("The refresh token is not recognised.")
        family = await repo.get_family(conn, row.family_id, for_update=True)
        if family is None or family.revoked_at is not None or family.expires_at <= now:
            return InvalidGrant("The session has ended; sign in again.")
        if SANDBOX_AMR in family.amr and not self._sandbox:
            return InvalidGrant("Sandbox sessions are accepted only while the sandbox is on.")
        if row.used_at is not None:
            await repo.revoke_family(conn, family.id, at=now, reason="refresh_token_reuse")
            await audit.record(
                conn,
                actor=Actor(type="citizen", id=str(family.citizen_id)),
                action="session.revoked",
                subject_type="citizen",
                subject_id=str(family.citizen_id),
                at=now,
                details={"session_id": str(family.id), "reason": "refresh_token_reuse"},
            )
            return InvalidGrant("The refresh token was already used; the session is revoked.")
        await repo.mark_refresh_used(conn, row.id, now)
        grant = SessionGrant(
            citizen_id=family.citizen_id,
            client_id=family.client_id,
            scope=tuple(family.scope.split()),
            acr=family.acr,
            amr=tuple(family.amr),
            auth_time=family.auth_time,
        )
        refresh = await self._new_refresh(conn, family.id, now)
        access = await self._access_token(conn, family_id=family.id, grant=grant, now=now)
        return self._pair(access, refresh, family.expires_at, grant.scope)

    async def revoke_session(self, conn: asyncpg.Connection, principal: Principal, *, reason: str) -> None:
        now = self._clock.now()
        if await repo.revoke_family(conn, principal.session_id, at=now, reason=reason):
            await audit.record(
                conn,
                actor=Actor(type="citizen", id=str(principal.citizen_id)),
                action="session.revoked",
                subject_type="citizen",
                subject_id=str(principal.citizen_id),
                at=now,
                details={"session_id": str(principal.session_id), "reason": reason},
            )

    async def authenticate(self, pool: asyncpg.Pool, token: str) -> Principal:
        """Verify an access token and check its session is live (one indexed query)."""
        now = self._clock.now()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("The access token is malformed.") from None
        keys = await self._keyring.public_keys(pool, str(header.get("kid")))
        try:
            claims = tokens_jwt.verify(
                token, keys=keys, issuer=self._settings.issuer, audience=self._settings.api_audience, now=now
            )
            principal = Principal(
                citizen_id=uuid.UUID(claims["sub"]),
                client_id=str(claims["client_id"]),
                scope=tuple(claims["scope"].split()),
                acr=str(claims["acr"]),
                amr=tuple(str(a) for a in claims["amr"]),
                auth_time=datetime.fromtimestamp(int(claims["auth_time"]), UTC),
                session_id=uuid.UUID(claims["sid"]),
                token_id=str(claims["jti"]),
            )
        except (tokens_jwt.TokenRejected, ValueError, TypeError, OverflowError):
            raise InvalidToken("The access token is invalid or expired.") from None
        if SANDBOX_AMR in principal.amr and not self._sandbox:
            raise InvalidToken("Sandbox tokens are accepted only while the sandbox is on.")
        session = await repo.live_session(pool, principal.session_id, now)
        if session is None:
            raise InvalidToken("The session has been revoked.")
        if mismatched := session_mismatch(principal, session):
            await self._audit_mismatch(pool, principal, mismatched, now)
            raise InvalidToken("The access token does not match its session.")
        return principal

    async def _audit_mismatch(
        self, pool: asyncpg.Pool, principal: Principal, mismatched: list[str], now: datetime
    ) -> None:
        """A token naming a live session with other claims was signed with our key: record it."""
        async with unit_of_work(pool) as conn:
            await audit.record(
                conn,
                actor=Actor(type="system", id="token-guard"),
                action="token.session_mismatch",
                subject_type="session",
                subject_id=str(principal.session_id),
                at=now,
                details={"claims": mismatched, "jti": principal.token_id, "client_id": principal.client_id},
            )


def session_mismatch(principal: Principal, session: SessionBinding) -> list[str]:
    """The claims of an access token that differ from its session record (sub, client_id, acr, amr, auth_time)."""
    out = []
    if principal.citizen_id != session.citizen_id:
        out.append("sub")
    if principal.client_id != session.client_id:
        out.append("client_id")
    if principal.acr != session.acr:
        out.append("acr")
    if sorted(principal.amr) != sorted(session.amr):
        out.append("amr")
    if int(principal.auth_time.timestamp()) != int(session.auth_time.timestamp()):
        out.append("auth_time")
    return out
