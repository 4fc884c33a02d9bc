"""The `profile` scope: the citizen's masked name, read from the identity registry through a consented pull.

Approving a client's request that holds `profile` records a data consent for the
client's own purpose (`{kind: service, ref: oauth:<client_id>}`); withdrawing the
approval revokes it. Userinfo then pulls the identity source through the exchange
under that purpose, with the client as requester, so the read is checked against
the consent and written to the citizen's data-access log. Only the masked name
leaves Haoban; never the ID number.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from haoban.exchange.consent import service as exchange
from haoban.exchange.consent.schemas import ConsentCreate, Purpose
from haoban.exchange.sources import items as catalog
from haoban.kit.errors import Conflict
from haoban.kit.masking import mask_name
from haoban.oauth import repository as repo
from haoban.oauth.guard import requester
from haoban.runtime import Runtime
from haoban.tokens.schemas import Principal

PROFILE_SCOPE = "profile"
# The exchange checks and logs whole sources, so the consent covers every identity
# item although the client only ever gets the masked name.
PROFILE_ITEMS = tuple(catalog.item_names("identity"))
TERMS_VERSION = "oauth-profile-1"
PURPOSE_REF_MAX = 64  # exchange Purpose.ref


def purpose_of(client_id: str) -> Purpose | None:
    """The client's own purpose; None for a client id too long to name one."""
    ref = f"oauth:{client_id}"
    return Purpose(kind="service", ref=ref) if len(ref) <= PURPOSE_REF_MAX else None


async def consent_on_approval(conn: asyncpg.Connection, runtime: Runtime, *, citizen_id: UUID, client_id: str) -> None:
    """Record the consent the approval of `profile` stands for, unless a live one already exists."""
    purpose = purpose_of(client_id)
    if purpose is None:
        return
    now = runtime.clock.now()
    if await repo.live_approval_consent(conn, citizen_id=citizen_id, client_id=client_id, now=now) is not None:
        return
    consent = await exchange.grant_consent(
        conn,
        runtime,
        citizen_id,
        ConsentCreate(purpose=purpose, items=list(PROFILE_ITEMS), terms_version=TERMS_VERSION),
    )
    await repo.track_approval_consent(conn, citizen_id=citizen_id, client_id=client_id, consent_id=consent.id, at=now)


async def revoke_on_withdrawal(conn: asyncpg.Connection, runtime: Runtime, *, citizen_id: UUID, client_id: str) -> int:
    """Revoke the consents the client's approvals created; how many."""
    consent_ids = await repo.approval_consents(conn, citizen_id=citizen_id, client_id=client_id)
    for consent_id in consent_ids:
        await exchange.revoke_consent(conn, runtime, citizen_id, consent_id)
    return len(consent_ids)


async def masked_name(runtime: Runtime, principal: Principal) -> str | None:
    """The masked name, or None when there is no consent, no ID number, or the registry cannot answer.

    Uses the pool, not the request's connection: the pull holds no connection while the source answers.
    """
    purpose = purpose_of(principal.client_id)
    if purpose is None:
        return None
    try:
        pulled = await exchange.pull(
            runtime,
            citizen_id=principal.citizen_id,
            requester=requester(principal),
            purpose=purpose,
            sources=["identity"],
        )
    except exchange.ConsentRequired:  # the citizen revoked it in the app
        return None
    except Conflict:  # the account has no ID number bound, so nothing to look up
        return None
    data = pulled.data.sources[0]
    if data.status != "ok":
        return None
    value = data.items["name"].value
    return mask_name(value) if isinstance(value, str) and value else None
