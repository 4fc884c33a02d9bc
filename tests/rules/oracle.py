"""A second, plain reading of each rule set, straight from the policy text (decision tables).

The engine runs CEL over facts built from registry records (place names resolved
to GB/T 2260 codes by the division table). This module knows nothing of that: a
citizen is plain Python values, places are already what they are ("in 郑州",
"elsewhere", "unknown"), and each service is a decision table written from the
policy it cites. `tests/rules/test_oracle.py` feeds both the same generated
citizens and wants the same outcome and amount.

Policy text used (Zhengzhou, 2026):
- 租房提取 (住房公积金管理条例 第二十四条; 建金[2015]19号): the account is not
  sealed or closed; contributions paid for at least 3 months; neither the worker
  nor the spouse owns a home in the city (a co-owned or seized home is still
  owned); no outstanding fund loan; at most one rent withdrawal in 12 months;
  the amount is the balance less 1,000 yuan kept in the account, capped at the
  year's limit (18,000 yuan, 21,600 yuan from 2026-07-01).
- 偿还住房贷款提取: not sealed or closed; at least 3 months; the worker or the
  spouse owns a mortgaged home in the city that is not seized; at most one such
  withdrawal in 12 months; the balance less 1,000 yuan, capped at 60,000 yuan.
- 退休提取: not sealed or closed; the statutory retirement age reached (men
  60 -> 63 by one month per four months of birth from 1965-01; women, original
  age 55, 55 -> 58 the same way from 1970-01); the whole balance, account closed.
- 离职/户口迁出提取 (第二十四条第一款第（四）项; 郑州 管理办法): the household is
  registered outside the city and the account is sealed (employment ended; a
  closed account is refused as closed); the whole balance, account closed.
- 公租房: household registration or social security in the city; no home of
  the applicant or spouse in the city; income per person at most 3,000 yuan a
  month; a household of 1 to 20; always decided by a person.

Unknown facts never approve: a rule on an unknown fact sends the case to a person
(review) or, for what the applicant declares, asks for materials; a rule that
fails on known facts refuses, whatever else is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Place = Literal["zhengzhou", "elsewhere", "unknown"]
Outcome = Literal["approve", "reject", "review", "need_materials"]


@dataclass(frozen=True)
class Home:
    place: Place
    mortgaged: bool = False
    seized: bool = False
    co_owned: bool = False


@dataclass(frozen=True)
class Earlier:
    on: date
    kind: str


@dataclass(frozen=True)
class Citizen:
    today: date
    # housing fund (None: the fund centre did not answer)
    fund_up: bool = True
    status: str = "normal"
    contribution_months: int = 36
    loan_outstanding_fen: int = 0
    balance_fen: int = 3_000_000
    fund_withdrawals: tuple[Earlier, ...] = ()
    own_withdrawals: tuple[Earlier, ...] = ()  # paid by Haoban
    # estate and marriage
    estate_up: bool = True
    homes: tuple[Home, ...] = ()
    marriage_up: bool = True
    married: bool = False
    spouse_homes: tuple[Home, ...] = ()
    # identity
    identity_up: bool = True
    birth: date = date(1990, 1, 1)
    sex: str = "M"
    # public rental
    household_place: Place | None = "zhengzhou"  # None: the household registry did not answer
    social_place: Place | None = "zhengzhou"
    income_fen: int | None = 250_000
    household_size: int | None = 3


@dataclass
class Verdict:
    outcome: Outcome
    amount_fen: int | None = None
    reasons: set[str] = field(default_factory=set)


def _a_year_later(on: date) -> date:
    """The same day twelve months later (29 February: 1 March)."""
    try:
        return on.replace(year=on.year + 1)
    except ValueError:
        return date(on.year + 1, 3, 1)


def _within_12_months(earlier: Earlier, kind: str, today: date) -> bool:
    return earlier.kind == kind and today < _a_year_later(earlier.on)


def _spouse_homes(c: Citizen) -> tuple[Home, ...] | None:
    """The spouse's homes when known: none when not married, unknown when either registry is down."""
    if not c.marriage_up or not c.estate_up:
        return None
    return c.spouse_homes if c.married else ()


def _decide(table: list[tuple[bool | None, str]], *, missing: Outcome = "review") -> Verdict | None:
    """Rows of (holds?, reason): any False refuses; then any None goes to `missing`; None when all hold."""
    failed = {reason for holds, reason in table if holds is False}
    if failed:
        return Verdict("reject", reasons=failed)
    if any(holds is None for holds, _ in table):
        return Verdict(missing)
    return None


def _no_home_in_city(homes: tuple[Home, ...] | None) -> bool | None:
    if homes is None:
        return None
    if any(h.place == "zhengzhou" for h in homes):
        return False  # owned, co-owned or seized: still a home in the city
    if any(h.place == "unknown" for h in homes):
        return None
    return True


def _cap(balance: int, keep: int, cap: int) -> Verdict:
    amount = min(balance - keep, cap)
    return Verdict("approve", amount) if amount > 0 else Verdict("reject", reasons={"balance_below_retained"})


def rent(c: Citizen) -> Verdict:
    fund = c.fund_up
    earlier = (*c.fund_withdrawals, *c.own_withdrawals) if fund else None
    table = [
        (c.status != "sealed" if fund else None, "account_sealed"),
        (c.status != "closed" if fund else None, "account_closed"),
        (c.contribution_months >= 3 if fund else None, "contribution_too_short"),
        (_no_home_in_city(c.homes if c.estate_up else None), "owns_property_in_city"),
        (_no_home_in_city(_spouse_homes(c)), "spouse_owns_property_in_city"),
        (c.loan_outstanding_fen == 0 if fund else None, "fund_loan_outstanding"),
        (
            not any(_within_12_months(w, "rent", c.today) for w in earlier) if earlier is not None else None,
            "withdrawn_within_period",
        ),
    ]
    stop = _decide(table)
    if stop is not None:
        return stop
    cap = 2_160_000 if c.today >= date(2026, 7, 1) else 1_800_000
    return _cap(c.balance_fen, 100_000, cap)


def loan_repayment(c: Citizen) -> Verdict:
    fund = c.fund_up
    spouse = _spouse_homes(c)
    homes = (*c.homes, *spouse) if c.estate_up and spouse is not None else None
    qualifying: bool | None
    if homes is None:
        qualifying = None
    elif any(h.place == "zhengzhou" and h.mortgaged and not h.seized for h in homes):
        qualifying = True
    elif any(h.place == "unknown" and h.mortgaged and not h.seized for h in homes):
        qualifying = None  # it would qualify if it were in the city
    else:
        qualifying = False
    earlier = (*c.fund_withdrawals, *c.own_withdrawals) if fund else None
    table = [
        (c.status != "sealed" if fund else None, "account_sealed"),
        (c.status != "closed" if fund else None, "account_closed"),
        (c.contribution_months >= 3 if fund else None, "contribution_too_short"),
        (qualifying, "no_mortgaged_property_in_city"),
        (
            not any(_within_12_months(w, "loan_repayment", c.today) for w in earlier) if earlier is not None else None,
            "withdrawn_within_period",
        ),
    ]
    stop = _decide(table)
    if stop is not None:
        return stop
    return _cap(c.balance_fen, 100_000, 6_000_000)


def statutory_age(birth: date, sex: str) -> tuple[int, int]:
    """(years, months) from the decision's table: 60/55 plus one month per four months born since 1965-01/1970-01,
    at most three years."""
    years, first_year = (60, 1965) if sex == "M" else (55, 1970)
    born_months_since = (birth.year - first_year) * 12 + birth.month - 1
    extra = 0 if born_months_since < 0 else min(36, born_months_since // 4 + 1)
    return years + extra // 12, extra % 12


def due_date(birth: date, sex: str) -> date:
    """The birthday in the month the statutory age is reached (the month's last day when it is shorter)."""
    years, months = statutory_age(birth, sex)
    month_index = birth.month - 1 + months
    year = birth.year + years + month_index // 12
    month = month_index % 12 + 1
    day = birth.day
    while True:
        try:
            return date(year, month, day)
        except ValueError:
            day -= 1


def retired_on(c: Citizen) -> bool:
    return c.today >= due_date(c.birth, c.sex)


def retirement(c: Citizen) -> Verdict:
    fund = c.fund_up
    table = [
        (c.status != "sealed" if fund else None, "account_sealed"),
        (c.status != "closed" if fund else None, "account_closed"),
        (retired_on(c) if c.identity_up else None, "retirement_age_not_reached"),
    ]
    stop = _decide(table)
    if stop is not None:
        return stop
    if c.balance_fen <= 0:
        return Verdict("reject", reasons={"nothing_to_withdraw"})
    return Verdict("approve", c.balance_fen)


def leave_city(c: Citizen) -> Verdict:
    fund = c.fund_up
    outside = None if c.household_place in (None, "unknown") else c.household_place != "zhengzhou"
    table = [
        (c.status != "closed" if fund else None, "account_closed"),
        (c.status != "normal" if fund else None, "account_not_sealed"),
        (outside, "household_in_city"),
    ]
    stop = _decide(table)
    if stop is not None:
        return stop
    if c.balance_fen <= 0:
        return Verdict("reject", reasons={"nothing_to_withdraw"})
    return Verdict("approve", c.balance_fen)


def public_rental(c: Citizen) -> Verdict:
    places = (c.household_place, c.social_place)
    resident: bool | None
    if "zhengzhou" in places:
        resident = True
    elif None in places or "unknown" in places:
        resident = None
    else:
        resident = False
    table = [
        (resident, "not_resident_in_city"),
        (_no_home_in_city(c.homes if c.estate_up else None), "owns_property_in_city"),
        (_no_home_in_city(_spouse_homes(c)), "spouse_owns_property_in_city"),
    ]
    declared = [
        (0 <= c.income_fen <= 300_000 if c.income_fen is not None else None, "income_above_limit"),
        (1 <= c.household_size <= 20 if c.household_size is not None else None, "household_size_invalid"),
    ]
    failed = {r for holds, r in (*table, *declared) if holds is False}
    if failed:
        return Verdict("reject", reasons=failed)
    if any(holds is None for holds, _ in declared):
        return Verdict("need_materials")
    return Verdict("review")  # unknown registry facts or all passing: a person decides


ORACLES = {
    "hpf.withdraw.rent": rent,
    "hpf.withdraw.loan_repayment": loan_repayment,
    "hpf.withdraw.retirement": retirement,
    "hpf.withdraw.leave_city": leave_city,
    "housing.public_rental.apply": public_rental,
}
