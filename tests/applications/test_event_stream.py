"""Server-sent events of application status changes, through real HTTP against a server subprocess."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from haoban.kit.clock import FrozenClock
from haoban.settings import Settings
from tests.applications.people import Person, apply, person
from tests.conftest import LiveServer

PATH = "/v1/me/application-events"
# Short streams so each test reads one to its end; the poll is fast so changes show up within it.
FAST = {"HAOBAN_EVENTS_POLL_MS": "100", "HAOBAN_EVENTS_STREAM_S": "5"}


class Event:
    def __init__(self, fields: dict[str, str]) -> None:
        self.event = fields.get("event", "message")
        self.id = fields.get("id")
        self.data = fields.get("data", "")

    def json(self) -> Any:
        return json.loads(self.data)


async def read_stream(
    http: httpx.AsyncClient, who: Person, *, last_event_id: str | None = None, on_ready: Any = None
) -> list[Event]:
    """Every event until the server ends the stream; `on_ready` runs once the stream has started."""
    headers = {**who.headers, **({"Last-Event-ID": last_event_id} if last_event_id else {})}
    events: list[Event] = []
    task = None
    async with http.stream("GET", PATH, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        fields: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line == "":
                if fields:
                    events.append(Event(fields))
                    if events[-1].event == "ready" and on_ready is not None:
                        task = asyncio.create_task(on_ready())
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
    if task is not None:
        await task
    return events


@pytest.fixture
async def server(live_server: Callable[..., LiveServer]) -> LiveServer:
    return await asyncio.to_thread(live_server, **FAST)


async def test_a_change_made_while_connected_arrives_and_resume_gets_only_what_follows(
    db: asyncpg.Connection, settings: Settings, clock: FrozenClock, server: LiveServer
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        renter = await person(http, db, settings, clock, seq=811)
        answers: list[httpx.Response] = []

        async def submit() -> None:
            answers.append(await apply(http, renter, "hpf.withdraw.rent", headers={"Idempotency-Key": "k-811"}))

        events = await read_stream(http, renter, on_ready=submit)
        assert answers[0].status_code == 201, answers[0].text
        application = answers[0].json()
        assert events[0].event == "ready"
        changes = [e for e in events if e.event == "status"]
        assert changes, "the submitted application's changes arrived on the open stream"
        body = [c.json() for c in changes]
        assert {b["application_id"] for b in body} == {application["application_id"]}
        assert [b["event_id"] for b in body] == sorted(b["event_id"] for b in body)
        assert [c.id for c in changes] == [str(b["event_id"]) for b in body]
        assert body[-1]["to_status"] == application["status"] == "paid"
        history = await db.fetch(
            "SELECT id, to_status FROM application_events WHERE application_id = $1 ORDER BY id",
            application["application_id"],
        )
        assert [(b["event_id"], b["to_status"]) for b in body] == [(r["id"], r["to_status"]) for r in history]

        resumed = await read_stream(http, renter, last_event_id=changes[0].id)
        assert resumed[0].event == "ready"
        assert resumed[0].id == changes[0].id
        assert [e.json() for e in resumed if e.event == "status"] == body[1:]

        fresh = await read_stream(http, renter)
        assert fresh[0].id == changes[-1].id, "without Last-Event-ID the stream starts after the latest change"
        assert [e for e in fresh if e.event == "status"] == []


async def test_another_citizens_changes_never_appear(
    db: asyncpg.Connection, settings: Settings, clock: FrozenClock, server: LiveServer
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        renter = await person(http, db, settings, clock, seq=812)
        other = await person(http, db, settings, clock, seq=813)
        submitted = await apply(http, renter, "hpf.withdraw.rent", headers={"Idempotency-Key": "k-812"})
        assert submitted.status_code == 201, submitted.text
        events = await read_stream(http, other, last_event_id="0")
        assert [e for e in events if e.event == "status"] == []
        mine = await read_stream(http, renter, last_event_id="0")
        assert {e.json()["application_id"] for e in mine if e.event == "status"} == {submitted.json()["application_id"]}


async def test_bad_resume_ids_and_missing_tokens_are_problems(
    db: asyncpg.Connection, settings: Settings, clock: FrozenClock, server: LiveServer
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        renter = await person(http, db, settings, clock, seq=814)
        for bad in ("-1", "abc", "1" * 30, "1.5"):
            response = await http.get(PATH, headers={**renter.headers, "Last-Event-ID": bad})
            assert 400 <= response.status_code < 500, (bad, response.status_code)
            assert response.headers["content-type"].startswith("application/problem+json"), bad
        anonymous = await http.get(PATH)
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"].startswith("application/problem+json")
