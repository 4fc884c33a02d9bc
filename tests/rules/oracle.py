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

Versions (each rule set's header): the oracle reads a version's parameters (caps, retained
amount, the interval, the city) from its document, and what the version says beside them from
`READINGS` below: whether places are matched by division code or by the certificate's city name
(2025.1/2026.1, fixed by 2026.2), whether the spouse's homes count, whether a seized mortgaged home
qualifies for loan repayment (2026.1 does not exclude it), and whether the retirement age is the
gradual reform's (2026.2) or one age per sex in whole years (2026.1).

Unknown facts never approve: a rule on an unknown fact sends the case to a person
(review) or, for what the applicant declares, asks for materials; a rule that
fails on known facts refuses, whatever else is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

Place = Literal["zhengzhou", "elsewhere", "unknown"]
Outcome = Literal["approve", "reject", "review", "need_materials"]


@dataclass(frozen=True)
class Home:
    place: Place
    mortgaged: bool = False
    seized: bool = False
    co_owned: bool = False
    name: str = ""  # the city as the certificate writes it (read by the versions that match names)
    first_owner: bool = True  # co-owned: the applicant is listed first


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
    household_name: str = "郑州"  # as the registry writes it
    social_name: str = "郑州"
    income_fen: int | None = 250_000
    household_size: int | None = 3


@dataclass
class Verdict:
    outcome: Outcome
    amount_fen: int | None = None
    reasons: set[str] = field(default_factory=set)
    passed: bool = False  # every rule held (public rental: reviewed all the same)


@dataclass(frozen=True)
class Reading:
    """What a version says beside its parameters."""

    by_code: bool = True  # places by GB/T 2260 code; False: the certificate's city name is the city's
    spouse: bool = True  # the spouse's homes count (household rule)
    seized_qualifies: bool = False  # loan repayment: a seized mortgaged home still qualifies
    gradual_age: bool = True  # retirement: the 2024 reform; False: one age per sex, in whole years


READINGS: dict[str, Reading] = {
    "hpf.withdraw.rent@2025.1": Reading(by_code=False, spouse=False),
    "hpf.withdraw.rent@2026.1": Reading(by_code=False, spouse=False),
    "hpf.withdraw.rent@2026.2": Reading(),
    "hpf.withdraw.rent@2026.3": Reading(),
    "hpf.withdraw.loan_repayment@2026.1": Reading(by_code=False, spouse=False, seized_qualifies=True),
    "hpf.withdraw.loan_repayment@2026.2": Reading(),
    "hpf.withdraw.loan_repayment@2026.3": Reading(),
    "hpf.withdraw.retirement@2026.1": Reading(gradual_age=False),
    "hpf.withdraw.retirement@2026.2": Reading(),
    "hpf.withdraw.leave_city@2026.1": Reading(),
    "housing.public_rental.apply@2026.1": Reading(by_code=False, spouse=False),
    "housing.public_rental.apply@2026.2": Reading(),
}


@dataclass(frozen=True)
class Version:
    """One rule-set version on the decision day: its reading and that day's parameters."""

    reading: Reading
    params: Mapping[str, int | str]

    def number(self, name: str) -> int:
        value = self.params[name]
        assert isinstance(value, int)
        return value


def _a_year_later(on: date) -> date:
    """The same day twelve months later (29 February: 1 March)."""
    try:
        return on.replace(year=on.year + 1)
    except ValueError:
        return date(on.year + 1, 3, 1)


def _within_12_months(earlier: Earlier, kind: str, today: date) -> bool:
    return earlier.kind == kind and today < _a_year_later(earlier.on)


def _months_later(on: date, months: int) -> date:
    """The same day `months` later; the 1st of the next month when that month is shorter."""
    index = on.year * 12 + on.month - 1 + months
    year, month = divmod(index, 12)
    try:
        return date(year, month + 1, on.day)
    except ValueError:
        return date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)


def _next_allowed(on: date, v: Version) -> date:
    """When a withdrawal on `on` stops blocking the next: the version's interval, in days or months."""
    if "withdrawal_interval_months" in v.params:
        return _months_later(on, v.number("withdrawal_interval_months"))
    return on + timedelta(days=v.number("withdrawal_interval_days"))


def _none_within(earlier: tuple[Earlier, ...] | None, kind: str, today: date, v: Version) -> bool | None:
    if earlier is None:
        return None
    return not any(w.kind == kind and today < _next_allowed(w.on, v) for w in earlier)


def _spouse_homes(c: Citizen, v: Version) -> tuple[Home, ...] | None:
    """The spouse's homes when known: none when not married or the version ignores them, unknown when a
    registry is down."""
    if not v.reading.spouse:
        return ()
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


def _in_city(h: Home, v: Version) -> bool | None:
    """By code: the place as it is (unknown when it named no division); by name: the certificate's text."""
    if not v.reading.by_code:
        return h.name == v.params["city"]
    return {"zhengzhou": True, "elsewhere": False, "unknown": None}[h.place]


def _no_home_in_city(homes: tuple[Home, ...] | None, v: Version) -> bool | None:
    if homes is None:
        return None
    where = [_in_city(h, v) for h in homes]
    if True in where:
        return False  # owned, co-owned or seized: still a home in the city
    if None in where:
        return None
    return True


def _cap(balance: int, keep: int, cap: int) -> Verdict:
    amount = min(balance - keep, cap)
    if amount <= 0:
        return Verdict("reject", reasons={"balance_below_retained"})
    return Verdict("approve", amount, passed=True)


def rent(c: Citizen, v: Version) -> Verdict:
    fund = c.fund_up
    earlier = (*c.fund_withdrawals, *c.own_withdrawals) if fund else None
    table = [
        (c.status != "sealed" if fund else None, "account_sealed"),
        (c.status != "closed" if fund else None, "account_closed"),
        (c.contribution_months >= v.number("min_contribution_months") if fund else None, "contribution_too_short"),
        (_no_home_in_city(c.homes if c.estate_up else None, v), "owns_property_in_city"),
        (c.loan_outstanding_fen == 0 if fund else None, "fund_loan_outstanding"),
        (_none_within(earlier, "rent", c.today, v), "withdrawn_within_period"),
    ]
    if v.reading.spouse:
        table.append((_no_home_in_city(_spouse_homes(c, v), v), "spouse_owns_property_in_city"))
    stop = _decide(table)
    if stop is not None:
        return stop
    return _cap(c.balance_fen, v.number("retained_min_fen"), v.number("annual_cap_fen"))


def loan_repayment(c: Citizen, v: Version) -> Verdict:
    fund = c.fund_up
    spouse = _spouse_homes(c, v)
    homes = (*c.homes, *spouse) if c.estate_up and spouse is not None else None
    qualifying: bool | None
    if homes is None:
        qualifying = None
    else:
        where = [_in_city(h, v) for h in homes if h.mortgaged and (v.reading.seized_qualifies or not h.seized)]
        qualifying = True if True in where else None if None in where else False  # unknown: it might be in the city
    earlier = (*c.fund_withdrawals, *c.own_withdrawals) if fund else None
    table = [
        (c.status != "sealed" if fund else None, "account_sealed"),
        (c.status != "closed" if fund else None, "account_closed"),
        (c.contribution_months >= v.number("min_contribution_months") if fund else None, "contribution_too_short"),
        (qualifying, "no_mortgaged_property_in_city"),
        (_none_within(earlier, "loan_repayment", c.today, v), "withdrawn_within_period"),
    ]
    stop = _decide(table)
    if stop is not None:
        return stop
    return _cap(c.balance_fen, v.number("retained_min_fen"), v.number("loan_repayment_cap_fen"))


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


def retired_on(c: Citizen, v: Version) -> bool:
    if v.reading.gradual_age:
        return c.today >= due_date(c.birth, c.sex)
    age = c.today.year - c.birth.year - ((c.today.month, c.today.day) < (c.birth.month, c.birth.day))
    return age >= v.number("retirement_age_male" if c.sex == "M" else "retirement_age_female")


def _whole_balance(c: Citizen) -> Verdict:
    if c.balance_fen <= 0:
        return Verdict("reject", reasons={"nothing_to_withdraw"})
    return Verdict("approve", c.balance_fen, passed=True)


def retirement(c: Citizen, v: Version) -> Verdict:
    fund = c.fund_up
    table = [
        (c.status != "sealed" if fund else None, "account_sealed"),
        (c.status != "closed" if fund else None, "account_closed"),
        (retired_on(c, v) if c.identity_up else None, "retirement_age_not_reached"),
    ]
    return _decide(table) or _whole_balance(c)


def leave_city(c: Citizen, v: Version) -> Verdict:
    fund = c.fund_up
    outside = None if c.household_place in (None, "unknown") else c.household_place != "zhengzhou"
    table = [
        (c.status != "closed" if fund else None, "account_closed"),
        (c.status != "normal" if fund else None, "account_not_sealed"),
        (outside, "household_in_city"),
    ]
    return _decide(table) or _whole_balance(c)


def _resident(c: Citizen, v: Version) -> bool | None:
    """Household or social security in the city: either known in the city decides."""
    answered = [(p, n) for p, n in ((c.household_place, c.household_name), (c.social_place, c.social_name)) if p]
    if v.reading.by_code:
        where = [{"zhengzhou": True, "elsewhere": False, "unknown": None}[p] for p, _ in answered]
    else:
        where = [n == v.params["city"] for _, n in answered]
    if True in where:
        return True
    return None if None in where or len(answered) < 2 else False


def public_rental(c: Citizen, v: Version) -> Verdict:
    table = [
        (_resident(c, v), "not_resident_in_city"),
        (_no_home_in_city(c.homes if c.estate_up else None, v), "owns_property_in_city"),
    ]
    if v.reading.spouse:
        table.append((_no_home_in_city(_spouse_homes(c, v), v), "spouse_owns_property_in_city"))
    income, size = c.income_fen, c.household_size
    declared = [
        (0 <= income <= v.number("income_limit_fen_per_person") if income is not None else None, "income_above_limit"),
        (1 <= size <= v.number("max_household_size") if size is not None else None, "household_size_invalid"),
    ]
    failed = {r for holds, r in (*table, *declared) if holds is False}
    if failed:
        return Verdict("reject", reasons=failed)
    if any(holds is None for holds, _ in declared):
        return Verdict("need_materials")
    # unknown registry facts or all passing: a person decides
    return Verdict("review", passed=all(holds for holds, _ in table))


ORACLES = {
    "hpf.withdraw.rent": rent,
    "hpf.withdraw.loan_repayment": loan_repayment,
    "hpf.withdraw.retirement": retirement,
    "hpf.withdraw.leave_city": leave_city,
    "housing.public_rental.apply": public_rental,
}
