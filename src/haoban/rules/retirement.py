"""Statutory retirement age under the gradual reform (pure).

全国人民代表大会常务委员会关于实施渐进式延迟法定退休年龄的决定 (2024-09-13),
in force from 2025-01-01, over fifteen years:
- men: 60 -> 63, one month later for every four months of birth from January 1965
  (born 1965-01..1965-04: 60 years 1 month; born 1976-09 or later: 63);
- women whose original age is 55 (cadres): 55 -> 58, one month per four months of
  birth from January 1970 (born 1981-09 or later: 58);
- women whose original age is 50 (workers): 50 -> 55, one month per two months of
  birth from January 1975 (born 1984-11 or later: 55).

The retirement day is the birth date plus that many months (the last day of the
month when the month is shorter). The identity registry does not say which
original age a woman has; the rule sets use the cadre line (55 -> 58), so a
female worker retired at 50 to 55 is refused with a pointer to the counter,
where her retirement certificate decides (docs/rules.md).
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Literal

Line = Literal["male", "female_cadre", "female_worker"]

# line -> (original age in years, first birth month affected, months of birth per month of delay, max delay)
_LINES: dict[Line, tuple[int, tuple[int, int], int, int]] = {
    "male": (60, (1965, 1), 4, 36),
    "female_cadre": (55, (1970, 1), 4, 36),
    "female_worker": (50, (1975, 1), 2, 60),
}


def line_for(sex: str) -> Line:
    """The line the rule sets use for a sex from the identity registry."""
    return "male" if sex == "M" else "female_cadre"


def delay_months(birth: date, line: Line) -> int:
    """How many months the reform adds for someone born on `birth`."""
    _age, (year, month), per, cap = _LINES[line]
    n = (birth.year - year) * 12 + (birth.month - month)
    if n < 0:
        return 0
    return min(cap, n // per + 1)


def retirement_age_months(birth: date, line: Line) -> int:
    """The statutory retirement age in months."""
    return _LINES[line][0] * 12 + delay_months(birth, line)


def add_months(day: date, months: int) -> date:
    total = day.year * 12 + (day.month - 1) + months
    year, month = divmod(total, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def retirement_date(birth: date, line: Line) -> date:
    """The day the statutory retirement age is reached."""
    return add_months(birth, retirement_age_months(birth, line))
