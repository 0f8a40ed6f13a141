"""Days, windows and batches for DingTalk's date-ranged APIs (attendance, leave, approvals).

These APIs are asked for days, not for "changed since", so they follow the hub's calendar: a first
pull from the start of the history the hub keeps, later pulls from ``LOOKBACK_DAYS`` before the
last day pulled (late punches, approvals finished after the fact), through today. Requests speak
Asia/Shanghai: attendance wants local date strings, leave and approvals local midnights in epoch ms.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from typing import Any, TypeVar

from connectors.sdk.calendar import THROUGH, local_day_start, pull_range, today_local

T = TypeVar("T")

LOOKBACK_DAYS = 3


def day_range(
    state: Mapping[str, Any] | None, *, keeps_days: int | None = None
) -> tuple[date, date]:
    """The inclusive days to pull. ``keeps_days`` is how far back the API still has data: the
    start is clamped to it, since asking for older days only returns errors or nothing."""
    start, end = pull_range(state, LOOKBACK_DAYS, today_local())
    if keeps_days is not None:
        start = max(start, end - timedelta(days=keeps_days))
    return start, end


def through(end: date) -> dict[str, Any]:
    """The state committed with a stream's final page."""
    return {THROUGH: end.isoformat()}


def epoch_ms(day: date) -> int:
    """Local midnight at the start of ``day`` in epoch milliseconds."""
    return int(local_day_start(day).timestamp() * 1000)


def end_ms(last: date) -> int:
    """The exclusive end of an inclusive window: the next local midnight."""
    return epoch_ms(last + timedelta(days=1))


def work_date(day: date) -> str:
    """``yyyy-MM-dd HH:mm:ss`` as attendance/list wants it; it reads only the date part."""
    return f"{day.isoformat()} 00:00:00"


def batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for first in range(0, len(items), size):
        yield items[first : first + size]
