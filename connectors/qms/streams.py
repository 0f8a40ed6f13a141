"""The QMS inspections stream: asked for by date range, a window at a time, page-number paged.

The QMS pages a live table, so each window is read with the SDK's ``PageNumberPaginator``: items
served twice are landed once and a window that moved while it was paged is read again until it
settles; items still served twice in the settled pass go with the window's last page, for a
finding. Keys are held for one window only. The pull covers the hub's calendar
(``pull_range``): from the start of the kept history on the first pull, later from a few days
before the last day pulled; the day pulled through is committed with the final page only, so a
failure part-way re-reads from the old day and landing drops what it already holds.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import Any

from connectors.qms.mapping import inspection_period
from connectors.qms.records import Inspection
from connectors.sdk import HttpSource, Page, Stream, StreamError
from connectors.sdk.calendar import THROUGH, pull_range, windows
from connectors.sdk.http import dig, wrap_records
from connectors.sdk.paginators import PageNumberPaginator, PaginationError
from connectors.sdk.timeparse import now_utc

LOOKBACK_DAYS = 3
WINDOW_DAYS = 7
PAGE_SIZE = 1000


def _window_error(exc: StreamError | PaginationError, since: date, until: date) -> str:
    reason = exc.reason if isinstance(exc, StreamError) else str(exc)
    return f"{reason} (window {since.isoformat()}..{until.isoformat()})"


def read_inspections(
    source: HttpSource, stream: Stream, state: Mapping[str, Any] | None
) -> Iterator[Page]:
    if not isinstance(stream.paginator, PageNumberPaginator):
        raise TypeError(f"{stream.name} needs a PageNumberPaginator")
    # A copy per read: the declaration stays shareable and the key set lives for one window.
    paginator = copy.copy(stream.paginator)
    first, last = pull_range(state, LOOKBACK_DAYS)
    number = 0
    for since, until in windows(first, last, WINDOW_DAYS):
        window = {**stream.params, "from": since.isoformat(), "to": until.isoformat()}
        request: dict[str, Any] | None = paginator.start()
        while request is not None:
            number += 1
            try:
                body = source.request_json(
                    stream.method,
                    stream.path,
                    params={**window, **request},
                    stream=stream.name,
                    page=number,
                )
                items = dig(body, stream.record_path)
                request = paginator.advance(body, len(items) if isinstance(items, list) else 0)
            except (StreamError, PaginationError) as exc:
                reason = _window_error(exc, since, until)
                raise StreamError(source.name, stream.name, number, reason) from None
            records, rejected = wrap_records(source, stream, paginator.new_items, now_utc())
            repeated = paginator.served_twice if request is None else ()
            yield Page(
                number=number, records=records, state={}, rejected=rejected, served_twice=repeated
            )
    yield Page(number=number + 1, records=[], state={THROUGH: last.isoformat()}, final=True)


INSPECTIONS = Stream(
    name="inspections",
    path="/qms/v1/inspections",
    record_key="inspection_id",
    record_path="items",
    paginator=PageNumberPaginator(
        record_key="inspection_id", items_path="items", page_size=PAGE_SIZE
    ),
    updated_field="inspected_at",
    window_field="inspected_at",
    event_period=inspection_period,
    lookback=timedelta(days=LOOKBACK_DAYS),
    record_schema=Inspection,
    reader=read_inspections,
)

STREAMS = (INSPECTIONS,)
