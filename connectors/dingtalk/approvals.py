"""Approvals (OA): the instance ids of each process, then each instance's detail.

processinstance/listids wants a process code, a window of at most 120 days starting no more than
365 days back, ``size`` <= 20, and pages by ``cursor`` until ``next_cursor`` is missing. No
``userid_list`` is sent: without it DingTalk lists every originator, which takes one walk per
window instead of one per ten people, and keeps approvals of people who have left the directory.

Which processes to read is the company's configuration: ``KPIHUB_DINGTALK_PROCESS_CODES``
(comma-separated), by default the leave and business-trip processes the hub's KPIs use.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

from connectors.dingtalk.days import batches, day_range, end_ms, epoch_ms, through
from connectors.sdk import HttpSource, Page, Stream, StreamError
from connectors.sdk.calendar import REVISIT, THROUGH, windows
from connectors.sdk.http import wrap_records
from connectors.sdk.parallel import ahead_of, in_order
from connectors.sdk.timeparse import now_utc

PROCESS_CODES_ENV = "KPIHUB_DINGTALK_PROCESS_CODES"
DEFAULT_PROCESS_CODES = ("PROC-LEAVE", "PROC-TRIP")
WINDOW_DAYS = 120
REACHES_BACK_DAYS = 364
PAGE_SIZE = 20
# How far ahead of the day it covers a leave or trip is usually filed.
FILED_AHEAD_DAYS = 14
UNFINISHED = frozenset({"NEW", "RUNNING"})
LISTING_AHEAD = 1000
"""Listing pages (20 ids each) read ahead of the details: listids has a budget of its own, so
the listing runs at its pace while the details run at theirs."""


def process_codes() -> tuple[str, ...]:
    configured = os.environ.get(PROCESS_CODES_ENV, "")
    codes = tuple(c.strip() for c in configured.split(",") if c.strip())
    return codes or DEFAULT_PROCESS_CODES


def instance_ids(
    source: HttpSource, stream: Stream, code: str, start_ms: int, stop_ms: int, first_page: int
) -> Iterator[tuple[int, list[str]]]:
    """(page number, ids) of one process and window, following ``next_cursor`` to its end."""
    cursor = 0
    seen = {cursor}
    number = first_page
    while True:
        body = source.request_json(
            "POST",
            "/topapi/processinstance/listids",
            body={
                "process_code": code,
                "start_time": start_ms,
                "end_time": stop_ms,
                "size": PAGE_SIZE,
                "cursor": cursor,
            },
            stream=stream.name,
            page=number,
        )
        result = body.get("result") or {}
        ids = result.get("list") if isinstance(result, dict) else None
        if not isinstance(ids, list):
            raise StreamError(source.name, stream.name, number, "'result.list' is not a list")
        yield number, [str(i) for i in ids]
        following = result.get("next_cursor")
        if following in (None, ""):
            return
        try:
            cursor = int(following)
        except (TypeError, ValueError):
            reason = f"next_cursor {following!r} is not a number"
            raise StreamError(source.name, stream.name, number, reason) from None
        if cursor in seen:
            reason = f"the source repeated cursor {cursor}; paging would not end"
            raise StreamError(source.name, stream.name, number, reason)
        seen.add(cursor)
        number += 1


def instance(source: HttpSource, stream: Stream, instance_id: str, page: int) -> Any:
    """The detail of one instance with its id added: the detail itself does not carry it.
    DingTalk documents ``process_instance`` at the top of the body; some gateways nest it under
    ``result``, so both are accepted."""
    body = source.request_json(
        "POST",
        "/topapi/processinstance/get",
        body={"process_instance_id": instance_id},
        stream=stream.name,
        page=page,
    )
    result = body.get("result")
    nested = result.get("process_instance") if isinstance(result, dict) else None
    found = nested if nested is not None else body.get("process_instance")
    if not isinstance(found, dict):
        return {"process_instance_id": instance_id, "process_instance": found}
    return {**found, "process_instance_id": instance_id}


def read_approvals(
    source: HttpSource, stream: Stream, state: Mapping[str, Any] | None
) -> Iterator[Page]:
    """Instances created in the days to pull, plus those still open at the last pull.

    listids selects by creation time, so a first pull starts ``FILED_AHEAD_DAYS`` before the
    first day it keeps: a leave filed a week ahead covers days inside the history. An instance
    still NEW or RUNNING is asked for again on every pull until it finishes, however long ago it
    was filed: an approval granted later excuses the day it covers. Later pulls need no lead:
    anything filed before the last day pulled was listed then, finished or not.

    listids and processinstance/get have budgets of their own: the listing runs ahead on a
    thread of its own while the details of several listed pages are fetched side by side; the
    pages come out in listing order, as one request after another would give them.
    """
    start, end = day_range(state, keeps_days=REACHES_BACK_DAYS)
    if not (state or {}).get(THROUGH):
        start = max(
            start - timedelta(days=FILED_AHEAD_DAYS), end - timedelta(days=REACHES_BACK_DAYS)
        )
    kept = dict(state or {})
    still_open: set[str] = set()

    def listing() -> Iterator[tuple[int, list[str]]]:
        number = 0
        for code in process_codes():
            for first, last in windows(start, end, WINDOW_DAYS):
                pages = instance_ids(
                    source, stream, code, epoch_ms(first), end_ms(last), number + 1
                )
                for number, ids in pages:
                    yield number, ids

    def to_fetch() -> Iterator[tuple[int, list[str]]]:
        """Each listed page's ids not listed before, then the open ones left to ask again for."""
        listed: set[str] = set()
        number = 0
        for number, ids in ahead_of(listing(), LISTING_AHEAD):
            fresh = [i for i in ids if i not in listed]
            listed.update(fresh)
            yield number, fresh
        if start <= end:
            pending = [str(i) for i in (state or {}).get(REVISIT, []) if str(i) not in listed]
            for ids in batches(pending, PAGE_SIZE):
                number += 1
                yield number, list(ids)

    def details(ids: list[str], page: int) -> list[Any]:
        return [instance(source, stream, i, page) for i in ids]

    asks = ((lambda i=ids, n=number: (n, details(i, n))) for number, ids in to_fetch())
    number = 0
    for number, found in in_order(asks, source.workers):
        still_open.update(d["process_instance_id"] for d in found if d.get("status") in UNFINISHED)
        records, rejected = wrap_records(source, stream, found, now_utc())
        yield Page(number=number, records=records, state=kept, rejected=rejected)
    final = through(end) if start <= end else dict(state or {})
    final[REVISIT] = sorted(still_open) if start <= end else list(final.get(REVISIT, []))
    yield Page(number=number + 1, records=[], state=final, final=True)


__all__ = ["process_codes", "read_approvals"]
