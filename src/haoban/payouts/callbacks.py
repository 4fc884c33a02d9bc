"""`POST /v1/bank/callbacks`: the bank tells us a transfer's final outcome.

No bearer token: the request is signed by the bank (`bank_signing`, the same
scheme as our requests to it), and a signature that does not verify, a stale
timestamp or an unknown key id is a 401 problem. The verified outcome goes to
`settlement.record_answer`, which is idempotent: a repeated callback (a retry
by the bank, or a replay within the 5-minute window) finds the payout final
and changes nothing. So no nonce store is needed here.
"""

from __future__ import annotations

import logging
from typing import Any, Literal
from uuid import UUID

import msgspec
from litestar import Request, Router, post

from haoban.audit.schemas import Actor
from haoban.deps import RuntimeDep
from haoban.kit.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from haoban.kit.openapi import PUBLIC, example, problems, success
from haoban.payouts import bank_signing
from haoban.payouts.http_bank import TransferRecord, to_bank_transfer
from haoban.payouts.settlement import BankMismatch, record_answer

log = logging.getLogger("haoban.payouts.bank")

BANK_CALLBACK = Actor(type="system", id="bank-callback")
_RECORDS = msgspec.json.Decoder(TransferRecord)


class BankSignatureInvalid(Unauthorized):
    code = "bank_signature_invalid"


class BankMismatchConflict(Conflict):
    code = "bank_mismatch"


class CallbackReceipt(msgspec.Struct, frozen=True, kw_only=True):
    """`outcome`: what the callback did (`already_final` for a repeat)."""

    payout_id: UUID
    outcome: Literal["settled", "reversed", "already_final"]


_EXAMPLE_BODY = {
    "payout_id": "0b7e3c1a-6d2f-4e8a-9c5b-1f2e3d4c5b6a",
    "card_no": "6222020200112233",
    "amount_fen": 1200000,
    "status": "settled",
    "bank_ref": "BK4F2A9C0D1E3B5A77C1",
    "failure_reason": None,
}


@post(
    "/callbacks",
    operation_id="bankCallback",
    summary="The bank reports a transfer's final outcome (signed by the bank)",
    description=(
        "Called by the bank, not by apps. The body is the bank's transfer record; the headers `X-Bank-Key-Id`, "
        "`X-Bank-Timestamp`, `X-Bank-Nonce` and `X-Bank-Signature` carry an HMAC-SHA256 signature over method, "
        "path, timestamp, nonce and the SHA-256 of the body (docs/bank.md). Idempotent: a repeat answers "
        "`already_final`."
    ),
    tags=["payouts"],
    security=PUBLIC,
    status_code=200,
    responses={
        **success(
            200,
            CallbackReceipt,
            "Applied, or already applied",
            example("settled", {"payout_id": _EXAMPLE_BODY["payout_id"], "outcome": "settled"}),
        ),
        **problems(401, 404, 409, 422, codes={401: "bank_signature_invalid", 409: "bank_mismatch"}),
    },
)
async def bank_callback(request: Request[Any, Any, Any], runtime: RuntimeDep) -> CallbackReceipt:
    settings = runtime.settings.bank
    if not settings.base_url or not settings.secret:
        raise NotFound("No bank is configured here.")
    body = await request.body()
    try:
        bank_signing.verify_request(
            request.headers,
            key_id=settings.key_id,
            secret=settings.secret,
            method=request.method,
            path=request.scope.get("raw_path", b"").decode() or request.url.path,
            body=body,
            now=int(runtime.clock.now().timestamp()),
        )
    except bank_signing.SignatureError as exc:
        log.warning("bank callback refused: %s", exc.reason, extra={"reason": exc.reason})
        raise BankSignatureInvalid(f"The bank signature did not verify ({exc.reason}).") from exc
    try:
        record = _RECORDS.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ValidationFailed("The callback body is not a transfer record.") from exc
    if record.status == "processing":
        raise ValidationFailed("A callback must carry a final status.")
    try:
        outcome = await record_answer(runtime, to_bank_transfer(record), actor=BANK_CALLBACK)
    except BankMismatch as exc:
        raise BankMismatchConflict("The bank's transfer does not match the payout.") from exc
    if outcome == "not_found":
        log.error("bank callback for an unknown payout %s", record.payout_id)
        raise NotFound("No such payout.")
    return CallbackReceipt(payout_id=record.payout_id, outcome=outcome)


router = Router(path="/v1/bank", route_handlers=[bank_callback])
