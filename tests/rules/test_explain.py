"""Refusals a citizen understands: every reason code in plain zh/en with the next step."""

from __future__ import annotations

from datetime import UTC, datetime

from haoban.rules.engine import evaluate
from haoban.rules.explain import TEXTS, explain, explain_all
from haoban.rules.registry import load_files
from haoban.rules.schemas import Fact
from tests.rules.factories import TODAY, fund_facts, prop, rule_set


def test_every_reason_a_rule_set_can_give_has_a_sentence() -> None:
    reasons = {r.reason for doc in load_files() for r in doc.rules} | {
        doc.amount.reason for doc in load_files() if doc.amount is not None
    }
    assert reasons - set(TEXTS) == set()
    for reason, text in TEXTS.items():
        assert text.zh
        assert text.en
        assert text.next_zh, reason
        assert text.next_en, reason


def test_the_spouses_flat_is_explained_with_the_registry_and_its_date() -> None:
    facts = fund_facts(estate__spouse_properties=[prop("郑州市")])
    facts["estate.spouse_properties"] = Fact(
        value=facts["estate.spouse_properties"].value,
        source="estate",
        trust_level="A",
        last_updated=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    )
    decision = evaluate(rule_set("hpf.withdraw.rent@2026.2"), facts, today=TODAY)
    assert decision.reasons == ["spouse_owns_property_in_city"]
    (e,) = explain_all(decision, facts)
    assert e.message_zh == "您的配偶在郑州市有住房（婚姻登记、不动产登记，更新于 2026-03-02）。"
    assert e.message_en == (
        "Your spouse owns a home in 郑州市 (marriage and real-estate registries, updated 2026-03-02)."
    )
    assert "不动产登记中心" in e.next_zh


def test_the_retirement_day_is_named() -> None:
    facts = fund_facts(identity__birth_date="1966-07-01", identity__sex="M")
    decision = evaluate(rule_set("hpf.withdraw.retirement@2026.2"), facts, today=TODAY)
    (e,) = explain_all(decision, facts)
    assert "2026-12-01" in e.message_zh
    assert "2026-12-01" in e.message_en


def test_a_fund_centre_refusal_and_a_missing_fact_are_explained() -> None:
    facts = fund_facts()
    decision = evaluate(rule_set("hpf.withdraw.rent@2026.2"), facts, today=TODAY)
    (e,) = explain_all(decision, facts, status_reason="fund_centre_refused:balance_changed")
    assert "余额发生了变化" in e.message_zh
    assert "Submit again" in e.next_en
    missing = explain("missing:estate.properties", facts)
    assert "estate.properties" in missing.message_en
