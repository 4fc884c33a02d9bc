"""A stand-in for the bank's direct-connect API: the other side of `http_bank.py`, in its own process.

    python -m haoban.simulators.bank.server --port 8901 --secret S [--key-id haoban]
        [--callback-url http://127.0.0.1:8000/v1/bank/callbacks] [--db bank.sqlite3]

It is another system, so it keeps its own storage: a SQLite file (or memory),
used only from the event loop's thread, so each read-then-write is atomic. It
verifies every signed request (401 on a bad signature, a stale timestamp or a
replayed nonce), signs every answer, and POSTs a signed callback to
`--callback-url` when a transfer finishes. Cards ending in 0000 are closed:
the transfer fails permanently with `card_closed`.

Unsigned test knobs (bind to loopback only), see docs/bank.md:
    POST /admin/faults        {latency_ms, failure_rate, timeout_rate, fail_next, timeout_next,
                               stall_ms, processing_ms, tamper, callbacks}: the whole setting each time
    GET  /admin/state         the faults and counters
    GET  /admin/transfers     ?card_no=... (all transfers when absent)
    POST /admin/transfers/{payout_id}/callback   send the callback again
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any
from urllib.parse import urlsplit
from uuid import UUID

import httpx
import msgspec
import uvicorn
from litestar import Litestar, Request, get, post
from litestar.response import Response

from haoban.payouts import bank_signing
from haoban.payouts.http_bank import TransferOrder, TransferRecord

CLOSED_CARD_SUFFIX = "0000"
CALLBACK_ATTEMPTS = 6
_SCHEMA = """
CREATE TABLE IF NOT EXISTS transfers (
    payout_id TEXT PRIMARY KEY, card_no TEXT NOT NULL, account_name TEXT NOT NULL, amount_fen INTEGER NOT NULL,
    status TEXT NOT NULL, bank_ref TEXT NOT NULL, failure_reason TEXT, created_at REAL NOT NULL,
    finish_at REAL NOT NULL, callback_attempts INTEGER NOT NULL DEFAULT 0, callback_delivered INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, seen_at REAL NOT NULL);
"""
_ORDERS = msgspec.json.Decoder(TransferOrder)


class Faults(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    latency_ms: Annotated[int, msgspec.Meta(ge=0, le=600_000)] = 0
    failure_rate: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.0  # signed 503, nothing recorded
    timeout_rate: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.0  # recorded, then no answer for stall_ms
    fail_next: Annotated[int, msgspec.Meta(ge=0)] = 0
    timeout_next: Annotated[int, msgspec.Meta(ge=0)] = 0
    stall_ms: Annotated[int, msgspec.Meta(ge=0, le=600_000)] = 30_000
    processing_ms: Annotated[int, msgspec.Meta(ge=0, le=600_000)] = 0  # a new transfer stays processing this long
    tamper: bool = False  # change each signed answer's body after signing
    callbacks: bool = True


class SimulatorState(msgspec.Struct, frozen=True, kw_only=True):
    faults: Faults
    requests: int
    refused: int  # 401s
    transfers: int
    callbacks_sent: int
    callbacks_delivered: int


class AdminTransfer(msgspec.Struct, frozen=True, kw_only=True):
    payout_id: UUID
    card_no: str
    account_name: str
    amount_fen: int
    status: str
    bank_ref: str
    failure_reason: str | None
    callback_attempts: int
    callback_delivered: bool


def _record(row: tuple[Any, ...]) -> TransferRecord:
    payout_id, card_no, amount_fen, status, bank_ref, failure_reason = row
    return TransferRecord(
        payout_id=UUID(payout_id),
        card_no=card_no,
        amount_fen=amount_fen,
        status=status,
        bank_ref=bank_ref,
        failure_reason=failure_reason,
    )


class BankSimulator:
    """The bank's state: storage, faults and counters (one event loop, so no locks)."""

    def __init__(self, *, key_id: str, secret: str, callback_url: str | None, db_path: str) -> None:
        self.key_id = key_id
        self.secret = secret
        self.callback_url = callback_url
        self.faults = Faults()
        self.requests = 0
        self.refused = 0
        self.callbacks_sent = 0
        self.db = sqlite3.connect(db_path, isolation_level=None)
        self.db.executescript(_SCHEMA)
        self.tasks: set[asyncio.Task[None]] = set()
        self.http: httpx.AsyncClient | None = None

    def state(self) -> SimulatorState:
        transfers, delivered = self.db.execute(
            "SELECT count(*), coalesce(sum(callback_delivered), 0) FROM transfers"
        ).fetchone()
        return SimulatorState(
            faults=self.faults,
            requests=self.requests,
            refused=self.refused,
            transfers=transfers,
            callbacks_sent=self.callbacks_sent,
            callbacks_delivered=delivered,
        )

    def answer(self, request: Request[Any, Any, Any], status: int, content: Any) -> Response[bytes]:
        """A signed answer to `request`; with `tamper`, its body changes after signing."""
        body = msgspec.json.encode(content)
        headers = bank_signing.sign_response(
            key_id=self.key_id,
            secret=self.secret,
            status=status,
            request_nonce=request.headers.get(bank_signing.NONCE, ""),
            body=body,
            timestamp=int(time.time()),
        )
        if self.faults.tamper:
            changed = body.replace(b'"failed"', b'"settled"')
            body = changed if changed != body else body + b" "
        return Response(body, status_code=status, media_type="application/json", headers=headers)

    async def admit(self, request: Request[Any, Any, Any], body: bytes) -> Response[bytes] | None:
        """Verify the signature and apply latency and failure faults; a response refuses the request."""
        self.requests += 1
        path = request.scope.get("raw_path", b"").decode() or request.url.path
        now = time.time()
        try:
            nonce = bank_signing.verify_request(
                request.headers,
                key_id=self.key_id,
                secret=self.secret,
                method=request.method,
                path=path,
                body=body,
                now=int(now),
            )
        except bank_signing.SignatureError as exc:
            self.refused += 1
            return self.answer(request, 401, {"error": exc.reason})
        self.db.execute("DELETE FROM nonces WHERE seen_at < ?", (now - 2 * bank_signing.MAX_SKEW_S,))
        if self.db.execute("INSERT OR IGNORE INTO nonces VALUES (?, ?)", (nonce, now)).rowcount == 0:
            self.refused += 1
            return self.answer(request, 401, {"error": "replayed_nonce"})
        if self.faults.latency_ms:
            await asyncio.sleep(self.faults.latency_ms / 1000)
        failing = self.faults.fail_next > 0 or random.random() < self.faults.failure_rate  # noqa: S311 (faults)
        if self.faults.fail_next:
            self.faults = msgspec.structs.replace(self.faults, fail_next=self.faults.fail_next - 1)
        if failing:
            return self.answer(request, 503, {"error": "unavailable"})
        return None

    def find(self, payout_id: str) -> TransferRecord | None:
        """The transfer, finished first if its processing time is over."""
        self.finish(payout_id, due_only=True)
        row = self.db.execute(
            "SELECT payout_id, card_no, amount_fen, status, bank_ref, failure_reason"
            " FROM transfers WHERE payout_id = ?",
            (payout_id,),
        ).fetchone()
        return None if row is None else _record(row)

    def create(self, order: TransferOrder) -> TransferRecord | None:
        """Record a new transfer; the existing one for the same order; None for another order under the id."""
        key = str(order.payout_id)
        row = self.db.execute(
            "SELECT card_no, account_name, amount_fen FROM transfers WHERE payout_id = ?", (key,)
        ).fetchone()
        if row is not None:
            return self.find(key) if tuple(row) == (order.card_no, order.account_name, order.amount_fen) else None
        now = time.time()
        closed = order.card_no.endswith(CLOSED_CARD_SUFFIX)
        processing = self.faults.processing_ms / 1000 if not closed else 0.0
        status = "failed" if closed else "processing" if processing else "settled"
        self.db.execute(
            "INSERT INTO transfers (payout_id, card_no, account_name, amount_fen, status, bank_ref, failure_reason,"
            " created_at, finish_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                order.card_no,
                order.account_name,
                order.amount_fen,
                status,
                "BK" + uuid.uuid4().hex[:18].upper(),
                "card_closed" if closed else None,
                now,
                now + processing,
            ),
        )
        if processing:
            self.spawn(self._finish_later(key, processing))
        else:
            self.spawn(self.deliver(key))
        return self.find(key)

    def finish(self, payout_id: str, *, due_only: bool) -> None:
        due = time.time() if due_only else float("inf")
        changed = self.db.execute(
            "UPDATE transfers SET status = 'settled' WHERE payout_id = ? AND status = 'processing' AND finish_at <= ?",
            (payout_id, due),
        ).rowcount
        if changed:
            self.spawn(self.deliver(payout_id))

    async def _finish_later(self, payout_id: str, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        self.finish(payout_id, due_only=False)

    def spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def deliver(self, payout_id: str, *, forced: bool = False) -> None:
        """POST the signed final transfer to the callback URL until it answers 2xx (a few tries)."""
        if self.callback_url is None or self.http is None or not (self.faults.callbacks or forced):
            return
        record = self.find(payout_id)
        if record is None or record.status == "processing":
            return
        body = msgspec.json.encode(record)
        path = urlsplit(self.callback_url).path or "/"
        for attempt in range(CALLBACK_ATTEMPTS):
            if attempt:
                await asyncio.sleep(0.2 * 2 ** (attempt - 1))
            headers = bank_signing.sign_request(
                key_id=self.key_id, secret=self.secret, method="POST", path=path, body=body, timestamp=int(time.time())
            )
            self.callbacks_sent += 1
            self.db.execute(
                "UPDATE transfers SET callback_attempts = callback_attempts + 1 WHERE payout_id = ?", (payout_id,)
            )
            try:
                response = await self.http.post(
                    self.callback_url, content=body, headers={**headers, "Content-Type": "application/json"}
                )
            except httpx.HTTPError:
                continue
            if response.is_success:
                self.db.execute("UPDATE transfers SET callback_delivered = 1 WHERE payout_id = ?", (payout_id,))
                return

    def listing(self, card_no: str | None) -> list[AdminTransfer]:
        rows = self.db.execute(
            "SELECT payout_id, card_no, account_name, amount_fen, status, bank_ref, failure_reason,"
            " callback_attempts, callback_delivered FROM transfers WHERE ? IS NULL OR card_no = ? ORDER BY created_at",
            (card_no, card_no),
        ).fetchall()
        fields = AdminTransfer.__struct_fields__
        return [msgspec.convert(dict(zip(fields, row, strict=True)), AdminTransfer, strict=False) for row in rows]


def create_bank_simulator(
    *, secret: str, key_id: str = "haoban", callback_url: str | None = None, db_path: str = ":memory:"
) -> Litestar:
    sim = BankSimulator(key_id=key_id, secret=secret, callback_url=callback_url, db_path=db_path)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        sim.http = httpx.AsyncClient(timeout=5, follow_redirects=False)
        try:
            yield
        finally:
            for task in list(sim.tasks):
                task.cancel()
            await sim.http.aclose()
            sim.db.close()

    @post("/transfers", operation_id="bankTransfer", status_code=200)
    async def transfer(request: Request[Any, Any, Any]) -> Response[bytes]:
        body = await request.body()
        if (refused := await sim.admit(request, body)) is not None:
            return refused
        try:
            order = _ORDERS.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return sim.answer(request, 422, {"error": "invalid_request"})
        if (record := sim.create(order)) is None:
            return sim.answer(request, 409, {"error": "conflict"})
        faults = sim.faults
        stall = faults.timeout_next > 0 or random.random() < faults.timeout_rate  # noqa: S311 (faults)
        if faults.timeout_next:
            sim.faults = msgspec.structs.replace(faults, timeout_next=faults.timeout_next - 1)
        if stall:
            await asyncio.sleep(faults.stall_ms / 1000)  # applied, but the caller gives up first
        return sim.answer(request, 200, record)

    @get("/transfers/{payout_id:str}", operation_id="bankTransferStatus")
    async def transfer_status(payout_id: str, request: Request[Any, Any, Any]) -> Response[bytes]:
        if (refused := await sim.admit(request, await request.body())) is not None:
            return refused
        record = sim.find(payout_id)
        if record is None:
            return sim.answer(request, 404, {"error": "not_found"})
        return sim.answer(request, 200, record)

    @get("/admin/state", operation_id="bankAdminState")
    async def read_state() -> SimulatorState:
        return sim.state()

    @post("/admin/faults", operation_id="bankAdminFaults", status_code=200)
    async def set_faults(data: Faults) -> SimulatorState:
        sim.faults = data
        return sim.state()

    @get("/admin/transfers", operation_id="bankAdminTransfers")
    async def list_transfers(card_no: str | None = None) -> list[AdminTransfer]:
        return sim.listing(card_no)

    @post("/admin/transfers/{payout_id:str}/callback", operation_id="bankAdminCallback", status_code=200)
    async def resend_callback(payout_id: str) -> list[AdminTransfer]:
        await sim.deliver(payout_id, forced=True)
        return [t for t in sim.listing(None) if str(t.payout_id) == payout_id]

    return Litestar(
        route_handlers=[transfer, transfer_status, read_state, set_faults, list_transfers, resend_callback],
        lifespan=[lifespan],
        openapi_config=None,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m haoban.simulators.bank.server", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8901)
    parser.add_argument("--secret", required=True, help="the shared HMAC secret (HAOBAN_BANK_SECRET)")
    parser.add_argument("--key-id", default="haoban")
    parser.add_argument("--callback-url", default=None, help="where to POST finished transfers")
    parser.add_argument("--db", default=":memory:", help="SQLite file for the bank's own storage")
    args = parser.parse_args(argv)
    app = create_bank_simulator(secret=args.secret, key_id=args.key_id, callback_url=args.callback_url, db_path=args.db)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=2)


if __name__ == "__main__":
    main()
