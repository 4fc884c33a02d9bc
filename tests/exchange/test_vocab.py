"""Registry labels become codes from a closed set at the port boundary (issue 12, item 2).

Labels are written as registries write them: 户主 and 长子, the GB/T 4761 code
22, full-width spaces; the fund centre's 租房提取. No rule sees the raw string.
"""

from __future__ import annotations

import httpx
import msgspec
import pytest

from haoban.exchange.sources import vocab
from haoban.exchange.sources.http import HttpHousehold, HttpHousingFund, http_sources
from haoban.exchange.sources.ports import SourceUnavailable
from haoban.kit.clock import FrozenClock
from haoban.settings import ExchangeSettings
from tests.exchange.conftest import STRANGER


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("户主", "head"),
        ("本人", "head"),
        ("02", "head"),
        ("配偶", "spouse"),
        ("妻", "spouse"),
        ("11", "spouse"),
        ("长子", "child"),
        ("次女", "child"),
        ("22", "child"),
        ("子女", "child"),
        ("孙女", "grandchild"),
        ("母亲", "parent"),
        ("岳父", "parent"),
        ("外祖母", "grandparent"),
        ("妹妹", "sibling"),
        ("非亲属", "other"),
        ("\u3000户 主 ", "head"),  # full-width and ASCII spaces, as typed at a counter
        ("spouse", "spouse"),
    ],
)
def test_relation_labels(label: str, code: str) -> None:
    assert vocab.relation(label) == code


@pytest.mark.parametrize("label", ["", "朋友的朋友", "00", "head of household", "户主户主"])
def test_an_unknown_relation_is_none(label: str) -> None:
    assert vocab.relation(label) is None


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("租房提取", "rent"),
        ("支付房租", "rent"),
        ("离退休提取", "retirement"),
        ("偿还商业贷款", "loan_repayment"),
        ("偿还住房贷款提取", "loan_repayment"),
        ("购房提取", "purchase"),
        ("户口迁出提取", "leave_city"),
        ("\uff32\uff25\uff2e\uff34", "rent"),  # full-width Latin letters
        ("loan_repayment", "loan_repayment"),
    ],
)
def test_withdrawal_kind_labels(label: str, code: str) -> None:
    assert vocab.withdrawal_kind(label) == code


def test_an_unknown_kind_is_none() -> None:
    assert vocab.withdrawal_kind("神秘提取") is None


def _household(relation: str) -> bytes:
    return msgspec.json.encode(
        {
            "household_no": "HH1",
            "city": "郑州市",
            "address": "河南省郑州市金水区经三路 12 号",
            "members": [
                {"id_number": STRANGER, "name": "张三", "relation": relation, "registered_since": "2010-01-01"}
            ],
            "registered_since": "2010-01-01",
            "updated_at": "2026-03-02T08:00:00Z",
        }
    )


def _fund(kind: str) -> bytes:
    return msgspec.json.encode(
        {
            "account_no": "ZZ1",
            "status": "normal",
            "balance_fen": 100,
            "monthly_deposit_fen": 10,
            "contribution_months": 36,
            "employer": None,
            "bank_card": {"bank_name": "中国建设银行", "card_no": "6217000000000000123"},
            "withdrawals": [{"withdrawn_on": "2026-06-01", "kind": kind, "amount_fen": 5, "reference": "R1"}],
            "loan_outstanding_fen": 0,
            "updated_at": "2026-03-02T08:00:00Z",
        }
    )


async def _lookup(clock: FrozenClock, source: str, body: bytes) -> object:
    transport = httpx.MockTransport(lambda _: httpx.Response(200, content=body))
    async with httpx.AsyncClient(transport=transport) as client:
        adapters = http_sources(ExchangeSettings(http_sources={source: "http://source.test"}), clock, client=client)
        port = adapters[source]
        assert isinstance(port, HttpHousehold | HttpHousingFund)
        return (await port.lookup(STRANGER)).record


async def test_an_http_household_answer_carries_codes_and_the_label(clock: FrozenClock) -> None:
    record = await _lookup(clock, "household", _household("长子"))
    member = record.members[0]  # type: ignore[attr-defined]
    assert (member.relation, member.relation_label) == ("child", "长子")


async def test_an_http_fund_answer_carries_kind_codes(clock: FrozenClock) -> None:
    record = await _lookup(clock, "housing_fund", _fund("租房提取"))
    withdrawal = record.withdrawals[0]  # type: ignore[attr-defined]
    assert (withdrawal.kind, withdrawal.kind_label) == ("rent", "租房提取")


@pytest.mark.parametrize(("source", "body"), [("household", _household("邻居")), ("housing_fund", _fund("神秘提取"))])
async def test_an_unknown_label_from_a_source_is_not_an_answer(clock: FrozenClock, source: str, body: bytes) -> None:
    """Never read as "some other kind": the facts are missing, and a person decides."""
    with pytest.raises(SourceUnavailable) as err:
        await _lookup(clock, source, body)
    assert err.value.reason == "bad_response"
