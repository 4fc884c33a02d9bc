"""Working days for supplement deadlines (pure).

Simplification: only Saturdays and Sundays are skipped. Public holidays and
the make-up working weekends (调休) of the State Council's yearly calendar are
not modelled; a deadline that lands near a holiday is a few days generous or
short. Deadlines are whole days in China Standard Time (UTC+8, no DST).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "CST")


def is_working_day(day: date) -> bool:
    return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The `days`-th working day after `start` (`start` itself does not count)."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    left = days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def local_day(at: datetime) -> date:
    return at.astimezone(CHINA).date()


def end_of_day(day: date) -> datetime:
    """The instant the local day ends (midnight that starts the next day, UTC+8)."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=CHINA)
