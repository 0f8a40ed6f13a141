"""Periods: the calendar months every fact and score belongs to, keyed ``YYYY-MM``.

A period is a month in Asia/Shanghai, where the companies work, so an instant is assigned to the
month it falls in there, not in UTC: an order signed at 00:30 on the 1st in Shanghai belongs to
the new month although it is still the previous day in UTC. Every layer (connectors, pipelines,
orchestration, the sandbox) does its month arithmetic here, so a year boundary is handled once.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
PERIOD_HINT = "a month in the form YYYY-MM"
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class PeriodError(ValueError):
    """A text that is not a ``YYYY-MM`` month; the message names it."""


def is_period(text: object) -> bool:
    """Whether ``text`` is a month in the form ``YYYY-MM`` (``2026-1`` and ``2026-13`` are not)."""
    return isinstance(text, str) and _PERIOD.match(text) is not None and text[:4] != "0000"


@lru_cache(maxsize=4096)
def parse_period(period: str) -> tuple[int, int]:
    """``(year, month)`` of a ``YYYY-MM`` period. Cached: mappings ask for the same few months
    once per record."""
    if not is_period(period):
        raise PeriodError(f"period {period!r} is not {PERIOD_HINT}")
    return int(period[:4]), int(period[5:7])


def format_period(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def month_index(period: str) -> int:
    """Months since year 0: consecutive months differ by one, across year boundaries too."""
    year, month = parse_period(period)
    return year * 12 + month - 1


def period_at(index: int) -> str:
    """The period of a :func:`month_index`."""
    return format_period(index // 12, index % 12 + 1)


def shift_month(year: int, month: int, months: int) -> tuple[int, int]:
    """``(year, month)`` ``months`` months later (earlier when negative)."""
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def shift_period(period: str, months: int) -> str:
    """The period ``months`` months after ``period`` (before it when negative)."""
    return period_at(month_index(period) + months)


def previous_period(period: str) -> str:
    return shift_period(period, -1)


def next_period(period: str) -> str:
    return shift_period(period, 1)


def periods_between(first: str, last: str) -> list[str]:
    """Every period from ``first`` to ``last``, both included, in order; none when ``first`` is
    after ``last``."""
    return [period_at(i) for i in range(month_index(first), month_index(last) + 1)]


def period_of(moment: date | datetime, tz: tzinfo = SHANGHAI) -> str:
    """The period a day or an instant belongs to; an instant is read in ``tz`` (Asia/Shanghai)."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(tz).date()
    return format_period(moment.year, moment.month)


def first_day(period: str) -> date:
    year, month = parse_period(period)
    return date(year, month, 1)


def last_day(period: str) -> date:
    year, month = parse_period(period)
    return date(year, month, calendar.monthrange(year, month)[1])


def period_bounds(period: str) -> tuple[date, date]:
    """The first and the last day of ``period``, both included."""
    return first_day(period), last_day(period)


def period_start(period: str, tz: tzinfo = SHANGHAI) -> datetime:
    """The first instant of ``period`` in ``tz`` (Asia/Shanghai)."""
    year, month = parse_period(period)
    return datetime(year, month, 1, tzinfo=tz)


def period_end(period: str, tz: tzinfo = SHANGHAI) -> datetime:
    """The first instant after ``period`` in ``tz``: periods are half-open, so an instant at
    midnight on the 1st belongs to the new month only."""
    return period_start(next_period(period), tz)


def months_before(day: date, months: int) -> date:
    """The first day of the month ``months`` months before ``day``'s month."""
    return first_day(shift_period(period_of(day), -months))


def closed_periods(count: int, now: datetime | None = None) -> list[str]:
    """The ``count`` most recent months that have ended in Asia/Shanghai, oldest first."""
    current = period_of(now or datetime.now(SHANGHAI))
    return [shift_period(current, -k) for k in range(count, 0, -1)]


def last_closed_period(now: datetime | None = None) -> str:
    """The month before the current one in Asia/Shanghai: the one HR closes and reads first."""
    return closed_periods(1, now)[0]
