"""Calendar arithmetic of the simulated company: months, working days, local time stamps.

All dates are Asia/Shanghai. Weekends are rest days; there are no holidays in the sandbox.
"""

from __future__ import annotations

import calendar
import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def period_of(day: date | datetime) -> str:
    if isinstance(day, datetime):
        day = day.astimezone(SHANGHAI).date()
    return f"{day.year:04d}-{day.month:02d}"


def period_bounds(period: str) -> tuple[date, date]:
    year, month = int(period[:4]), int(period[5:7])
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=SHANGHAI)


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
    return (int(period[:4]) - 2000) * 12 + int(period[5:7])
