"""Calendar arithmetic of the simulated company: months, working days, local time stamps.

All dates are Asia/Shanghai. Weekends are rest days; there are no holidays in the sandbox.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from schemas.periods import (
    SHANGHAI,
    format_period,
    month_index,
    period_bounds,
    period_of,
    period_start,
    shift_month,
)

# The month arithmetic is the hub's own; the sandbox's modules import it from here with the rest
# of the company's calendar.
__all__ = [
    "SHANGHAI",
    "days_of",
    "epoch_ms",
    "local",
    "month_number",
    "month_start",
    "naive_text",
    "period_bounds",
    "period_of",
    "rng_for",
    "shift_month",
    "workdays",
]


def month_start(year: int, month: int) -> datetime:
    return period_start(format_period(year, month))


def days_of(period: str, until: date | None = None) -> list[date]:
    first, last = period_bounds(period)
    if until is not None:
        last = min(last, until)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def workdays(period: str, until: date | None = None) -> list[date]:
    return [d for d in days_of(period, until) if d.weekday() < 5]


def local(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=SHANGHAI)


def naive_text(moment: datetime) -> str:
    """Local time without an offset, as the ERP and the QMS write it."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def rng_for(seed: int, size: int, *parts: object) -> random.Random:
    """An independent generator per (company, domain, period...), so one month's data never
    depends on how much of another month was generated or in which order."""
    return random.Random("/".join(["kpihub-sandbox", str(seed), str(size), *map(str, parts)]))


def month_number(period: str) -> int:
    """Months since January 2000: keeps ERP ids small enough for 32-bit integer columns."""
    return month_index(period) - month_index("2000-01") + 1
