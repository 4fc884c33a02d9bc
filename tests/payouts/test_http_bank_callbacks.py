"""The app wired to the HTTP bank: the simulator (its own process) and its callbacks over real HTTP.

The app runs under uvicorn in the test's event loop, so the test can listen to
final payouts; the outbox worker is off and the test makes the bank attempt
itself (`settlement.attempt`, what the worker runs).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import msgspec
import pytest
import uvicorn

from haoban.app import create_app
from haoban.audit import service as audit
from haoban.audit.schemas import Actor
from haoban.db.batch import Batch
from haoban.db.sql import Cte, Template
from haoban.ledger import service as ledger
from haoban.payouts import bank_signing
from haoban.payouts import service as payouts
from haoban.payouts.http_bank import HttpBank, TransferRecord
from haoban.payouts.ports import BankTimeout
from haoban.payouts.settlement import attempt
from haoban.runtime import Runtime
from tests.conftest import make_settings
from tests.payouts.bank_fixtures import BANK_KEY_ID, BANK_SECRET, BankSim, run_bank_simulator
from tests.processes import free_port

CARD = "6222020200112233"
CALLBACK_PATH = "/v1/bank/callbacks"


HEARD = Template(
    "SELECT 'system' AS actor_type, 'test' AS actor_id, 'test.heard.settled' AS action, 'payout' AS subject_type,"
    " {payouts.id}::text AS subject_id, '{{}}'::jsonb AS details, 1 AS n FROM {payouts}"
)


@dataclass
class Heard:
    finals: list[tuple[UUID, str, str | None]] = field(default_factory=list)

    async def payout_final(
        self,
        conn: asyncpg.Connection,
        *,
        application_id: UUID,
        payout_id: UUID,
        status: str,
        reason: str | None,
        at: datetime,
    ) -> None:
        self.finals.append((payout_id, status, reason))

    def add_settled(self, b: Batch, prefix: str, *, payouts: Cte, at: datetime) -> None:
        """A settled payout is heard inside its own statement: a marker row per payout, read back by `all`."""
        rows = b.cte(f"{prefix}_rows", b.sql(HEARD, payouts=payouts), audit.ROW_COLUMNS)
        audit.add_rows(b, prefix, rows, at=at)

    async def all(self, db: asyncpg.Connection) -> list[tuple[UUID, str, str | None]]:
        rows = await db.fetch("SELECT subject_id FROM audit_events WHERE action = 'test.heard.settled' ORDER BY id")
        return [(UUID(r["subject_id"]), "settled", None) for r in rows] + self.finals


@dataclass
class Haoban:
    base_url: str
    runtime: Runtime
    bank: BankSim
    heard: Heard


@pytest.fixture
async def haoban(db_url: str) -> AsyncIterator[Haoban]:
    """The app on a free port with the HTTP bank at a simulator that calls it back."""
    sim_port, port = free_port(), free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = make_settings(
        db_url,
        HAOBAN_OUTBOX_WORKER="false",
        HAOBAN_BANK_URL=f"http://127.0.0.1:{sim_port}",
        HAOBAN_BANK_SECRET=BANK_SECRET,
        HAOBAN_BANK_KEY_ID=BANK_KEY_ID,
        HAOBAN_BANK_TIMEOUT_MS="400",
    )
    app = create_app(settings, database_url=db_url)
    runtime: Runtime = app.state.runtime
    heard = Heard()
    runtime.payout_listener = heard
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    with run_bank_simulator(port=sim_port, callback_url=base_url + CALLBACK_PATH) as sim:
        task = asyncio.create_task(server.serve())
        try:
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.02)
            assert isinstance(runtime.bank, HttpBank)
            yield Haoban(base_url=base_url, runtime=runtime, bank=sim, heard=heard)
        finally:
            server.should_exit = True
            await task


async def new_payout(
    runtime: Runtime, db: asyncpg.Connection, *, card_no: str = CARD, amount_fen: int = 120_000
) -> UUID:
    """A citizen with an open fund account and a committed payout request."""
    now = datetime.now(UTC)
    async with db.transaction():
        citizen_id = await db.fetchval("INSERT INTO citizens DEFAULT VALUES RETURNING id")
        await ledger.open_member_account(db, citizen_id=citizen_id, opening_balance_fen=500_000, source_ref="t", at=now)
        view = await payouts.request_payout(
            db,
            application_id=uuid.uuid4(),
            citizen_id=citizen_id,
            amount_fen=amount_fen,
            bank_name="工商银行",
            card_no=card_no,
            account_name="张三",
            close_account=False,
            actor=Actor(type="system", id="tests"),
            at=now,
            cipher=runtime.cipher,
        )
    return view.payout_id


async def payout_status(db: asyncpg.Connection, payout_id: UUID) -> str:
    status: str = await db.fetchval("SELECT status FROM payouts WHERE id = $1", payout_id)
    return status


async def wait_for_status(db: asyncpg.Connection, payout_id: UUID, wanted: str, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while (status := await payout_status(db, payout_id)) != wanted:
        assert time.monotonic() < deadline, f"payout still {status}"
        await asyncio.sleep(0.05)


def signed(payload: bytes, /, **changes: Any) -> dict[str, str]:
    values: dict[str, Any] = {
        "key_id": BANK_KEY_ID,
        "secret": BANK_SECRET,
        "method": "POST",
        "path": CALLBACK_PATH,
        "body": payload,
        "timestamp": int(time.time()),
    }
    return {**bank_signing.sign_request(**{**values, **changes}), "Content-Type": "application/json"}


def record_body(payout_id: UUID, *, status: str = "settled", amount_fen: int = 120_000) -> bytes:
    record = TransferRecord(payout_id=payout_id, card_no=CARD, amount_fen=amount_fen, status=status, bank_ref="BKX")  # type: ignore[arg-type]
    return msgspec.json.encode(record)


async def post_callback(haoban: Haoban, body: bytes, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=haoban.base_url, timeout=10) as http:
        return await http.post(CALLBACK_PATH, content=body, headers=headers)


async def test_a_signed_callback_from_the_bank_settles_a_payout_whose_transfer_timed_out(
    haoban: Haoban, db: asyncpg.Connection
) -> None:
    payout_id = await new_payout(haoban.runtime, db)
    await haoban.bank.faults(processing_ms=1000)  # longer than our 400 ms bank deadline
    with pytest.raises(BankTimeout):
        await attempt(haoban.runtime, payout_id)
    assert await payout_status(db, payout_id) == "sent"
    await wait_for_status(db, payout_id, "settled")
    actor = await db.fetchval(
        "SELECT actor_id FROM payout_events WHERE payout_id = $1 AND to_status = 'settled'", payout_id
    )
    assert actor == "bank-callback"
    assert await haoban.heard.all(db) == [(payout_id, "settled", None)]
    [row] = await haoban.bank.transfers(CARD)
    assert row["callback_delivered"] is True


async def test_a_repeated_callback_changes_nothing(haoban: Haoban, db: asyncpg.Connection) -> None:
    payout_id = await new_payout(haoban.runtime, db)
    # The bank's own callback may settle it before the attempt does; either way it settles once.
    assert (await attempt(haoban.runtime, payout_id)).outcome in {"settled", "already_final"}
    await wait_for_status(db, payout_id, "settled")
    row = await haoban.bank.resend_callback(str(payout_id))
    assert row["callback_delivered"] is True
    response = await post_callback(haoban, record_body(payout_id), signed(record_body(payout_id)))
    assert (response.status_code, response.json()["outcome"]) == (200, "already_final")
    groups = await db.fetchval("SELECT count(*) FROM ledger_groups WHERE ref = $1", str(payout_id))
    assert groups == 2  # the payout and its one settlement
    assert await haoban.heard.all(db) == [(payout_id, "settled", None)]


async def test_a_failed_transfer_reported_by_callback_reverses_the_payout(
    haoban: Haoban, db: asyncpg.Connection
) -> None:
    payout_id = await new_payout(haoban.runtime, db)
    body = record_body(payout_id, status="failed")
    body = body.replace(b'"failure_reason":null', b'"failure_reason":"card_closed"')
    response = await post_callback(haoban, body, signed(body))
    assert (response.status_code, response.json()["outcome"]) == (200, "reversed")
    assert await payout_status(db, payout_id) == "reversed"
    assert await haoban.heard.all(db) == [(payout_id, "reversed", "card_closed")]


@pytest.mark.parametrize(
    ("case", "changes"),
    [
        ("wrong_secret", {"secret": "y" * 40}),
        ("stale", {"timestamp": int(time.time()) - 3600}),
        ("unknown_key", {"key_id": "not-the-bank"}),
        ("other_path", {"path": "/v1/bank/other"}),
        ("other_body", {"body": b"{}"}),
        ("unsigned", None),
    ],
)
async def test_a_callback_whose_signature_does_not_verify_is_refused(
    haoban: Haoban, db: asyncpg.Connection, case: str, changes: dict[str, Any] | None
) -> None:
    payout_id = await new_payout(haoban.runtime, db)
    body = record_body(payout_id)
    headers = {"Content-Type": "application/json"} if changes is None else signed(body, **changes)
    response = await post_callback(haoban, body, headers)
    assert response.status_code == 401, case
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "bank_signature_invalid"
    assert await payout_status(db, payout_id) == "requested"
    assert await haoban.heard.all(db) == []


async def test_a_callback_for_an_unknown_payout_is_not_found(haoban: Haoban) -> None:
    body = record_body(uuid.uuid4())
    response = await post_callback(haoban, body, signed(body))
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


async def test_a_callback_with_another_amount_is_a_conflict_and_settles_nothing(
    haoban: Haoban, db: asyncpg.Connection
) -> None:
    payout_id = await new_payout(haoban.runtime, db)
    body = record_body(payout_id, amount_fen=999_999)
    response = await post_callback(haoban, body, signed(body))
    assert (response.status_code, response.json()["code"]) == (409, "bank_mismatch")
    assert await payout_status(db, payout_id) == "requested"


async def test_a_callback_must_carry_a_final_status(haoban: Haoban, db: asyncpg.Connection) -> None:
    payout_id = await new_payout(haoban.runtime, db)
    body = record_body(payout_id, status="processing")
    response = await post_callback(haoban, body, signed(body))
    assert (response.status_code, response.json()["code"]) == (422, "validation_failed")


async def test_settle_within_pays_through_the_http_bank(haoban: Haoban, db: asyncpg.Connection) -> None:
    payout_id = await new_payout(haoban.runtime, db)
    view = await payouts.settle_within(haoban.runtime, payout_id, 2.0)
    assert view.status == "settled"
    [row] = await haoban.bank.transfers(CARD)
    assert row["payout_id"] == str(payout_id)


async def test_a_closed_card_is_reversed_through_the_http_bank(haoban: Haoban, db: asyncpg.Connection) -> None:
    payout_id = await new_payout(haoban.runtime, db, card_no="6222020200110000")
    view = await payouts.settle_within(haoban.runtime, payout_id, 2.0)
    assert (view.status, view.failure_reason) == ("reversed", "card_closed")
    assert await haoban.heard.all(db) == [(payout_id, "reversed", "card_closed")]


async def test_after_a_timeout_reconcile_asks_the_bank_and_never_pays_twice(
    haoban: Haoban, db: asyncpg.Connection
) -> None:
    payout_id = await new_payout(haoban.runtime, db)
    await haoban.bank.faults(timeout_rate=1.0, stall_ms=3000, callbacks=False)
    with pytest.raises(BankTimeout):
        await attempt(haoban.runtime, payout_id)
    await haoban.bank.faults(callbacks=False)
    report = await payouts.reconcile(haoban.runtime)
    assert (report.settled, report.resent, report.still_open) == (1, 0, 0)
    assert await payout_status(db, payout_id) == "settled"
    assert len(await haoban.bank.transfers(CARD)) == 1
