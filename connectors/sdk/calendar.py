"""The hub's calendar for date-windowed streams (QMS, terminals, DingTalk attendance).

Such sources are asked for days, not for "changed since": a first pull starts at the beginning of
the history the hub keeps, later pulls restart a few days before the last day pulled so that late
corrections are seen, and the pull ends today in Asia/Shanghai. ``KPIHUB_TODAY`` (YYYY-MM-DD)
replays the hub as of another day, for backfills and for tests against a fixed sandbox company;
``KPIHUB_HISTORY_MONTHS`` says how far back a first pull goes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from connectors.sdk.timeparse import SHANGHAI, now_utc
from schemas.periods import months_before

HISTORY_MONTHS = 6
THROUGH = "through"
REVISIT = "revisit"
"""A state key: the record keys a stream asks for again on every pull until they settle (an
approval still running), whatever window they were first found in."""


def today_local() -> date:
    """Today in Asia/Shanghai, or the day ``KPIHUB_TODAY`` names."""
    override = os.environ.get("KPIHUB_TODAY", "").strip()
    if override:
        try:
            return date.fromisoformat(override)
        except ValueError:
            msg = f"KPIHUB_TODAY={override!r} is not a date in the form YYYY-MM-DD"
            raise ValueError(msg) from None
    return now_utc().astimezone(SHANGHAI).date()


def history_months() -> int:
    """How many months before the current one a first pull goes back: ``KPIHUB_HISTORY_MONTHS``
    or six, the history the scoring of a half-year needs."""
    override = os.environ.get("KPIHUB_HISTORY_MONTHS", "").strip()
    if not override:
        return HISTORY_MONTHS
    if not override.isdigit():
        msg = f"KPIHUB_HISTORY_MONTHS={override!r} is not a whole number of months"
        raise ValueError(msg)
    return int(override)


def history_start(today: date, months: int | None = None) -> date:
    """The first day of the month ``months`` (default: ``history_months()``) before today's."""
    return months_before(today, history_months() if months is None else months)


def pull_range(
    state: Mapping[str, Any] | None, lookback_days: int, today: date | None = None
) -> tuple[date, date]:
    """Days to pull (inclusive): from history start, or from ``lookback_days`` before the last
    day a previous pull went through, up to today. A state ahead of today (a clock that was
    wrong, a replay with ``KPIHUB_TODAY``) gives an empty range: start after end."""
    end = today or today_local()
    start = history_start(end)
    through = (state or {}).get(THROUGH)
    if through:
        start = max(start, date.fromisoformat(str(through)) - timedelta(days=lookback_days))
    return start, end


def windows(start: date, end: date, days: int) -> Iterator[tuple[date, date]]:
    """Consecutive inclusive windows of at most ``days`` days covering ``start``..``end``."""
    if days < 1:
        raise ValueError("a window needs at least one day")
    first = start
    while first <= end:
        last = min(end, first + timedelta(days=days - 1))
        yield first, last
        first = last + timedelta(days=1)


def local_day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
