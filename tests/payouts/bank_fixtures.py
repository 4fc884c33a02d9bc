"""The bank simulator as a real subprocess, and HTTP bank adapters pointed at it.

Import the fixtures into a test module (`from tests.payouts.bank_fixtures import bank_sim, http_bank`).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from haoban.kit.clock import SystemClock
from haoban.payouts.http_bank import HttpBank
from haoban.settings import BankSettings
from tests.processes import free_port, side_process

BANK_SECRET = "bank-secret-for-tests-0123456789abcdef"
BANK_KEY_ID = "haoban-test"


@dataclass
class BankSim:
    base_url: str
    proc: subprocess.Popen[str]

    async def faults(self, **faults: Any) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5) as http:
            (await http.post("/admin/faults", json=faults)).raise_for_status()

    async def state(self) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5) as http:
            state: dict[str, Any] = (await http.get("/admin/state")).raise_for_status().json()
            return state

    async def transfers(self, card_no: str | None = None) -> list[dict[str, Any]]:
        params = {"card_no": card_no} if card_no else {}
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5) as http:
            rows: list[dict[str, Any]] = (await http.get("/admin/transfers", params=params)).raise_for_status().json()
            return rows

    async def resend_callback(self, payout_id: str) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as http:
            response = await http.post(f"/admin/transfers/{payout_id}/callback")
            rows: list[dict[str, Any]] = response.raise_for_status().json()
            return rows[0]


@contextlib.contextmanager
def run_bank_simulator(
    *, callback_url: str | None = None, db_path: str | None = None, port: int | None = None
) -> Iterator[BankSim]:
    """`python -m haoban.simulators.bank.server` on a (free) loopback port until the block ends."""
    port = port or free_port()
    command = [sys.executable, "-m", "haoban.simulators.bank.server", "--port", str(port)]
    command += ["--secret", BANK_SECRET, "--key-id", BANK_KEY_ID]
    if callback_url:
        command += ["--callback-url", callback_url]
    if db_path:
        command += ["--db", db_path]
    base = f"http://127.0.0.1:{port}"
    with side_process(command, ready_url=f"{base}/admin/state", what="bank simulator") as proc:
        yield BankSim(base, proc)


@pytest.fixture
def bank_sim() -> Iterator[BankSim]:
    """A bank simulator without callbacks."""
    with run_bank_simulator() as sim:
        yield sim


def bank_settings(base_url: str, **overrides: Any) -> BankSettings:
    values: dict[str, Any] = {
        "base_url": base_url,
        "key_id": BANK_KEY_ID,
        "secret": BANK_SECRET,
        "timeout_ms": 2000,
        "retries": 3,
        "poll_ms": 50,
    }
    return BankSettings(**{**values, **overrides})


BankFactory = Callable[..., HttpBank]


@pytest.fixture
async def http_bank(bank_sim: BankSim) -> AsyncIterator[BankFactory]:
    """`http_bank(**settings)`: an HttpBank at the simulator; closed after the test."""
    made: list[HttpBank] = []

    def make(**overrides: Any) -> HttpBank:
        bank = HttpBank(bank_settings(bank_sim.base_url, **overrides), clock=SystemClock())
        made.append(bank)
        return bank

    yield make
    for bank in made:
        await bank.aclose()
