"""Engine and oracle agree on generated citizens (issue 12).

Each generated citizen becomes registry records written the way registries write
them (place names in several spellings, some naming no division), goes through
the exchange's own steps (division codes, provenance, facts) and the rule set in
effect on the day; `tests/rules/oracle.py` decides the same citizen from the
policy text. Outcome, amount and the refusal reasons must be equal.

The normal suite runs 300 cases per rule set. The 10,000 per rule set take about eight
minutes, more than CI's budget allows beside the rest, so they run when asked:
`HAOBAN_ORACLE_FULL=1 uv run pytest -m slow tests/rules/test_oracle.py`.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haoban.exchange.consent.schemas import LinkedData, Purpose, SourceData
from haoban.exchange.sources import places, provenance
from haoban.exchange.sources.records import (
    BankCard,
    FundWithdrawal,
    HouseholdMember,
    HouseholdRecord,
    HousingFundRecord,
    IdentityRecord,
    PropertyRecord,
    SocialSecurityRecord,
)
from haoban.rules.engine import CompiledRuleSet, evaluate
from haoban.rules.facts import WITHDRAWAL_KIND, OwnWithdrawal, build_facts
from haoban.rules.registry import compiled, load_files
from haoban.rules.schemas import RuleSetDoc
from tests.rules import oracle
from tests.rules.oracle import Citizen, Earlier, Home

ME = "410105199001011234"
OTHER = "410105199202021236"
SPOUSE = "410105198808081230"
STAMP = datetime(2026, 1, 1, tzinfo=UTC)

# How registries spell places (the oracle knows where each is).
SPELLINGS: dict[oracle.Place, list[str]] = {
    "zhengzhou": ["郑州", "郑州市", "金水区", "中牟县", "登封市", "河南省郑州市金水区经三路 12 号", "410105", "410122"],
    "elsewhere": ["开封市", "上海市", "北京市朝阳区", "河南省洛阳市西工区中州路 1 号", "410202"],
    "unknown": ["郑东新区", "朝阳区", "金水路 1 号院"],
}

CASES: Counter[str] = Counter()


@functools.cache
def _docs() -> tuple[RuleSetDoc, ...]:
    return tuple(load_files())


@functools.cache
def in_effect(service_code: str, on: date) -> CompiledRuleSet:
    """As `rules.repository.rule_set_in_effect`: the latest start covering the day, then the highest version."""
    docs = [
        d
        for d in _docs()
        if d.service_code == service_code
        and d.effective_from <= on
        and (d.effective_to is None or on <= d.effective_to)
    ]
    return compiled(max(docs, key=lambda d: (d.effective_from, d.version)))


# --- strategies -------------------------------------------------------------------

days = st.dates(min_value=date(2026, 1, 1), max_value=date(2029, 12, 31))  # over 29 February 2028
places_ = st.sampled_from(["zhengzhou", "elsewhere", "unknown"])
homes = st.lists(
    st.builds(Home, place=places_, mortgaged=st.booleans(), seized=st.booleans(), co_owned=st.booleans()),
    max_size=3,
)
kinds = st.sampled_from(["rent", "loan_repayment", "retirement", "other"])


@st.composite
def earlier(draw: st.DrawFn, today: date) -> tuple[Earlier, ...]:
    """Earlier withdrawals, often right at the 12-month boundary."""
    out = []
    for _ in range(draw(st.integers(0, 2))):
        back = draw(st.one_of(st.integers(1, 800), st.sampled_from([364, 365, 366, 367]).map(int)))
        on = today - timedelta(days=back)
        if draw(st.booleans()):  # the same day a year earlier, or one day either side
            try:
                on = today.replace(year=today.year - 1) + timedelta(days=draw(st.integers(-1, 1)))
            except ValueError:
                on = date(today.year - 1, 2, 28)
        out.append(Earlier(on=on, kind=draw(kinds)))
    return tuple(out)


@st.composite
def citizens(draw: st.DrawFn) -> Citizen:
    today = draw(days)
    sex = draw(st.sampled_from(["M", "F"]))
    birth = draw(st.dates(min_value=date(1955, 1, 1), max_value=date(1995, 12, 31)))
    if draw(st.booleans()):  # born so that the statutory age falls on today, give or take a day
        guess = date(today.year - (60 if sex == "M" else 55), today.month, min(today.day, 28))
        for _ in range(3):
            shift = (oracle.due_date(guess, sex) - today).days
            guess -= timedelta(days=shift)
        birth = guess + timedelta(days=draw(st.integers(-1, 1)))
    return Citizen(
        today=today,
        fund_up=draw(st.booleans() | st.just(True)),
        status=draw(st.sampled_from(["normal", "normal", "normal", "sealed", "closed"])),
        contribution_months=draw(st.one_of(st.integers(0, 6), st.integers(0, 400))),
        loan_outstanding_fen=draw(st.sampled_from([0, 0, 0, 1, 25_000_000])),
        balance_fen=draw(st.one_of(st.integers(0, 300_000), st.integers(0, 10_000_000))),
        fund_withdrawals=draw(earlier(today)),
        own_withdrawals=draw(earlier(today)),
        estate_up=draw(st.booleans() | st.just(True)),
        homes=tuple(draw(homes)),
        marriage_up=draw(st.booleans() | st.just(True)),
        married=draw(st.booleans()),
        spouse_homes=tuple(draw(homes)),
        identity_up=draw(st.booleans() | st.just(True)),
        birth=birth,
        sex=sex,
        household_place=draw(st.one_of(st.none(), places_)),
        social_place=draw(st.one_of(st.none(), places_)),
        income_fen=draw(st.one_of(st.none(), st.integers(0, 400_000), st.sampled_from([300_000, 300_001]))),
        household_size=draw(st.one_of(st.none(), st.integers(0, 22))),
    )


# --- the citizen as registry records, through the exchange's own steps -------------


def _spell(draw_index: int, place: oracle.Place) -> str:
    options = SPELLINGS[place]
    return options[draw_index % len(options)]


def _property(i: int, home: Home, owner: str) -> PropertyRecord:
    return PropertyRecord(
        certificate_no=f"C-{owner[-4:]}-{i}",
        owner_id_numbers=[owner, OTHER] if home.co_owned else [owner],
        city=_spell(i, home.place),
        address="某路 1 号",
        area_m2=80.0,
        mortgaged=home.mortgaged,
        seized=home.seized,
        updated_at=STAMP,
    )


def _coded(records: list[PropertyRecord]) -> list[PropertyRecord]:
    coded = places.coded(records)
    assert isinstance(coded, list)
    return coded


def linked(c: Citizen) -> LinkedData:
    sources: list[SourceData] = []
    if c.fund_up:
        fund = HousingFundRecord(
            account_no="HPF-1",
            status=c.status,  # type: ignore[arg-type]
            balance_fen=c.balance_fen,
            monthly_deposit_fen=120_000,
            contribution_months=c.contribution_months,
            employer=None,
            bank_card=BankCard(bank_name="b", card_no="6222021234567890123"),
            withdrawals=[
                FundWithdrawal(withdrawn_on=w.on, kind=w.kind, amount_fen=1, reference=f"W{i}")  # type: ignore[arg-type]
                for i, w in enumerate(c.fund_withdrawals)
            ],
            loan_outstanding_fen=c.loan_outstanding_fen,
            updated_at=STAMP,
        )
        sources.append(provenance.answered("housing_fund", fund, system="t", subject_id_number=ME))
    else:
        sources.append(provenance.unavailable("housing_fund", "timeout"))
    if c.estate_up:
        own = _coded([_property(i, h, ME) for i, h in enumerate(c.homes)])
        spouse: dict[str, Any] = {}
        if not c.marriage_up:
            spouse["spouse_reason"] = "marriage timeout"
        else:
            spouse["spouse_properties"] = (
                _coded([_property(i + 7, h, SPOUSE) for i, h in enumerate(c.spouse_homes)]) if c.married else []
            )
        sources.append(provenance.answered("estate", own, system="t", subject_id_number=ME, **spouse))
    else:
        sources.append(provenance.unavailable("estate", "timeout"))
    if c.identity_up:
        person = IdentityRecord(
            id_number=ME,
            name="n",
            sex=c.sex,  # type: ignore[arg-type]
            birth_date=c.birth,
            address="a",
            status="normal",
            photo_sha256="0",
            updated_at=STAMP,
        )
        sources.append(provenance.answered("identity", person, system="t", subject_id_number=ME))
    else:
        sources.append(provenance.unavailable("identity", "timeout"))
    if c.household_place is not None:
        household = places.coded(
            HouseholdRecord(
                household_no="H1",
                city=_spell(1, c.household_place),
                address="某路",
                members=[
                    HouseholdMember(
                        id_number=ME,
                        name="n",
                        relation="户主",  # type: ignore[arg-type]  # the label as a registry writes it
                        registered_since=date(2000, 1, 1),
                    )
                ],
                registered_since=date(2000, 1, 1),
                updated_at=STAMP,
            )
        )
        assert isinstance(household, HouseholdRecord)
        sources.append(provenance.answered("household", household, system="t", subject_id_number=ME))
    else:
        sources.append(provenance.unavailable("household", "timeout"))
    if c.social_place is not None:
        social = places.coded(
            SocialSecurityRecord(city=_spell(2, c.social_place), contribution_months=12, updated_at=STAMP)
        )
        assert isinstance(social, SocialSecurityRecord)
        sources.append(provenance.answered("social_security", social, system="t", subject_id_number=ME))
    else:
        sources.append(provenance.unavailable("social_security", "timeout"))
    return LinkedData(citizen_id=uuid.uuid4(), purpose=Purpose(kind="application"), fetched_at=STAMP, sources=sources)


_SERVICE_OF_KIND = {kind: service for service, kind in WITHDRAWAL_KIND.items()}


def engine(service_code: str, c: Citizen) -> oracle.Verdict:
    facts = build_facts(
        service_code=service_code,
        linked=linked(c),
        ledger_balance_fen=c.balance_fen,
        own_withdrawals=[
            OwnWithdrawal(service_code=_SERVICE_OF_KIND.get(w.kind, w.kind), paid_on=w.on, amount_fen=1)
            for w in c.own_withdrawals
        ],
        inputs={"monthly_income_fen": c.income_fen, "household_size": c.household_size},
        today=c.today,
    )
    decision = evaluate(in_effect(service_code, c.today), facts, today=c.today)
    reasons = set(decision.reasons) if decision.outcome == "reject" else set()
    return oracle.Verdict(decision.outcome, decision.amount_fen, reasons)


def _agree(service_code: str, c: Citizen) -> None:
    CASES[service_code] += 1
    mine, theirs = engine(service_code, c), oracle.ORACLES[service_code](c)
    assert (mine.outcome, mine.amount_fen, mine.reasons) == (theirs.outcome, theirs.amount_fen, theirs.reasons), c


SERVICES = list(oracle.ORACLES)
FAST = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=10_000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("service_code", SERVICES)
@FAST
@given(c=citizens())
def test_engine_and_oracle_agree(service_code: str, c: Citizen) -> None:
    _agree(service_code, c)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("HAOBAN_ORACLE_FULL"), reason="10,000 cases per rule set: HAOBAN_ORACLE_FULL=1")
@pytest.mark.parametrize("service_code", SERVICES)
@SLOW
@given(c=citizens())
def test_engine_and_oracle_agree_on_ten_thousand_citizens(service_code: str, c: Citizen) -> None:
    _agree(service_code, c)


@pytest.fixture(autouse=True, scope="module")
def _report_case_counts() -> Iterator[None]:
    """Print how many generated citizens each rule set was checked on in this run (for the closing note)."""
    yield
    print(f"\noracle cases per rule set: {dict(sorted(CASES.items()))}")
