"""Submitting an application: facts, rules, decision, and for instant withdrawals the payout.

Four short steps so no connection is held while other systems are asked:
1. a transaction that records the applicant's authorisation for the service's
   data items (and refuses early when a live application exists);
2. the exchange pull (its own short transactions, sources asked with none open);
3. the deciding transaction: ledger balance, rules, decision, application,
   payout request and outbox rows, all or nothing;
4. after commit, the bank is asked within the "秒到账" budget.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from haoban.applications import idempotency, lifecycle, manual_payout, resume
from haoban.applications import repository as repo
from haoban.applications.schemas import (
    ApplicationCreate,
    ApplicationRow,
    ApplicationView,
)
from haoban.applications.service import reads, transitions
from haoban.audit.schemas import Actor
from haoban.catalog import service as catalog
from haoban.catalog.schemas import Service
from haoban.citizens import service as citizens
from haoban.db.batch import Batch, refused
from haoban.db.pool import unit_of_work
from haoban.db.sql import Cte
from haoban.exchange.consent import service as exchange
from haoban.exchange.consent.schemas import ConsentCreate, LinkedData, Purpose
from haoban.exchange.consent.service import Authorised, Pulled
from haoban.exchange.sources.records import BankCard, HousingFundRecord, IdentityRecord, SourceName
from haoban.fundcentre.ports import DebitInstruction, FundCentreUnavailable
from haoban.identity.stepup import require_recent_face
from haoban.kit import events
from haoban.kit.errors import AppError, Conflict, FieldError, Unavailable, ValidationFailed
from haoban.kit.masking import mask_ref
from haoban.ledger import service as ledger
from haoban.oauth.guard import requester
from haoban.payouts import service as payouts
from haoban.rules import declarations
from haoban.rules import facts as rule_facts
from haoban.rules import service as decisions
from haoban.rules.engine import evaluate
from haoban.rules.schemas import Decision, Fact
from haoban.runtime import Runtime
from haoban.tokens.schemas import Principal

CHINA = ZoneInfo("Asia/Shanghai")
TERMS_VERSION = "apply-2026.1"
INPUTS: dict[str, type[msgspec.Struct]] = declarations.input_structs(declarations.load())  # rules/services/*.yaml


RULES = Actor(type="system", id="rules")
FUND_CENTRE = Actor(type="system", id="fund_centre")
log = logging.getLogger("haoban.applications")


class ApplicationExists(Conflict):
    code = "application_exists"


class DebitOutstanding(Unavailable):
    """The fund centre debited the instruction, our commit failed and the debit could not be given back: the key
    keeps its instruction, so a retry with it finds the debit and records it (never a second one)."""

    code = "fund_centre_debit_outstanding"


def valid_key(key: str) -> bool:
    return 1 <= len(key) <= 255 and all(0x21 <= ord(c) <= 0x7E for c in key)


def local_today(now: datetime) -> date:
    return now.astimezone(CHINA).date()


def period_of(service_def: Service, today: date) -> str:
    if service_def.period == "calendar_year":
        return str(today.year)
    return service_def.period


def parse_inputs(service_def: Service, raw: dict[str, Any]) -> dict[str, Any]:
    """Validate `inputs` with the service's own Struct; errors name `inputs.<field>`."""
    kind = INPUTS[service_def.code]
    try:
        parsed = msgspec.convert(raw, kind)
    except msgspec.ValidationError as exc:
        text = str(exc)
        path = text.rpartition("at `$")[2].rstrip("`") if "at `$" in text else ""
        field = "inputs" + path if path else "inputs"
        if (named := re.search(r"unknown field `([^`]+)`", text)) is not None:
            field = f"{field}.{named.group(1)}"  # name the field that has no place here
        raise ValidationFailed(
            "The inputs are not valid for this service.",
            errors=[FieldError(field=field, reason=text.partition(" - at")[0])],
        ) from None
    out: dict[str, Any] = msgspec.to_builtins(parsed)
    return out


async def submit(runtime: Runtime, principal: Principal, body: ApplicationCreate, key: str | None) -> tuple[int, bytes]:
    service_def = catalog.require(body.service_code)
    inputs = parse_inputs(service_def, body.inputs)
    now = runtime.clock.now()
    if service_def.pays_out:
        require_recent_face(principal, now)
    if key is None:
        view = await _run(runtime, principal, service_def, inputs, application_id=None, key=None, planned=None)
        return 201, view
    step = await idempotency.begin(
        runtime, principal.citizen_id, key, idempotency.request_hash(body.service_code, inputs)
    )
    if isinstance(step, idempotency.Replay):
        return step.status, step.body
    try:
        out = await _run(
            runtime,
            principal,
            service_def,
            inputs,
            application_id=step.application_id,
            key=key,
            planned=step.instruction_id,
        )
    except DebitOutstanding:
        await idempotency.unlock(runtime, principal.citizen_id, key)
        raise
    except AppError:
        await idempotency.release(runtime, principal.citizen_id, key)
        raise
    except BaseException:
        await asyncio.shield(idempotency.release(runtime, principal.citizen_id, key))
        raise
    await idempotency.finish(runtime, principal.citizen_id, key, status=201, body=out)
    return 201, out


async def _run(
    runtime: Runtime,
    principal: Principal,
    service_def: Service,
    inputs: dict[str, Any],
    *,
    application_id: UUID | None,
    key: str | None,
    planned: UUID | None,
) -> bytes:
    budget = runtime.settings.services.payout_budget_ms / 1000
    if application_id is None:
        decided = await _decide(runtime, principal, service_def, inputs, key, planned=planned)
        view = decided.view
        if decided.claim is not None:
            # The answer is built from what this request already holds; only an odd outcome is re-read.
            payout = await payouts.send_claimed(runtime, decided.claim, budget)
            if payout.status == "settled":
                summary = reads.payout_summary(payout)
                view = msgspec.structs.replace(view, status="paid", payout=summary, updated_at=runtime.clock.now())
            elif payout.status in ("requested", "sent"):
                view = msgspec.structs.replace(view, payout=reads.payout_summary(payout))
            else:
                view = await _current_view(runtime, principal, decided.application_id)
        return msgspec.json.encode(view)
    # Resuming a request that died after creating its application.
    payout_id = await _payout_id(runtime, application_id)
    if payout_id is not None:
        await payouts.settle_within(runtime, payout_id, budget)
    return msgspec.json.encode(await _current_view(runtime, principal, application_id))


async def _current_view(runtime: Runtime, principal: Principal, application_id: UUID) -> ApplicationView:
    async with unit_of_work(runtime.pool) as conn:
        row = await reads.owned(conn, application_id, principal.citizen_id)
        return await reads.view(conn, row)


async def _payout_id(runtime: Runtime, application_id: UUID) -> UUID | None:
    async with unit_of_work(runtime.pool) as conn:
        view = await payouts.for_application(conn, application_id)
        return view.payout_id if view is not None and view.status in ("requested", "sent") else None


def sources_for(service_def: Service) -> list[SourceName]:
    """What the rules read, plus the identity registry when money goes to the citizen's card (account name)."""
    wanted = [*rule_facts.RECORDED_FOR.get(service_def.code, []), *rule_facts.SOURCES_FOR[service_def.code]]
    if service_def.pays_out and "identity" not in wanted:
        wanted.insert(0, "identity")
    return wanted


async def _authorise(
    runtime: Runtime, principal: Principal, service_def: Service, period: str, sources: list[SourceName]
) -> tuple[Purpose, repo.SubmissionState]:
    """Step 1, one statement: applying authorises the service to pull these sources (one consent per
    service, granted with its audit row unless one holds them all), unless an application is live; it
    also reads what the rules need from our own books (ledger balance, paid history)."""
    purpose = Purpose(kind="service", ref=service_def.code)
    now = runtime.clock.now()
    b = Batch()
    cid = b.arg(principal.citizen_id, "uuid")
    live = repo.add_live_check(b, "submit", cid, service_def.code, period)
    granted = exchange.add_service_consent(
        b,
        "submit",
        principal.citizen_id,
        ConsentCreate(purpose=purpose, items=[f"{s}.*" for s in sources], terms_version=TERMS_VERSION),
        at=now,
        unless=live,
    )
    grants = exchange.add_live_grants(b, "submit", cid, purpose, granted=granted)
    sealed = citizens.add_sealed_id_number(b, "submit", cid)
    balance = ledger.add_member_balance(b, "submit", cid)
    async with unit_of_work(runtime.pool, transaction=False) as conn:
        state = await repo.run_submission_state(
            b,
            conn,
            cid,
            service_def.code,
            live=live,
            sealed=sealed,
            grants=grants,
            balance=balance,
            since=now - timedelta(days=366),
        )
    if state.live_id is not None:
        raise ApplicationExists("You already have a live application for this service and period.")
    return purpose, state


def _source_value(data: LinkedData, source: str, item: str) -> Any:
    for s in data.sources:
        if s.source == source and s.status == "ok":
            value = s.items.get(item)
            return None if value is None or isinstance(value.value, msgspec.UnsetType) else value.value
    return None


class Decided(msgspec.Struct, frozen=True, kw_only=True):
    application_id: UUID
    claim: payouts.Claim | None
    view: ApplicationView


async def _decide(
    runtime: Runtime,
    principal: Principal,
    service_def: Service,
    inputs: dict[str, Any],
    key: str | None,
    *,
    planned: UUID | None = None,
) -> Decided:
    now = runtime.clock.now()
    today = local_today(now)
    period = period_of(service_def, today)
    sources = sources_for(service_def)
    purpose, state = await _authorise(runtime, principal, service_def, period, sources)
    pulled = await exchange.pull(
        runtime,
        citizen_id=principal.citizen_id,
        requester=requester(principal),
        purpose=purpose,
        sources=sources,
        authorised=Authorised(grants=state.grants, sealed_id_number=state.sealed_id_number),
        household=service_def.code in rule_facts.HOUSEHOLD_RULE,
    )
    application_id, decision_id = planned or uuid.uuid4(), uuid.uuid4()
    if planned is not None and service_def.pays_out:  # a retry: an earlier run's debit may stand unrecorded
        pulled, _ = resume.without_own_debit(pulled, planned)
    facts, decision = await _evaluate(
        runtime,
        state,
        principal=principal,
        service_def=service_def,
        data=pulled.data,
        inputs=inputs,
        opening_ref=application_id,
    )
    to = _status_after(service_def, decision)
    reason = (", ".join(decision.reasons) or None) if to == "rejected" else None
    actor = RULES
    instruction: DebitInstruction | None = None
    if to == "approved" and service_def.pays_out and decision.amount_fen:
        instruction, refusal = await _instruct(
            runtime, service_def, pulled=pulled, application_id=application_id, decision=decision, today=today
        )
        if refusal is not None:  # the fund centre did not debit: no payout, nothing moves
            to, reason, actor, instruction = "rejected", refusal, FUND_CENTRE, None
    row = ApplicationRow(
        id=application_id,
        citizen_id=principal.citizen_id,
        service_code=service_def.code,
        period=period,
        department=service_def.department,
        status="submitted",
        status_reason=None,
        inputs=inputs,
        decision_id=decision_id,
        outcome=decision.outcome,
        amount_fen=decision.amount_fen,
        created_at=now,
        updated_at=now,
    )
    moves = [transitions.Move(to=to, actor=actor, reason=reason)]
    # Everything the decision writes is one statement: the decision, the application with its
    # steps, and for an approved withdrawal the member debit, the ledger group and the claimed payout.
    b = Batch()
    claim, guard = _pay(b, runtime, service_def, row, to=to, decision=decision, pulled=pulled, now=now)
    decisions.add_decision(
        b,
        "decide",
        decision_id=decision_id,
        decision=decision,
        facts=facts,
        service_code=service_def.code,
        application_id=application_id,
        at=now,
        guard=guard,
    )
    left_to_a_person = service_def.pays_out and to in ("pending_review", "pending_materials")
    payee = _payee(pulled) if left_to_a_person else None
    after = transitions.add_new(
        b,
        "app",
        row,
        actor=Actor(type="citizen", id=str(principal.citizen_id)),
        at=now,
        moves=moves,
        guard=guard,
        payee_enc=manual_payout.sealed_payee(runtime.cipher, application_id, payee) if payee else None,
    )
    if key is not None:
        repo.add_key_link(b, "app", principal.citizen_id, key, application_id, guard=guard)
    try:
        async with unit_of_work(runtime.pool, transaction=False) as conn:
            try:
                await b.fetchrow(conn)
            except asyncpg.UniqueViolationError:
                raise ApplicationExists("You already have a live application for this service and period.") from None
            except asyncpg.PostgresError as exc:
                if claim is None or refused(exc) != ledger.DEBIT_REFUSED:
                    raise
                raise await payouts.debit_refusal(conn, claim) from None
    except BaseException as exc:
        if instruction is not None:  # debited at the fund centre, not recorded here: give it back
            given = await asyncio.shield(_give_back(runtime, instruction.instruction_id))
            if not given and key is not None:
                raise DebitOutstanding(
                    "The fund centre holds this withdrawal; retry with the same Idempotency-Key."
                ) from exc
        raise
    _announce(service_def.code, application_id, decision, to, reason)
    view = ApplicationView(
        application_id=application_id,
        service_code=after.service_code,
        status=after.status,
        status_reason=after.status_reason,
        created_at=after.created_at,
        updated_at=after.updated_at,
        decision=reads.decision_view(decision_id, decision, facts, after.status_reason),
        payout=reads.payout_summary(claim.view if claim else None),
    )
    return Decided(application_id=application_id, claim=claim, view=view)


def _announce(service_code: str, application_id: UUID, decision: Decision, to: str, reason: str | None) -> None:
    """The committed decision as domain events (haoban.kit.events): submitted, decided, refused."""
    ref = mask_ref(application_id)
    rule_set, _, version = decision.rule_set_version.partition("@")
    events.emit("submitted", service=service_code, application=ref)
    events.emit(
        "decided",
        code=decision.outcome,
        service=service_code,
        application=ref,
        status=to,
        outcome=decision.outcome,
        rule_set=rule_set,
        version=version,
    )
    if to == "rejected":
        for code in (reason or "refused").split(", "):
            events.emit("refused", code=code, service=service_code, application=ref)


async def _evaluate(
    runtime: Runtime,
    state: repo.SubmissionState,
    *,
    principal: Principal,
    service_def: Service,
    data: LinkedData,
    inputs: dict[str, Any],
    opening_ref: UUID,
) -> tuple[dict[str, Fact], Decision]:
    """Facts (linked data, the ledger balance, own paid withdrawals) and the rules' decision; writes nothing
    except, the first time, the member account opened from the fund's balance."""
    now = runtime.clock.now()
    today = local_today(now)
    balance = state.balance_fen
    source_balance = _source_value(data, "housing_fund", "balance_fen")
    if not isinstance(source_balance, int):
        balance = None  # the fund centre did not answer: the balance is not known (never the mirror's)
    elif service_def.pays_out and balance != source_balance:
        # The fund centre is the system of record: the mirror opens at, or moves to, the balance it just
        # answered (one short transaction, only when they differ: a first use, a deposit, a counter withdrawal).
        async with unit_of_work(runtime.pool) as conn:
            balance = await ledger.sync_member_account(
                conn,
                citizen_id=principal.citizen_id,
                balance_fen=source_balance,
                seen_fen=state.balance_fen,
                source_ref=f"housing_fund:{opening_ref}",
                at=now,
            )
    rule_set = await runtime.rule_sets.get(runtime.pool, service_def.rule_set, today)
    facts = rule_facts.build_facts(
        service_code=service_def.code,
        linked=data,
        ledger_balance_fen=balance if service_def.pays_out else None,
        own_withdrawals=[
            rule_facts.OwnWithdrawal(
                service_code=service_def.code, paid_on=local_today(p.paid_at), amount_fen=p.amount_fen
            )
            for p in state.paid
        ],
        inputs=inputs,
        today=today,
    )
    return facts, evaluate(rule_set, facts, today=today)


def _record(pulled: Pulled, source: SourceName) -> object:
    """The raw record a source answered (the linked view masks the card number; the payout needs it)."""
    for answer in pulled.answers:
        if answer.source == source and answer.fetched is not None:
            return answer.fetched.record
    return None


def _status_after(service_def: Service, decision: Decision) -> lifecycle.Status:
    """Where the decision puts a new application."""
    to = lifecycle.after_decision(decision.outcome)
    if to == "pending_review" and catalog.you_provide(service_def):
        return "pending_materials"  # 1+1+N: waits for the applicant's letter and uploads, then acceptance
    return to


def _payee(pulled: Pulled) -> manual_payout.Payee | None:
    """Where a withdrawal's money goes (the fund's bank card, the registry's name); None without a card."""
    fund, identity = _record(pulled, "housing_fund"), _record(pulled, "identity")
    card = fund.bank_card if isinstance(fund, HousingFundRecord) else BankCard(bank_name="", card_no="")
    if not card.card_no:
        return None
    name = identity.name if isinstance(identity, IdentityRecord) else ""
    return manual_payout.Payee(bank_name=card.bank_name, card_no=card.card_no, account_name=name)


def _pay(
    b: Batch,
    runtime: Runtime,
    service_def: Service,
    row: ApplicationRow,
    *,
    to: lifecycle.Status,
    decision: Decision,
    pulled: Pulled,
    now: datetime,
) -> tuple[payouts.Claim | None, Cte | None]:
    """An approved withdrawal's payout, claimed to send after commit: its CTEs and the guard the rest depends on.

    A withdrawal left to a person keeps its payee on the application instead (`_decide`).
    """
    if to != "approved" or not decision.amount_fen or not service_def.pays_out:
        return None, None
    payee = _payee(pulled) or manual_payout.Payee(bank_name="", card_no="", account_name="")
    claim, guard, _ = payouts.add_request(  # 422 naming card_no when the fund knows no valid card
        b,
        "pay",
        application_id=row.id,
        citizen_id=row.citizen_id,
        amount_fen=decision.amount_fen,
        bank_name=payee.bank_name,
        card_no=payee.card_no,
        account_name=payee.account_name,
        close_account=decision.close_account,
        actor=RULES,
        at=now,
        cipher=runtime.cipher,
        claimed_until=now + timedelta(seconds=runtime.outbox.lease_s),
    )
    return claim, guard


async def _instruct(
    runtime: Runtime,
    service_def: Service,
    *,
    pulled: Pulled,
    application_id: UUID,
    decision: Decision,
    today: date,
) -> tuple[DebitInstruction | None, str | None]:
    """Post the approved amount to the fund centre as a debit; (the accepted instruction, None) or
    (None, the reason the application is refused: `fund_centre_refused:<reason>` or `fund_centre_unavailable`)."""
    fund = _record(pulled, "housing_fund")
    if not isinstance(fund, HousingFundRecord) or decision.amount_fen is None:
        return None, "fund_centre_refused:unknown_account"
    instruction = DebitInstruction(
        instruction_id=application_id,
        account_no=fund.account_no,
        kind=rule_facts.WITHDRAWAL_KIND.get(service_def.code, service_def.code),
        amount_fen=decision.amount_fen,
        expected_balance_fen=fund.balance_fen,
        on=today,
        close_account=decision.close_account,
    )
    try:
        answer = await runtime.fund_centre.debit(instruction)
    except FundCentreUnavailable:
        await _give_back(runtime, application_id)  # the outcome is unknown: make sure nothing stays debited
        return None, "fund_centre_unavailable"
    if answer.status != "accepted":
        return None, f"fund_centre_refused:{answer.reason or answer.status}"
    return instruction, None


async def _give_back(runtime: Runtime, instruction_id: UUID) -> bool:
    """Reverse a debit Haoban will not pay out (best effort; `haoban ledger reconcile` reports what is left)."""
    try:
        await runtime.fund_centre.reverse(instruction_id, reason="not recorded by haoban")
    except FundCentreUnavailable:
        log.warning("fund-centre debit not reversed", extra={"instruction_id": str(instruction_id)})
        return False
    return True
