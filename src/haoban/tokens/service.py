"""Token use cases: issuing a session, refreshing, revoking (signing keys are in `keys`, re-exported here)."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

import asyncpg
import jwt
import msgspec

from haoban.audit import service as audit
from haoban.audit.schemas import Actor
from haoban.db.pool import unit_of_work
from haoban.kit.clock import Clock
from haoban.kit.crypto import keyed_hash
from haoban.kit.errors import AppError, InvalidToken
from haoban.settings import SecuritySettings
from haoban.tokens import jwt as tokens_jwt
from haoban.tokens import repository as repo
from haoban.tokens.keys import KeyRing, ensure_signing_key, has_active_key, rotate_keys
from haoban.tokens.schemas import (
    SANDBOX_AMR,
    Family,
    Principal,
    RefreshRow,
    SessionBinding,
    SessionGrant,
    TokenPair,
)

__all__ = [
    "REFRESH_PREFIX",
    "InvalidGrant",
    "KeyRing",
    "RefreshRefusal",
    "RefreshRefused",
    "ReuseHandler",
    "Rotated",
    "TokenService",
    "ensure_signing_key",
    "get_family",
    "has_active_key",
    "locked_refresh",
    "revoke_family",
    "rotate_keys",
    "session_mismatch",
]

REFRESH_PREFIX = "hbr_"


class InvalidGrant(AppError):
    status = 400
    code = "invalid_grant"


RefreshRefusal = Literal["unknown", "ended", "sandbox", "reused", "wider_scope"]

_SESSION_REFUSALS: dict[RefreshRefusal, str] = {
    "unknown": "The refresh token is not recognised.",
    "ended": "The session has ended; sign in again.",
    "sandbox": "Sandbox sessions are accepted only while the sandbox is on.",
    "reused": "The refresh token was already used; the session is revoked.",
    "wider_scope": "A refresh cannot widen the approved scopes.",
}


class Rotated(msgspec.Struct, frozen=True, kw_only=True):
    """A spent refresh token's successor, with the family it belongs to and what that family grants."""

    family: Family
    grant: SessionGrant
    refresh_token: str


class RefreshRefused(msgspec.Struct, frozen=True, kw_only=True):
    """Why a refresh token was not rotated; each caller words it for its own clients."""

    reason: RefreshRefusal


class ReuseHandler(Protocol):
    """Revokes a family whose used refresh token came back, and records it (in the caller's transaction)."""

    async def __call__(self, conn: asyncpg.Connection, family: Family, now: datetime) -> None: ...


class TokenService:
    """Issues and refreshes first-party sessions."""

    def __init__(self, *, settings: SecuritySettings, keyring: KeyRing, clock: Clock, sandbox: bool = False) -> None:
        self._settings = settings
        self._keyring = keyring
        self._clock = clock
        self._sandbox = sandbox  # sandbox-minted sessions are refused unless the sandbox is on

    def refresh_hmac(self, token: str) -> bytes:
        """The keyed digest a refresh token is stored and looked up by (the token itself is never stored)."""
        return keyed_hash(self._settings.token_hmac_key, token)

    async def access_token(
        self,
        conn: asyncpg.Connection,
        *,
        family_id: uuid.UUID,
        grant: SessionGrant,
        now: datetime,
        audience: str | None = None,
        subject: str | None = None,
    ) -> str:
        """An access token of a family: for the first-party API unless a delegated audience and subject are given."""
        # The request's own connection: never hold one and wait for a second.
        kid, key = await self._keyring.signing_key(conn)
        iat = int(now.timestamp())
        claims = {
            "iss": self._settings.issuer,
            "aud": self._settings.api_audience if audience is None else audience,
            "sub": str(grant.citizen_id) if subject is None else subject,
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

    async def new_refresh(
        self, conn: asyncpg.Connection, family_id: uuid.UUID, now: datetime, *, prefix: str = REFRESH_PREFIX
    ) -> str:
        """A fresh refresh token in the family; `prefix` tells first-party (`hbr_`) and delegated tokens apart."""
        token = prefix + secrets.token_urlsafe(32)
        await repo.insert_refresh(
            conn, token_id=uuid.uuid4(), family_id=family_id, token_hmac=self.refresh_hmac(token), issued_at=now
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
        refresh = await self.new_refresh(conn, family_id, now)
        access = await self.access_token(conn, family_id=family_id, grant=grant, now=now)
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
        """Rotate a first-party refresh token.

        Presenting a token that was already used revokes its whole family. That
        revocation must survive the error, so this returns the error instead of
        raising it and the request's transaction commits.
        """
        now = self._clock.now()
        outcome = await self.rotate_refresh(conn, token, now=now, on_reuse=self._revoke_reused)
        if isinstance(outcome, RefreshRefused):
            return InvalidGrant(_SESSION_REFUSALS[outcome.reason])
        access = await self.access_token(conn, family_id=outcome.family.id, grant=outcome.grant, now=now)
        return self._pair(access, outcome.refresh_token, outcome.family.expires_at, outcome.grant.scope)

    async def rotate_refresh(
        self,
        conn: asyncpg.Connection,
        token: str,
        *,
        now: datetime,
        on_reuse: ReuseHandler,
        prefix: str = REFRESH_PREFIX,
        client_id: str | None = None,
        scope: str | None = None,
        refuse_sandbox: bool = True,
    ) -> Rotated | RefreshRefused:
        """Spend a refresh token and issue its successor: the one rotation for sessions and delegated grants.

        The token and its family are locked first, so two presentations of one token are serialised and
        the second sees it used. A token that was already used revokes its whole family (`on_reuse` revokes
        and writes the audit row in the caller's words); the refusal is returned, so the revocation commits.
        With `client_id` (a delegated grant) a token of another client's family is not recognised, and not
        revoked either (the caller may be the thief); `scope` may only narrow what was approved.
        """
        found = await self._live_refresh(
            conn, token, now=now, prefix=prefix, client_id=client_id, refuse_sandbox=refuse_sandbox
        )
        if isinstance(found, RefreshRefused):
            return found
        row, family = found
        if row.used_at is not None:
            await on_reuse(conn, family, now)
            return RefreshRefused(reason="reused")
        if scope is not None and not set(scope.split()) <= set(family.scope.split()):
            return RefreshRefused(reason="wider_scope")
        await repo.mark_refresh_used(conn, row.id, now)
        grant = SessionGrant(
            citizen_id=family.citizen_id,
            client_id=family.client_id,
            scope=tuple(family.scope.split()),
            acr=family.acr,
            amr=tuple(family.amr),
            auth_time=family.auth_time,
        )
        refresh = await self.new_refresh(conn, family.id, now, prefix=prefix)
        return Rotated(family=family, grant=grant, refresh_token=refresh)

    async def _live_refresh(
        self,
        conn: asyncpg.Connection,
        token: str,
        *,
        now: datetime,
        prefix: str,
        client_id: str | None,
        refuse_sandbox: bool,
    ) -> tuple[RefreshRow, Family] | RefreshRefused:
        """The locked token and its locked, live family (used or not), or why there is none to rotate."""
        row = await repo.lock_refresh(conn, self.refresh_hmac(token))
        if row is None or not token.startswith(prefix):
            return RefreshRefused(reason="unknown")
        family = await repo.get_family(conn, row.family_id, for_update=True)
        if family is None or (client_id is not None and family.client_id != client_id):
            return RefreshRefused(reason="unknown")
        if family.revoked_at is not None or family.expires_at <= now:
            return RefreshRefused(reason="ended")
        if refuse_sandbox and SANDBOX_AMR in family.amr and not self._sandbox:
            return RefreshRefused(reason="sandbox")
        return row, family

    async def _revoke_reused(self, conn: asyncpg.Connection, family: Family, now: datetime) -> None:
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


# --- token families as other slices see them (delegated grants in oauth) ---


async def get_family(conn: asyncpg.Connection, family_id: uuid.UUID, *, for_update: bool = False) -> Family | None:
    """A token family (a session or a delegated grant), locked with `for_update`."""
    return await repo.get_family(conn, family_id, for_update=for_update)


async def locked_refresh(conn: asyncpg.Connection, token_hmac: bytes) -> RefreshRow | None:
    """A refresh token by its digest, locked so a concurrent rotation waits."""
    return await repo.lock_refresh(conn, token_hmac)


async def revoke_family(conn: asyncpg.Connection, family_id: uuid.UUID, *, at: datetime, reason: str) -> bool:
    """End a family (its refresh and access tokens); False when it had already ended."""
    return await repo.revoke_family(conn, family_id, at=at, reason=reason)


async def revoke_client_families(
    conn: asyncpg.Connection, *, citizen_id: uuid.UUID, client_id: str, at: datetime, reason: str
) -> int:
    """End every live family a client holds for a citizen (an approval withdrawn); how many ended."""
    return await repo.revoke_client_families(conn, citizen_id=citizen_id, client_id=client_id, at=at, reason=reason)


async def live_grant_citizen(
    db: asyncpg.Connection | asyncpg.Pool, family_id: uuid.UUID, client_id: str, now: datetime, *, sandbox: bool
) -> uuid.UUID | None:
    """The citizen behind a delegated grant while it is live (see the repository for what live means)."""
    return await repo.live_grant_citizen(db, family_id, client_id, now, sandbox=sandbox)
