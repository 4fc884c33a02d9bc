"""From exchange answers (and Haoban's own data) to facts, and on to a decision."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from haoban.exchange.consent.schemas import LinkedData, Purpose, SourceData
from haoban.exchange.sources import places, provenance
from haoban.exchange.sources.records import BankCard, FundWithdrawal, HousingFundRecord, PropertyRecord
from haoban.rules.engine import evaluate
from haoban.rules.facts import SOURCES_FOR, OwnWithdrawal, build_facts, source_facts, today_of
from tests.rules.factories import TODAY, rule_set

ID_NUMBER = "410105199001011234"
STAMP = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def _fund(**changes: object) -> HousingFundRecord:
    values: dict[str, object] = {
        "account_no": "HPF-001",
        "status": "normal",
        "balance_fen": 3_650_000,
        "monthly_deposit_fen": 120_000,
        "contribution_months": 36,
        "employer": "郑州某科技公司",
        "bank_card": BankCard(bank_name="中国工商银行", card_no="6222021234567890123"),
        "withdrawals": [FundWithdrawal(withdrawn_on=date(2025, 6, 1), kind="rent", amount_fen=1, reference="W-1")],
        "loan_outstanding_fen": 0,
        "updated_at": STAMP,
    }
    values.update(changes)
    return HousingFundRecord(**values)  # type: ignore[arg-type]


def _property(city: str) -> PropertyRecord:
    return PropertyRecord(
        certificate_no="C-1",
        owner_id_numbers=[ID_NUMBER, "410105199202021234"],
        city=city,
        address="x",
        area_m2=80.0,
        mortgaged=True,
        seized=False,
        updated_at=STAMP,
    )


def _linked(*sources: SourceData) -> LinkedData:
    return LinkedData(
        citizen_id=uuid.uuid4(), purpose=Purpose(kind="application"), fetched_at=STAMP, sources=list(sources)
    )


def _answered_fund(**changes: object) -> SourceData:
    return provenance.answered("housing_fund", _fund(**changes), system="frontdb", subject_id_number=ID_NUMBER)


def _answered_estate(*cities: str, spouse: tuple[str, ...] = ()) -> SourceData:
    """As the exchange gives it: every place with its GB/T 2260 code (`places.coded`), the spouse's too."""
    records = places.coded([_property(c) for c in cities])
    spouse_records = places.coded([_property(c) for c in spouse])
    assert isinstance(records, list)
    assert isinstance(spouse_records, list)
    return provenance.answered(
        "estate", records, system="frontdb", subject_id_number=ID_NUMBER, spouse_properties=spouse_records
    )


def test_an_answer_becomes_known_facts_with_provenance_and_plain_values() -> None:
    facts = source_facts(_answered_fund())
    status = facts["housing_fund.status"]
    assert (status.value, status.source, status.system, status.trust_level) == (
        "normal",
        "housing_fund",
        "frontdb",
        "A",
    )
    assert status.last_updated == STAMP
    assert status.missing is None
    assert facts["housing_fund.withdrawals"].value == [{"withdrawn_on": "2025-06-01", "kind": "rent", "amount_fen": 1}]


def test_no_property_is_a_known_empty_list() -> None:
    view = _answered_estate()
    assert view.status == "no_record"
    fact = source_facts(view)["estate.properties"]
    assert (fact.value, fact.missing) == ([], None)


def test_no_fund_account_is_a_missing_fact() -> None:
    view = provenance.answered("housing_fund", None, system="frontdb", subject_id_number=ID_NUMBER)
    fact = source_facts(view)["housing_fund.status"]
    assert (fact.value, fact.missing) == (None, "no_record")


def test_an_unavailable_source_is_a_missing_fact_with_the_reason() -> None:
    fact = source_facts(provenance.unavailable("estate", "timeout"))["estate.properties"]
    assert (fact.value, fact.missing, fact.source) == (None, "unavailable: timeout", "estate")


def test_build_facts_adds_ledger_history_inputs_and_the_day() -> None:
    own = [OwnWithdrawal(service_code="hpf.withdraw.rent", paid_on=date(2026, 2, 1), amount_fen=5)]
    facts = build_facts(
        service_code="housing.public_rental.apply",
        linked=_linked(_answered_fund(), _answered_estate()),
        ledger_balance_fen=None,
        own_withdrawals=own,
        inputs={"monthly_income_fen": 1000, "unrelated": "x"},
        today=TODAY,
    )
    assert "housing_fund.status" not in facts  # not a source of this service
    assert facts["estate.properties"].value == []
    assert facts["ledger.balance_fen"].missing == "no_account"
    assert facts["haoban.withdrawals"].value == [{"withdrawn_on": "2026-02-01", "kind": "rent", "amount_fen": 5}]
    assert facts["applicant.monthly_income_fen"].value == 1000
    assert facts["applicant.household_size"].missing == "not_supplied"
    assert "applicant.unrelated" not in facts
    assert today_of(facts) == TODAY


def test_every_service_names_its_sources() -> None:
    """The sources a service asks are the ones its rules read; the spouse's properties (the household
    rule, issue 12) are read through the marriage registry."""
    for version in (
        "hpf.withdraw.rent@2026.2",
        "hpf.withdraw.retirement@2026.1",
        "housing.public_rental.apply@2026.2",
        "hpf.withdraw.loan_repayment@2026.2",
    ):
        compiled = rule_set(version)
        names = {name for name, _ in compiled.fact_vars}
        sources = {name.partition(".")[0] for name in names}
        if "estate.spouse_properties" in names:
            sources.add("marriage")
        exchange = sources - {"ledger", "haoban", "applicant"}
        assert exchange == set(SOURCES_FOR[compiled.service_code]), version


def _rent(*sources: SourceData, own: list[OwnWithdrawal] | None = None) -> str:
    facts = build_facts(
        service_code="hpf.withdraw.rent",
        linked=_linked(*sources),
        ledger_balance_fen=3_650_000,
        own_withdrawals=own or [],
        inputs={},
        today=TODAY,
    )
    return evaluate(rule_set("hpf.withdraw.rent@2026.2"), facts, today=TODAY).outcome


def test_a_property_in_any_spelling_of_zhengzhou_counts_as_in_the_city() -> None:
    """Issue 12: 郑州市, 金水区, 中牟县 and a full address are all Zhengzhou (4101); 2026.1 compared text."""
    for city in ("郑州市", "金水区", "中牟县", "河南省郑州市金水区经三路 12 号", "410105"):
        assert _rent(_answered_fund(), _answered_estate(city)) == "reject", city
    assert _rent(_answered_fund(), _answered_estate("开封市")) == "approve"


def test_a_property_whose_place_names_no_division_is_unknown_not_elsewhere() -> None:
    assert _rent(_answered_fund(), _answered_estate("郑东新区")) == "review"


def test_the_spouses_flat_in_the_city_refuses_rent() -> None:
    assert _rent(_answered_fund(), _answered_estate(spouse=("郑州市",))) == "reject"
    assert _rent(_answered_fund(), _answered_estate(spouse=("上海市",))) == "approve"
    unknown = provenance.answered(
        "estate", [], system="frontdb", subject_id_number=ID_NUMBER, spouse_reason="marriage timeout"
    )
    assert _rent(_answered_fund(), unknown) == "review"


def test_from_exchange_answers_to_a_rent_decision() -> None:
    assert _rent(_answered_fund(), _answered_estate()) == "approve"
    assert _rent(_answered_fund(), _answered_estate("郑州")) == "reject"
    assert _rent(_answered_fund(), _answered_estate("上海")) == "approve"
    assert _rent(_answered_fund(status="sealed"), _answered_estate()) == "reject"
    assert _rent(_answered_fund(), provenance.unavailable("estate", "timeout")) == "review"
    assert _rent(provenance.unavailable("housing_fund", "circuit_open"), _answered_estate()) == "review"
    paid = OwnWithdrawal(service_code="hpf.withdraw.rent", paid_on=date(2026, 9, 1), amount_fen=1)
    assert _rent(_answered_fund(), _answered_estate(), own=[paid]) == "reject"
