"""`haoban ledger reconcile`: the mirror against the fund centre, from the command line."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from haoban.cli import main
from tests.conftest import server_env


def _cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> int:
    for name, value in server_env(db_url).items():
        monkeypatch.setenv(name, value)
    return main(["ledger", "reconcile"])


async def test_exits_0_when_the_mirror_agrees_and_1_naming_a_planted_difference(
    db: asyncpg.Connection, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await asyncio.to_thread(_cli, db_url, monkeypatch) == 0
    assert "0 difference(s)" in capsys.readouterr().out
    planted = uuid.uuid4()
    await db.execute(
        "INSERT INTO sandbox_fund.debits (instruction_id, account_no, kind, amount_fen, expected_balance_fen, status,"
        " received_at) VALUES ($1, 'ZZ000001', 'rent', 123400, 500000, 'accepted', $2)",
        planted,
        datetime.now(UTC),
    )
    assert await asyncio.to_thread(_cli, db_url, monkeypatch) == 1
    out = capsys.readouterr().out
    assert f"not_at_haoban application {planted}" in out
    assert "fund centre 123400 fen" in out
