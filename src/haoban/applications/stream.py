"""Server-sent events: the caller's application status changes, so clients need not poll.

One stream covers all of the citizen's applications. Each connection polls
`application_events` (the append-only history) through the pool every
HAOBAN_EVENTS_POLL_MS, holding no connection between polls, and ends after
HAOBAN_EVENTS_STREAM_S (below the access token's lifetime); the client then
reconnects with `Last-Event-ID` and misses nothing. Without it the stream starts
after the citizen's latest event, which the first `ready` event names.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated, Final
from uuid import UUID

import asyncpg
import msgspec
from litestar import get
from litestar.params import HeaderParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from haoban.applications import repository as repo
from haoban.deps import RuntimeDep
from haoban.kit.openapi import problems
from haoban.settings import ServicesSettings
from haoban.tokens.guard import CurrentPrincipal, require_scope

BATCH: Final = 100
RETRY_MS: Final = 3000  # how long a browser waits before reconnecting
HEARTBEAT_S: Final = 15.0
READ: Final = "applications.read"  # a comment line keeps proxies from closing an idle stream


async def _messages(
    pool: asyncpg.Pool, citizen_id: UUID, after: int, services: ServicesSettings
) -> AsyncIterator[ServerSentEventMessage]:
    cursor = after
    yield ServerSentEventMessage(event="ready", id=cursor, retry=RETRY_MS, data=f'{{"event_id": {cursor}}}')
    started = last_sent = time.monotonic()
    while True:
        changes = await repo.status_changes_after(pool, citizen_id, cursor, BATCH)
        for change in changes:
            yield ServerSentEventMessage(event="status", id=change.event_id, data=msgspec.json.encode(change).decode())
            cursor = change.event_id
        now = time.monotonic()
        if changes:
            last_sent = now
        elif now - last_sent >= HEARTBEAT_S:
            yield ServerSentEventMessage(comment="keep-alive")
            last_sent = now
        if now - started >= services.events_stream_s:
            return
        if len(changes) < BATCH:
            await asyncio.sleep(services.events_poll_ms / 1000)


@get(
    "/me/application-events",
    operation_id="streamMyApplicationEvents",
    summary="My applications' status changes, as server-sent events",
    description=(
        "`text/event-stream`. First a `ready` event whose `id` is where the stream starts, then one `status` event "
        "per status change of any of my applications (`data` is JSON: event_id, application_id, service_code, "
        "from_status, to_status, reason, occurred_at), oldest first; `id` is the event_id. The stream ends after "
        "a few minutes (HAOBAN_EVENTS_STREAM_S); reconnect with `Last-Event-ID` to get every change since. "
        "Without it, only changes after connecting: open the stream before reading the list. The token goes in "
        "Authorization (use a fetch-based EventSource; never put a token in the URL)."
    ),
    tags=["applications"],
    responses=problems(400, 401, 403, 422),
    media_type="text/event-stream",
    cache=False,
)
async def stream_application_events(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    last_event_id: Annotated[
        str | None,
        HeaderParameter(
            name="Last-Event-ID", pattern=r"^[0-9]{1,18}$", description="Resume after this event", required=False
        ),
    ] = None,
) -> ServerSentEvent:
    require_scope(principal, READ)
    pool = runtime.pool
    after = int(last_event_id) if last_event_id else await repo.last_status_change(pool, principal.citizen_id)
    return ServerSentEvent(
        _messages(pool, principal.citizen_id, after, runtime.settings.services),
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
