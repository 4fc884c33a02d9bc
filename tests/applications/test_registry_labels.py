"""Labels as the fund centre and the household registry write them (issue 12, item 2).

Before, the rule compared `w.kind != "rent"` with the fund centre's own 租房提取,
so a rent withdrawal made at the counter did not count, and the app paid a second
one within the 12 months.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit.clock import FrozenClock
from haoban.settings import Settings
from tests.applications import money
from tests.applications.people import apply, person
from tests.sandbox import bodies
from tests.test_http_conventions import assert_problem

Client = AsyncTestClient[Litestar]


@pytest.mark.parametrize("label", ["租房提取", "支付房租", "rent"])
async def test_a_counter_rent_withdrawal_in_the_fund_centres_words_counts(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock, label: str
) -> None:
    earlier = (clock.now().date() - timedelta(days=90)).isoformat()
    fund = {"withdrawals": [{"withdrawn_on": earlier, "kind": label, "amount_fen": 500_000, "reference": "GT-1"}]}
    who = await person(client, db, settings, clock, seq=931, fund=fund)
    answer = (await apply(client, who, "hpf.withdraw.rent")).json()
    assert answer["status"] == "rejected", answer
    assert answer["decision"]["reasons"] == ["withdrawn_within_period"]
    assert await money.bank_transfers(db, who.card_no) == []


async def test_a_retirement_withdrawal_does_not_count_against_rent(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    earlier = (clock.now().date() - timedelta(days=90)).isoformat()
    fund = {"withdrawals": [{"withdrawn_on": earlier, "kind": "购房提取", "amount_fen": 500_000, "reference": "GT-2"}]}
    who = await person(client, db, settings, clock, seq=932, fund=fund)
    answer = (await apply(client, who, "hpf.withdraw.rent")).json()
    assert answer["status"] == "paid", answer


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/sandbox/households",
            {
                **bodies.household("HH9", bodies.person(933)),
                "members": [
                    {
                        "id_number": bodies.person(933),
                        "name": "张三",
                        "relation": "邻居",
                        "registered_since": "2010-01-01",
                    }
                ],
            },
            "members[0].relation",
        ),
        (
            "/sandbox/housing-fund/accounts",
            bodies.fund(
                bodies.person(934),
                withdrawals=[{"withdrawn_on": "2026-01-05", "kind": "神秘提取", "amount_fen": 5, "reference": "R"}],
            ),
            "withdrawals[0].kind",
        ),
    ],
)
async def test_an_unknown_label_is_refused_naming_the_field(
    client: Client, db: asyncpg.Connection, path: str, body: dict[str, Any], field: str
) -> None:
    problem = assert_problem(await client.post(path, json=body), 422, "validation_failed")
    assert bodies.fields(problem) == [field]
    assert set((await bodies.counts(db)).values()) == {0}


async def test_the_household_fact_has_the_code_and_the_label(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    who = await person(client, db, settings, clock, seq=935)
    consent = await client.post(
        "/v1/me/consents",
        json={"purpose": {"kind": "self_view"}, "items": ["household.*"], "terms_version": "2026-11"},
        headers=who.headers,
    )
    assert consent.status_code == 201, consent.text
    response = await client.get("/v1/me/linked-data?sources=household", headers=who.headers)
    assert response.status_code == 200, response.text
    household = next(s for s in response.json()["sources"] if s["source"] == "household")
    members = household["items"]["members"]["value"]
    assert [(m["relation"], m["relation_label"]) for m in members] == [("head", "户主")]
