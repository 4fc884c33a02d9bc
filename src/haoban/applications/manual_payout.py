"""Paying a withdrawal a reviewer approved: the rules could not decide it, a person did.

At submission the payee (bank card, account name) of such a withdrawal is kept
encrypted on the application; the reviewer's approval computes the amount with
the rule set's own formula on the stored facts and requests the payout in the
same transaction. The worker sends it; the payout listener marks it paid.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from uuid import UUID

import asyncpg
import msgspec

from haoban.applications import repository as repo
from haoban.applications.schemas import ApplicationRow
from haoban.audit.schemas import Actor
from haoban.catalog import service as catalog
from haoban.fundcentre.ports import DebitInstruction, FundCentre, FundCentreUnavailable
from haoban.kit.crypto import FieldCipher
from haoban.kit.errors import Conflict
from haoban.payouts import service as payouts
from haoban.rules import registry
from haoban.rules import service as decisions
from haoban.rules.engine import CompiledRuleSet, amount_only
from haoban.rules.facts import WITHDRAWAL_KIND, today_of
from haoban.rules.schemas import Fact, StoredDecision


class Payee(msgspec.Struct, frozen=True, kw_only=True):
    bank_name: str
    card_no: str
    account_name: str


class AmountUnknown(Conflict):
    code = "amount_unknown"


class NoPayee(Conflict):
    code = "no_payee"


def _aad(application_id: UUID) -> str:
    return f"application-payee:{application_id}"


def sealed_payee(cipher: FieldCipher, application_id: UUID, payee: Payee) -> str:
    """The payee as kept on the application (encrypted, bound to it)."""
    return cipher.encrypt(msgspec.json.encode(payee), aad=_aad(application_id))


def pays_out(row: ApplicationRow) -> bool:
    service = catalog.find(row.service_code)
    return service is not None and service.pays_out


class FundCentreRefused(Conflict):
    code = "fund_centre_refused"


async def _debit_at_fund_centre(
    fund_centre: FundCentre, row: ApplicationRow, facts: Mapping[str, Fact], amount: int, *, close: bool, on: date
) -> None:
    """The fund centre (the system of record) debits first, on the balance the decision saw; a refusal
    rolls the approval back (issue 12)."""
    account, balance = facts.get("housing_fund.account_no"), facts.get("housing_fund.balance_fen")
    if account is None or not isinstance(account.value, str) or balance is None or not isinstance(balance.value, int):
        raise AmountUnknown("The fund account on record is not known; reject it so the citizen can apply again.")
    instruction = DebitInstruction(
        instruction_id=row.id,
        account_no=account.value,
        kind=WITHDRAWAL_KIND.get(row.service_code, row.service_code),
        amount_fen=amount,
        expected_balance_fen=balance.value,
        on=on,
        close_account=close,
    )
    try:
        answer = await fund_centre.debit(instruction)
    except FundCentreUnavailable:
        raise FundCentreRefused("The fund centre cannot be reached; try again later.") from None
    if answer.status != "accepted":
        raise FundCentreRefused(
            f"The fund centre refused the debit ({answer.reason or answer.status}): the balance the decision saw"
            " has changed; reject the application so the citizen can apply again.",
            extra={"reason": answer.reason or answer.status},
        )


async def _amount(
    conn: asyncpg.Connection, row: ApplicationRow, stored: StoredDecision
) -> tuple[CompiledRuleSet, int | None]:
    today = today_of(stored.facts) or stored.decided_at.date()
    rule_set = await registry.rule_set_for(conn, row.service_code, today)
    return rule_set, amount_only(rule_set, stored.facts, today=today)


async def amount_on_approval(
    conn: asyncpg.Connection, row: ApplicationRow, stored: StoredDecision | None
) -> int | None:
    """What a reviewer's approval would pay (the rules' amount on the facts on record), or None."""
    if stored is None or not pays_out(row):
        return None
    return (await _amount(conn, row, stored))[1]


async def pay_after_review(
    conn: asyncpg.Connection,
    cipher: FieldCipher,
    row: ApplicationRow,
    *,
    actor: Actor,
    at: datetime,
    fund_centre: FundCentre,
) -> payouts.PayoutView:
    """Request the payout of an approved withdrawal; 409 when its amount or payee is not known, or when the
    fund centre refuses the debit."""
    stored = await decisions.get_decision(conn, row.decision_id) if row.decision_id else None
    if stored is None:
        raise AmountUnknown("This application has no stored decision to pay from.")
    rule_set, amount = await _amount(conn, row, stored)
    if amount is None:
        raise AmountUnknown(
            "The amount cannot be computed from the facts on record (for example the balance is unknown);"
            " reject the application so the citizen can apply again."
        )
    sealed = await repo.payee_of(conn, row.id)
    if sealed is None:
        raise NoPayee("No bank card is on record for this application; reject it so the citizen can apply again.")
    payee = msgspec.json.decode(cipher.decrypt(sealed, aad=_aad(row.id)), type=Payee)
    close = rule_set.doc.on_pass.close_account
    await _debit_at_fund_centre(fund_centre, row, stored.facts, amount, close=close, on=at.date())
    return await payouts.request_payout(
        conn,
        application_id=row.id,
        citizen_id=row.citizen_id,
        amount_fen=amount,
        bank_name=payee.bank_name,
        card_no=payee.card_no,
        account_name=payee.account_name,
        close_account=close,
        actor=actor,
        at=at,
        cipher=cipher,
    )
