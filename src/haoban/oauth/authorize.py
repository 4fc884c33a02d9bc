"""The citizen's side of the code flow: see a pushed request, approve or deny it, manage approvals."""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import urlencode

import asyncpg

from haoban.audit import service as audit
from haoban.audit.schemas import Actor
from haoban.identity.stepup import require_recent_face
from haoban.kit.clock import Clock
from haoban.kit.crypto import keyed_hash
from haoban.kit.errors import NotFound
from haoban.oauth import par as par_service
from haoban.oauth import profile
from haoban.oauth import repository as repo
from haoban.oauth.errors import InvalidRequest
from haoban.oauth.schemas import Approval, AuthorizationView
from haoban.runtime import Runtime
from haoban.tokens import service as tokens
from haoban.tokens.schemas import Principal

CODE_TTL_S = 60
CODE_PREFIX = "hbc_"


def code_hmac(hmac_key: bytes, code: str) -> bytes:
    return keyed_hash(hmac_key, f"oauth-code:{code}")


def _redirect(redirect_uri: str, params: dict[str, str]) -> str:
    sep = "&" if "?" in redirect_uri else "?"
    return redirect_uri + sep + urlencode(params)


async def describe(
    conn: asyncpg.Connection, *, client_id: str, request_uri: str, hmac_key: bytes, clock: Clock
) -> AuthorizationView:
    par = await par_service.load(conn, request_uri=request_uri, hmac_key=hmac_key, clock=clock)
    client = await repo.get_client(conn, par.client_id)
    if client is None or client.client_id != client_id:
        raise InvalidRequest("The request_uri was not pushed by this client.")
    return AuthorizationView(
        client_id=client.client_id,
        client_name=client.display_name,
        purpose=client.purpose,
        scopes=par.scope,
        request_uri=request_uri,
        expires_at=par.expires_at,
    )


async def decide(
    conn: asyncpg.Connection,
    *,
    principal: Principal,
    runtime: Runtime,
    request_uri: str,
    approve: bool,
) -> str:
    """Approve (after a recent face verification) or deny; return where the app sends the citizen.

    Approving `profile` also records the data consent the masked name is read under.
    """
    clock = runtime.clock
    hmac_key = runtime.settings.security.token_hmac_key
    issuer = runtime.settings.security.issuer
    now = clock.now()
    if approve:
        require_recent_face(principal, now)
    id_hmac = par_service.request_uri_hmac(hmac_key, request_uri)
    par = await par_service.load(conn, request_uri=request_uri, hmac_key=hmac_key, clock=clock, for_update=True)
    await repo.mark_par_used(conn, id_hmac, now)
    actor = Actor(type="citizen", id=str(principal.citizen_id))
    if not approve:
        await audit.record(
            conn,
            actor=actor,
            action="oauth.authorization.denied",
            subject_type="oauth_client",
            subject_id=par.client_id,
            at=now,
            details={"scope": par.scope},
        )
        return _redirect(par.redirect_uri, {"error": "access_denied", "state": par.state, "iss": issuer})
    code = CODE_PREFIX + secrets.token_urlsafe(32)
    await repo.insert_code(
        conn,
        code_hmac=code_hmac(hmac_key, code),
        par=par,
        citizen_id=principal.citizen_id,
        acr=principal.acr,
        amr=list(principal.amr),
        auth_time=principal.auth_time,
        issued_at=now,
        expires_at=now + timedelta(seconds=CODE_TTL_S),
    )
    await repo.remember_approval(
        conn, citizen_id=principal.citizen_id, client_id=par.client_id, scope=par.scope, at=now
    )
    if profile.PROFILE_SCOPE in par.scope:
        await profile.consent_on_approval(conn, runtime, citizen_id=principal.citizen_id, client_id=par.client_id)
    await audit.record(
        conn,
        actor=actor,
        action="oauth.authorization.approved",
        subject_type="oauth_client",
        subject_id=par.client_id,
        at=now,
        details={"scope": par.scope},
    )
    return _redirect(par.redirect_uri, {"code": code, "state": par.state, "iss": issuer})


async def approvals(conn: asyncpg.Connection, principal: Principal) -> list[Approval]:
    return await repo.list_approvals(conn, principal.citizen_id)


async def withdraw(conn: asyncpg.Connection, runtime: Runtime, *, principal: Principal, client_id: str) -> None:
    """Forget the approvals, end every token the client holds for this citizen, revoke the consents they made."""
    now = runtime.clock.now()
    if await repo.get_client(conn, client_id) is None:  # first-party sessions are ended by logout, not here
        raise NotFound("No approval for this client.")
    removed = await repo.delete_approvals(conn, citizen_id=principal.citizen_id, client_id=client_id)
    revoked = await tokens.revoke_client_families(
        conn, citizen_id=principal.citizen_id, client_id=client_id, at=now, reason="approval_withdrawn"
    )
    consents = await profile.revoke_on_withdrawal(conn, runtime, citizen_id=principal.citizen_id, client_id=client_id)
    if not removed and not revoked and not consents:
        raise NotFound("No approval for this client.")
    await audit.record(
        conn,
        actor=Actor(type="citizen", id=str(principal.citizen_id)),
        action="oauth.authorization.withdrawn",
        subject_type="oauth_client",
        subject_id=client_id,
        at=now,
        details={"approvals": removed, "sessions_revoked": revoked, "consents_revoked": consents},
    )
