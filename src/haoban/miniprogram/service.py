"""Mini-program login: exchange a platform login code; bind a platform identity with a ticket.

A bound platform identity gets tokens at `urn:haoban:loa:miniprogram` (amr
`miniprogram`): a platform account proves who holds a phone's WeChat or Alipay,
never a real name, so `require_recent_face` and the real-name checks refuse it.
An unbound one gets a binding ticket (`hbm_…`, single use, ten minutes, only
its HMAC stored), which a successful face registration or face login spends to
bind the platform identity to the face-verified citizen.

The ticket is tied to the mini-program instance that asked for it, PKCE-style:
the code exchange carries `ticket_challenge` = BASE64URL(SHA256(verifier)) for a
43-character verifier the mini-program keeps, and spending the ticket needs the
verifier: the `binding_ticket` field of face registration / login carries the
ticket followed by the verifier (`hbm_<43>` + `<43>`, 90 characters). A ticket
seen on its own (a log, a shared link, another app) binds nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from haoban.audit import service as audit
from haoban.audit.schemas import Actor
from haoban.db.pool import unit_of_work
from haoban.identity.schemas import auth_tokens
from haoban.kit.crypto import keyed_hash
from haoban.kit.errors import AppError, Conflict, NotFound, Unauthorized, Unavailable
from haoban.miniprogram import repository as repo
from haoban.miniprogram.ports import CodeRejected, PlatformIdentity, PlatformUnavailable
from haoban.miniprogram.schemas import MiniProgramLogin, TicketRow
from haoban.runtime import Runtime
from haoban.tokens.schemas import SessionGrant

MINIPROGRAM_ACR = "urn:haoban:loa:miniprogram"
TICKET_TTL = timedelta(minutes=10)
TICKET_PREFIX = "hbm_"
TICKET_LENGTH = len(TICKET_PREFIX) + 43  # token_urlsafe(32)
VERIFIER_LENGTH = 43
SCOPE = ("openid",)


class CodeInvalid(Unauthorized):
    code = "miniprogram_code_invalid"


class PlatformError(AppError):
    status = 502
    code = "miniprogram_platform_error"


class PlatformDown(Unavailable):
    code = "miniprogram_platform_unavailable"


class TicketInvalid(Unauthorized):
    code = "binding_ticket_invalid"


class BindingProofInvalid(Unauthorized):
    code = "binding_proof_invalid"


class AlreadyBound(Conflict):
    code = "miniprogram_already_bound"


def client_id_for(platform: str) -> str:
    return f"miniprogram-{platform}"


def _ticket_hmac(runtime: Runtime, ticket: str) -> bytes:
    return keyed_hash(runtime.settings.security.token_hmac_key, f"miniprogram-binding-ticket:{ticket}")


def _map(exc: CodeRejected | PlatformUnavailable) -> AppError:
    if isinstance(exc, CodeRejected):
        return CodeInvalid("The login code is invalid, expired or already used; call wx.login / my.getAuthCode again.")
    if exc.reason in ("timeout", "busy"):
        return PlatformDown(
            "The mini-program platform is not answering; try again shortly.", headers={"Retry-After": "5"}
        )
    return PlatformError("The mini-program platform gave an answer we could not use.")


def s256(verifier: str) -> str:
    """RFC 7636 §4.2, as for OAuth codes."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def split_presented(presented: str) -> tuple[str, str]:
    """The ticket and the device's verifier from what face registration / login received."""
    ticket, verifier = presented[:TICKET_LENGTH], presented[TICKET_LENGTH:]
    if len(verifier) != VERIFIER_LENGTH or not ticket.startswith(TICKET_PREFIX):
        raise BindingProofInvalid(
            "Pass the binding ticket followed by the verifier whose challenge the mini-program sent with its code."
        )
    return ticket, verifier


def _check_proof(row: TicketRow, verifier: str) -> None:
    if row.challenge is None or not hmac.compare_digest(s256(verifier), row.challenge):
        raise BindingProofInvalid("The verifier does not match the challenge sent with the login code.")


async def exchange_code(runtime: Runtime, platform: str, code: str, ticket_challenge: str) -> MiniProgramLogin:
    """Ask the platform first (no connection is held while it answers), then decide in one transaction."""
    port = runtime.miniprogram_platforms.get(platform)
    if port is None:
        raise NotFound("This mini-program platform is not enabled.")
    try:
        identity = await port.exchange(code)
    except (CodeRejected, PlatformUnavailable) as exc:
        raise _map(exc) from exc
    if identity.platform != platform:  # an adapter bug must not cross platforms
        raise PlatformError("The mini-program platform answered for another platform.")
    async with unit_of_work(runtime.pool) as conn:
        return await _decide(conn, runtime, identity, ticket_challenge)


async def _decide(
    conn: asyncpg.Connection, runtime: Runtime, identity: PlatformIdentity, ticket_challenge: str
) -> MiniProgramLogin:
    now = runtime.clock.now()
    binding = await repo.find_binding(conn, identity.platform, identity.open_id)
    if binding is not None:
        grant = SessionGrant(
            citizen_id=binding.citizen_id,
            client_id=client_id_for(identity.platform),
            scope=SCOPE,
            acr=MINIPROGRAM_ACR,
            amr=("miniprogram",),
            auth_time=now,
        )
        actor = Actor(type="client", id=client_id_for(identity.platform))
        tokens = auth_tokens(grant, await runtime.tokens.issue(conn, grant, actor=actor))
        return MiniProgramLogin(outcome="signed_in", tokens=tokens)
    ticket = TICKET_PREFIX + secrets.token_urlsafe(32)
    await repo.purge_tickets(conn, now - timedelta(days=1))
    await repo.insert_ticket(
        conn,
        ticket_hmac=_ticket_hmac(runtime, ticket),
        identity=identity,
        challenge=ticket_challenge,
        created_at=now,
        expires_at=now + TICKET_TTL,
    )
    return MiniProgramLogin(outcome="binding_required", binding_ticket=ticket, expires_at=now + TICKET_TTL)


def _usable(row: TicketRow | None, now: datetime) -> bool:
    return row is not None and row.used_at is None and row.expires_at > now


async def check_ticket(runtime: Runtime, presented: str) -> None:
    """Before any face work: refuse an unknown, used or expired ticket, or one without the device's
    verifier, so a face is not spent on it. `presented` is the ticket followed by the verifier."""
    ticket, verifier = split_presented(presented)
    row = await repo.get_ticket(runtime.pool, _ticket_hmac(runtime, ticket))
    if row is None or not _usable(row, runtime.clock.now()):
        raise TicketInvalid("The binding ticket is unknown, used or expired; sign in to the mini-program again.")
    _check_proof(row, verifier)
    if await repo.find_binding(runtime.pool, row.platform, row.open_id) is not None:
        raise AlreadyBound("This mini-program account is already bound to a citizen.")


async def bind_with_ticket(conn: asyncpg.Connection, runtime: Runtime, presented: str, citizen_id: UUID) -> None:
    """In the face verification's transaction, after it succeeded: spend the ticket and bind.

    Raising here rolls the whole attempt back; that only happens when a concurrent
    attempt spent the same ticket or bound the same platform identity meanwhile.
    """
    now = runtime.clock.now()
    ticket, verifier = split_presented(presented)
    ticket_hmac = _ticket_hmac(runtime, ticket)
    row = await repo.get_ticket(conn, ticket_hmac, for_update=True)
    if row is None or not _usable(row, now):
        raise TicketInvalid("The binding ticket is unknown, used or expired; sign in to the mini-program again.")
    _check_proof(row, verifier)
    identity = PlatformIdentity(platform=row.platform, open_id=row.open_id, union_id=row.union_id)
    await repo.use_ticket(conn, ticket_hmac, citizen_id, now)
    if not await repo.insert_binding(conn, identity, citizen_id, now):
        raise AlreadyBound("This mini-program account is already bound to a citizen.")
    await audit.record(
        conn,
        actor=Actor(type="citizen", id=str(citizen_id)),
        action="miniprogram.bound",
        subject_type="citizen",
        subject_id=str(citizen_id),
        at=now,
        details={"platform": identity.platform, "open_id": identity.open_id},
    )
