"""Terminal streams, date-windowed on the hub's calendar (``pull_range``): the first pull covers
the kept history, later pulls restart a few days before the last day pulled, so punches that
reach the server late are still read. The day pulled through is committed with the final page
only; a failure part-way re-reads from the old day and landing drops what it already holds.

- ``shifts``: one request per month, ``?month=YYYY-MM``, from the first day's month to today's.
- ``punches``: one day at a time, ``?date=YYYY-MM-DD``, offset/limit paged with ``has_more``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import Any

from connectors.attendance.keys import PUNCH_KEY, SHIFT_KEY, composite_key, wrap_keyed
from connectors.attendance.mapping import punch_period, shift_period
from connectors.attendance.records import Punch, Shift
from connectors.sdk import HttpSource, Page, Stream, StreamError
from connectors.sdk.calendar import THROUGH, pull_range, windows
from connectors.sdk.http import dig
from connectors.sdk.paginators import OffsetPaginator, PaginationError
from connectors.sdk.timeparse import now_utc
from schemas.periods import period_of, periods_between

LOOKBACK_DAYS = 3
PUNCH_LIMIT = 2000


def months(first: date, last: date) -> list[str]:
    """Every ``YYYY-MM`` from ``first``'s month to ``last``'s, in order."""
    return periods_between(period_of(first), period_of(last))


def _items(source: HttpSource, stream: Stream, body: Any, number: int, where: str) -> list[Any]:
    items = dig(body, stream.record_path)
    if items is None:
        return []
    if not isinstance(items, list):
        reason = f"{stream.record_path!r} is not a list ({where})"
        raise StreamError(source.name, stream.name, number, reason)
    return items


def read_shifts(
    source: HttpSource, stream: Stream, state: Mapping[str, Any] | None
) -> Iterator[Page]:
    first, last = pull_range(state, LOOKBACK_DAYS)
    number = 0
    for month in months(first, last):
        number += 1
        body = source.request_json(
            stream.method,
            stream.path,
            params={**stream.params, "month": month},
            stream=stream.name,
            page=number,
        )
        # A month is asked for whole; only the days of the range are landed, so a re-read
        # restarts exactly ``lookback`` days back, as for every other windowed stream.
        items = [
            item
            for item in _items(source, stream, body, number, f"month {month}")
            if not isinstance(item, dict)
            or first.isoformat() <= str(item.get("date", "")) <= last.isoformat()
        ]
        records, rejected = wrap_keyed(source, stream, items, SHIFT_KEY, now_utc())
        yield Page(number=number, records=records, state={}, rejected=rejected)
    yield Page(number=number + 1, records=[], state={THROUGH: last.isoformat()}, final=True)


def read_punches(
    source: HttpSource, stream: Stream, state: Mapping[str, Any] | None
) -> Iterator[Page]:
    """Each day is paged to its end; a punch served twice within a day (the day's list can grow
    while it is paged) is landed once. Keys are held for one day only."""
    if not isinstance(stream.paginator, OffsetPaginator):
        raise TypeError(f"{stream.name} needs an OffsetPaginator")
    paginator = copy.copy(stream.paginator)
    first, last = pull_range(state, LOOKBACK_DAYS)
    number = 0
    for day, _ in windows(first, last, 1):
        where = f"date {day.isoformat()}"
        seen: set[str] = set()
        request: dict[str, Any] | None = paginator.start()
        while request is not None:
            number += 1
            body = source.request_json(
                stream.method,
                stream.path,
                params={**stream.params, "date": day.isoformat(), **request},
                stream=stream.name,
                page=number,
            )
            items = _items(source, stream, body, number, where)
            try:
                request = paginator.advance(body, len(items))
            except PaginationError as exc:
                raise StreamError(source.name, stream.name, number, f"{exc} ({where})") from None
            fresh: list[Any] = []
            for item in items:
                key = composite_key(item, PUNCH_KEY)
                if key is not None and key in seen:
                    continue
                if key is not None:
                    seen.add(key)
                fresh.append(item)
            records, rejected = wrap_keyed(source, stream, fresh, PUNCH_KEY, now_utc())
            yield Page(number=number, records=records, state={}, rejected=rejected)
    yield Page(number=number + 1, records=[], state={THROUGH: last.isoformat()}, final=True)


SHIFTS = Stream(
    name="shifts",
    path="/att/api/shifts",
    record_key="+".join(SHIFT_KEY),
    record_path="items",
    window_field="date",
    event_period=shift_period,
    lookback=timedelta(days=LOOKBACK_DAYS),
    record_schema=Shift,
    reader=read_shifts,
)

PUNCHES = Stream(
    name="punches",
    path="/att/api/punches",
    record_key="+".join(PUNCH_KEY),
    record_path="items",
    paginator=OffsetPaginator(
        offset_param="offset", limit_param="limit", limit=PUNCH_LIMIT, has_more_field="has_more"
    ),
    window_field="punch_time",
    event_period=punch_period,
    lookback=timedelta(days=LOOKBACK_DAYS),
    record_schema=Punch,
    reader=read_punches,
)

STREAMS = (SHIFTS, PUNCHES)
