"""The HTTP bank adapter against the bank simulator in its own process, over real HTTP."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from haoban.kit.clock import SystemClock
from haoban.kit.settings_error import SettingsError
from haoban.payouts import bank_signing
from haoban.payouts.http_bank import BankRejected, BankResponseInvalid, HttpBank, make_bank
from haoban.payouts.ports import BankTimeout, BankTransfer, BankUnavailable
from haoban.settings import BankSettings, load_settings
from tests.conftest import server_env
from tests.payouts import bank_fixtures
from tests.payouts.bank_fixtures import (
    BANK_KEY_ID,
    BANK_SECRET,
    BankFactory,
    BankSim,
    bank_settings,
    run_bank_simulator,
)
from tests.processes import free_port

bank_sim = bank_fixtures.bank_sim
http_bank = bank_fixtures.http_bank

CARD = "6222020200112233"
CLOSED_CARD = "6222020200110000"


async def pay(bank: HttpBank, payout_id: UUID, *, card_no: str = CARD, amount_fen: int = 150_000) -> BankTransfer:
    return await bank.transfer(payout_id=payout_id, card_no=card_no, account_name="张三", amount_fen=amount_fen)


class TestTransfers:
    async def test_a_transfer_settles_and_the_bank_keeps_it(self, bank_sim: BankSim, http_bank: BankFactory) -> None:
        bank = http_bank()
        payout_id = uuid.uuid4()
        done = await bank.transfer(payout_id=payout_id, card_no=CARD, account_name="张三", amount_fen=150_000)
        assert (done.payout_id, done.card_no, done.amount_fen, done.status) == (payout_id, CARD, 150_000, "settled")
        assert done.bank_ref.startswith("BK")
        assert done.failure_reason is None
        assert await bank.status(payout_id) == done
        [row] = await bank_sim.transfers(CARD)
        assert (row["payout_id"], row["status"], row["account_name"]) == (str(payout_id), "settled", "张三")

    async def test_repeating_a_payout_id_pays_once(self, bank_sim: BankSim, http_bank: BankFactory) -> None:
        bank = http_bank()
        payout_id = uuid.uuid4()
        first = await pay(bank, payout_id)
        again = await asyncio.gather(*(pay(bank, payout_id) for _ in range(5)))
        assert all(other == first for other in again)
        assert len(await bank_sim.transfers(CARD)) == 1

    async def test_the_same_payout_id_with_another_body_is_refused(
        self, bank_sim: BankSim, http_bank: BankFactory
    ) -> None:
        bank = http_bank()
        payout_id = uuid.uuid4()
        first = await pay(bank, payout_id)
        with pytest.raises(BankRejected) as refused:
            await pay(bank, payout_id, amount_fen=999_999)
        assert (refused.value.code, refused.value.status) == ("conflict", 409)
        assert await bank.status(payout_id) == first
        [row] = await bank_sim.transfers(CARD)
        assert row["amount_fen"] == 150_000

    async def test_a_closed_card_fails_permanently(self, bank_sim: BankSim, http_bank: BankFactory) -> None:
        bank = http_bank()
        payout_id = uuid.uuid4()
        failed = await pay(bank, payout_id, card_no=CLOSED_CARD)
        assert (failed.status, failed.failure_reason) == ("failed", "card_closed")
        assert await pay(bank, payout_id, card_no=CLOSED_CARD) == failed
        assert await bank.status(payout_id) == failed

    async def test_status_of_a_payout_the_bank_never_got_is_none(
        self, bank_sim: BankSim, http_bank: BankFactory
    ) -> None:
        assert await http_bank().status(uuid.uuid4()) is None

    async def test_processing_is_asked_again_until_final(self, bank_sim: BankSim, http_bank: BankFactory) -> None:
        await bank_sim.faults(processing_ms=300)
        bank = http_bank(timeout_ms=3000, poll_ms=50)
        done = await pay(bank, uuid.uuid4())
        assert done.status == "settled"
        assert (await bank_sim.state())["requests"] >= 3  # one POST and some GETs

    async def test_still_processing_at_the_deadline_is_a_timeout(
        self, bank_sim: BankSim, http_bank: BankFactory
    ) -> None:
        await bank_sim.faults(processing_ms=60_000)
        bank = http_bank(timeout_ms=400, poll_ms=50)
        payout_id = uuid.uuid4()
        with pytest.raises(BankTimeout):
            await pay(bank, payout_id)
        with pytest.raises(BankTimeout):
            await bank.status(payout_id)  # known, but not final yet
        [row] = await bank_sim.transfers(CARD)
        assert row["status"] == "processing"


class TestTimeoutsAndFailures:
    async def test_a_timeout_is_unknown_and_status_finds_the_outcome(
        self, bank_sim: BankSim, http_bank: BankFactory
    ) -> None:
        await bank_sim.faults(timeout_rate=1.0, stall_ms=3000)  # applied, then no answer
        bank = http_bank(timeout_ms=500, retries=2)
        payout_id = uuid.uuid4()
        started = time.monotonic()
        with pytest.raises(BankTimeout) as unknown:
            await pay(bank, payout_id)
        assert time.monotonic() - started < 1.0  # one deadline across attempts
        assert not isinstance(unknown.value, BankResponseInvalid)
        await bank_sim.faults()
        found = await bank.status(payout_id)
        assert found is not None
        assert found.status == "settled"
        assert len(await bank_sim.transfers(CARD)) == 1

    async def test_a_resend_within_the_call_learns_the_outcome_of_a_timed_out_attempt(
        self, bank_sim: BankSim, http_bank: BankFactory
    ) -> None:
        await bank_sim.faults(timeout_next=1, stall_ms=3000)
        bank = http_bank(timeout_ms=2000, retries=2)
        done = await pay(bank, uuid.uuid4())
        assert done.status == "settled"
        assert len(await bank_sim.transfers(CARD)) == 1

    async def test_busy_answers_are_retried(self, bank_sim: BankSim, http_bank: BankFactory) -> None:
        await bank_sim.faults(fail_next=2)
        done = await pay(http_bank(retries=3), uuid.uuid4())
        assert done.status == "settled"
        assert (await bank_sim.state())["requests"] == 3

    async def test_a_bank_that_stays_busy_is_unavailable_and_recorded_nothing(
        self, bank_sim: BankSim, http_bank: BankFactory
    ) -> None:
        await bank_sim.faults(failure_rate=1.0)
        with pytest.raises(BankUnavailable) as busy:
            await pay(http_bank(retries=2), uuid.uuid4())
        assert not isinstance(busy.value, BankTimeout)
        assert await bank_sim.transfers() == []

    async def test_a_refused_connection_is_unavailable(self) -> None:
        bank = HttpBank(bank_settings(f"http://127.0.0.1:{free_port()}", retries=1), clock=SystemClock())
        try:
            with pytest.raises(BankUnavailable) as down:
                await pay(bank, uuid.uuid4())
            assert not isinstance(down.value, BankTimeout)
        finally:
            await bank.aclose()

    async def test_the_breaker_opens_and_then_no_request_is_made(
        self, bank_sim: BankSim, http_bank: BankFactory
    ) -> None:
        await bank_sim.faults(failure_rate=1.0)
        bank = http_bank(retries=0, breaker_failures=2, breaker_reset_s=60)
        for _ in range(2):
            with pytest.raises(BankUnavailable):
                await pay(bank, uuid.uuid4())
        seen = (await bank_sim.state())["requests"]
        with pytest.raises(BankUnavailable, match="circuit_open"):
            await pay(bank, uuid.uuid4())
        assert (await bank_sim.state())["requests"] == seen
        assert bank.breaker.state == "open"


class TestSignatures:
    async def test_a_tampered_answer_is_never_trusted(self, bank_sim: BankSim, http_bank: BankFactory) -> None:
        await bank_sim.faults(tamper=True)  # the simulator turns "failed" into "settled" after signing
        bank = http_bank(retries=1)
        payout_id = uuid.uuid4()
        with pytest.raises(BankResponseInvalid):
            await pay(bank, payout_id, card_no=CLOSED_CARD)
        await bank_sim.faults()
        found = await bank.status(payout_id)
        assert found is not None
        assert found.status == "failed"

    async def test_an_adapter_with_the_wrong_secret_gets_nothing_done(
        self, bank_sim: BankSim, http_bank: BankFactory
    ) -> None:
        bank = http_bank(secret="another-secret-another-secret-0123456789", retries=0)
        with pytest.raises(BankResponseInvalid):  # the bank's 401 does not verify under our secret either
            await pay(bank, uuid.uuid4())
        assert await bank_sim.transfers() == []
        assert (await bank_sim.state())["refused"] == 1

    @pytest.mark.parametrize(
        ("case", "error"),
        [
            ("wrong_secret", "bad_signature"),
            ("other_body", "bad_signature"),
            ("other_path", "bad_signature"),
            ("stale", "stale_timestamp"),
            ("unknown_key", "unknown_key"),
            ("unsigned", "missing_signature"),
        ],
    )
    async def test_the_bank_refuses_a_request_whose_signature_does_not_verify(
        self, bank_sim: BankSim, case: str, error: str
    ) -> None:
        body = _order_body(uuid.uuid4())
        now = int(time.time())
        signed = {
            "key_id": BANK_KEY_ID,
            "secret": BANK_SECRET,
            "method": "POST",
            "path": "/transfers",
            "body": body,
            "timestamp": now,
        }
        if case == "wrong_secret":
            signed["secret"] = "x" * 40
        if case == "other_body":
            signed["body"] = body.replace(b"150000", b"150001")
        if case == "other_path":
            signed["path"] = "/transfers/other"
        if case == "stale":
            signed["timestamp"] = now - 301
        if case == "unknown_key":
            signed["key_id"] = "someone-else"
        headers = {} if case == "unsigned" else bank_signing.sign_request(**signed)  # type: ignore[arg-type]
        async with httpx.AsyncClient(base_url=bank_sim.base_url, timeout=5) as http:
            response = await http.post("/transfers", content=body, headers=headers)
        assert response.status_code == 401
        assert response.json() == {"error": error}
        assert await bank_sim.transfers() == []

    async def test_the_bank_refuses_a_replayed_nonce(self, bank_sim: BankSim) -> None:
        body = _order_body(uuid.uuid4())
        headers = bank_signing.sign_request(
            key_id=BANK_KEY_ID,
            secret=BANK_SECRET,
            method="POST",
            path="/transfers",
            body=body,
            timestamp=int(time.time()),
        )
        async with httpx.AsyncClient(base_url=bank_sim.base_url, timeout=5) as http:
            first = await http.post("/transfers", content=body, headers=headers)
            replayed = await http.post("/transfers", content=body, headers=headers)
        assert first.status_code == 200
        bank_signing.verify_response(
            first.headers,
            key_id=BANK_KEY_ID,
            secret=BANK_SECRET,
            status=200,
            request_nonce=headers[bank_signing.NONCE],
            body=first.content,
        )
        assert (replayed.status_code, replayed.json()) == (401, {"error": "replayed_nonce"})

    def test_an_answer_replayed_to_another_request_does_not_verify(self) -> None:
        body = b'{"payout_id": "x"}'
        headers = bank_signing.sign_response(
            key_id=BANK_KEY_ID, secret=BANK_SECRET, status=200, request_nonce="n" * 20, body=body, timestamp=1
        )
        with pytest.raises(bank_signing.SignatureError, match="bad_signature"):
            bank_signing.verify_response(
                headers, key_id=BANK_KEY_ID, secret=BANK_SECRET, status=200, request_nonce="m" * 20, body=body
            )


def test_make_bank_needs_a_base_url() -> None:
    assert make_bank(BankSettings(), clock=SystemClock()) is None
    assert isinstance(make_bank(bank_settings("http://127.0.0.1:1"), clock=SystemClock()), HttpBank)
    assert BANK_SECRET not in repr(bank_settings("http://127.0.0.1:1"))


def _order_body(payout_id: UUID) -> bytes:
    return (
        f'{{"payout_id": "{payout_id}", "card_no": "{CARD}", "account_name": "张三", "amount_fen": 150000}}'
    ).encode()


class TestSettings:
    def test_the_bank_is_read_from_the_environment(self) -> None:
        env = server_env(
            "postgresql://127.0.0.1/haoban",
            HAOBAN_BANK_URL="https://bank.example/api/",
            HAOBAN_BANK_SECRET=BANK_SECRET,
            HAOBAN_BANK_KEY_ID="hb-01",
            HAOBAN_BANK_TIMEOUT_MS="900",
        )
        bank = load_settings(env).bank
        assert (bank.base_url, bank.key_id, bank.secret, bank.timeout_ms) == (
            "https://bank.example/api",
            "hb-01",
            BANK_SECRET,
            900,
        )
        assert load_settings(server_env("postgresql://127.0.0.1/haoban")).bank.base_url is None

    @pytest.mark.parametrize(
        ("extra", "named"),
        [
            ({"HAOBAN_BANK_URL": "https://bank.example"}, "HAOBAN_BANK_SECRET"),
            ({"HAOBAN_BANK_SECRET": BANK_SECRET}, "HAOBAN_BANK_URL"),
            ({"HAOBAN_BANK_URL": "https://bank.example", "HAOBAN_BANK_SECRET": "short"}, "HAOBAN_BANK_SECRET"),
            ({"HAOBAN_BANK_URL": "ftp://bank.example", "HAOBAN_BANK_SECRET": BANK_SECRET}, "HAOBAN_BANK_URL"),
            (
                {"HAOBAN_BANK_URL": "https://b", "HAOBAN_BANK_SECRET": BANK_SECRET, "HAOBAN_BANK_RETRIES": "99"},
                "HAOBAN_BANK_RETRIES",
            ),
        ],
    )
    def test_a_half_configured_bank_stops_startup(self, extra: dict[str, str], named: str) -> None:
        with pytest.raises(SettingsError, match=named):
            load_settings(server_env("postgresql://127.0.0.1/haoban", **extra))


async def test_the_bank_keeps_its_transfers_across_a_restart(tmp_path: Path) -> None:
    db_path = str(tmp_path / "bank.sqlite3")
    payout_id = uuid.uuid4()
    with run_bank_simulator(db_path=db_path) as sim:
        bank = HttpBank(bank_settings(sim.base_url), clock=SystemClock())
        try:
            paid = await pay(bank, payout_id)
        finally:
            await bank.aclose()
        sim.proc.kill()  # no clean shutdown
        sim.proc.communicate()
    with run_bank_simulator(db_path=db_path) as sim:
        bank = HttpBank(bank_settings(sim.base_url), clock=SystemClock())
        try:
            assert await bank.status(payout_id) == paid
            assert await pay(bank, payout_id) == paid
        finally:
            await bank.aclose()
        assert len(await sim.transfers(CARD)) == 1
