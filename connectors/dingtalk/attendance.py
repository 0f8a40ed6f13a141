"""Attendance results and leave status: per-person APIs asked about the directory's users in
batches over windows of days.

attendance/list takes at most 7 days x 50 users per request and pages by offset/limit (<= 50) until
``hasMore`` is false. DingTalk keeps about 180 days of results, so the first pull starts at most
``KEEPS_DAYS`` back even when the hub's history reaches further. getleavestatus takes at most 100
users and 180 days per request and pages by offset/size (<= 20) under ``result.has_more``.

Only the user ids are held in memory; records go out page by page. The state (the last day pulled)
is committed with the final page only, so an interrupted pull starts over from the old state and
landing drops the versions it already has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from connectors.dingtalk.days import batches, day_range, end_ms, epoch_ms, through, work_date
from connectors.dingtalk.directory import user_ids
from connectors.dingtalk.envelope import as_bool, as_int
from connectors.dingtalk.fanout import numbered_walks
from connectors.sdk import HttpSource, Page, Stream, StreamError
from connectors.sdk.calendar import windows
from connectors.sdk.http import wrap_records
from connectors.sdk.stream import Rejected
from connectors.sdk.timeparse import now_utc
from schemas.envelope import RawRecord

KEEPS_DAYS = 180
WINDOW_DAYS = 7
USERS_PER_REQUEST = 50
PAGE_LIMIT = 50
LEAVE_WINDOW_DAYS = 180
LEAVE_USERS_PER_REQUEST = 100
LEAVE_PAGE_SIZE = 20
KEY_SEPARATOR = "|"


def _records_of(source: HttpSource, stream: Stream, page: int, items: Any) -> list[Any]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise StreamError(source.name, stream.name, page, "the record list is not a list")
    return items


def _result_of(source: HttpSource, stream: Stream, page: int, body: Any) -> dict[str, Any]:
    result = body.get("result")
    if result is None:
        return {}
    if not isinstance(result, dict):
        raise StreamError(source.name, stream.name, page, "'result' is not an object")
    return result


# One page's records and whether DingTalk says more follow, read from its body.
PageOf = Callable[[int, Any], tuple[list[Any], bool]]
# The request body for one window, one batch of users and one offset.
RequestOf = Callable[[date, date, tuple[str, ...], int], dict[str, Any]]


def _pages_over_windows(
    source: HttpSource,
    stream: Stream,
    path: str,
    spans: Iterable[tuple[date, date]],
    users: list[str],
    users_per_request: int,
    request_of: RequestOf,
    page_of: PageOf,
    more_flag: str,
) -> Iterator[tuple[int, list[Any]]]:
    """Every window x batch of users, each paged by offset until DingTalk says no more: numbered
    pages of raw items. A page flagged as followed by more but empty would page forever: error.

    Each window x batch is a walk of its own, and the walks run side by side (``fanout``): the
    pages come out in window, batch and offset order, numbered as one walk after another."""

    def walk(first: date, last: date, batch: tuple[str, ...]) -> Iterator[list[Any]]:
        offset = 0
        number = 0
        while True:
            number += 1
            body = source.request_json(
                "POST",
                path,
                body=request_of(first, last, batch, offset),
                stream=stream.name,
                page=number,
            )
            items, more = page_of(number, body)
            yield items
            if not more:
                return
            if not items:
                reason = f"{more_flag} is true but the page is empty; paging would not end"
                raise StreamError(source.name, stream.name, number, reason)
            offset += len(items)

    walks = (
        lambda first=first, last=last, batch=tuple(batch): walk(first, last, batch)
        for first, last in spans
        for batch in batches(users, users_per_request)
    )
    return numbered_walks(walks, source.workers)


def read_attendance(
    source: HttpSource, stream: Stream, state: Mapping[str, Any] | None
) -> Iterator[Page]:
    start, end = day_range(state, keeps_days=KEEPS_DAYS)

    def request_of(first: date, last: date, batch: tuple[str, ...], offset: int) -> dict[str, Any]:
        return {
            "workDateFrom": work_date(first),
            "workDateTo": work_date(last),
            "userIdList": list(batch),
            "offset": offset,
            "limit": PAGE_LIMIT,
        }

    def page_of(number: int, body: Any) -> tuple[list[Any], bool]:
        items = _records_of(source, stream, number, body.get("recordresult"))
        return items, as_bool(body.get("hasMore"))

    users = user_ids(source, stream.name)
    kept = dict(state or {})
    number = 0
    for number, items in _pages_over_windows(
        source, stream, "/attendance/list", windows(start, end, WINDOW_DAYS),
        users, USERS_PER_REQUEST, request_of, page_of, "hasMore",
    ):  # fmt: skip
        records, rejected = wrap_records(source, stream, items, now_utc())
        yield Page(number=number, records=records, state=kept, rejected=rejected)
    yield Page(number=number + 1, records=[], state=through(end), final=True)


def leave_key(payload: Mapping[str, Any]) -> str:
    """``userid|start_time|end_time``: getleavestatus gives a leave no id of its own. DingTalk
    does not approve two leaves of one person over the same interval, and reports the interval as
    approved, so these three name the same leave on every pull; a changed duration becomes a new
    version of it, a moved interval is another leave. The parts are joined the way the SDK joins
    composite keys, and times are normalised so ``"1700000000000"`` and ``1700000000000`` agree."""
    start, end = as_int(payload.get("start_time")), as_int(payload.get("end_time"))
    return KEY_SEPARATOR.join((str(payload["userid"]), str(start), str(end)))


def wrap_leaves(
    source: HttpSource, stream: Stream, items: list[Any]
) -> tuple[list[RawRecord], list[Rejected]]:
    """Wrap as any record (shape and schema checks), then key each by ``leave_key``."""
    by_userid = replace(stream, record_key="userid")
    records, rejected = wrap_records(source, by_userid, items, now_utc())
    keyed = [r.model_copy(update={"record_key": leave_key(r.payload)}) for r in records]
    return keyed, rejected


def read_leave_status(
    source: HttpSource, stream: Stream, state: Mapping[str, Any] | None
) -> Iterator[Page]:
    start, end = day_range(state)

    def request_of(first: date, last: date, batch: tuple[str, ...], offset: int) -> dict[str, Any]:
        return {
            "userid_list": ",".join(batch),
            "start_time": epoch_ms(first),
            "end_time": end_ms(last),
            "offset": offset,
            "size": LEAVE_PAGE_SIZE,
        }

    def page_of(number: int, body: Any) -> tuple[list[Any], bool]:
        result = _result_of(source, stream, number, body)
        items = _records_of(source, stream, number, result.get("leave_status"))
        return items, as_bool(result.get("has_more"))

    users = user_ids(source, stream.name)
    kept = dict(state or {})
    number = 0
    for number, items in _pages_over_windows(
        source, stream, "/topapi/attendance/getleavestatus",
        windows(start, end, LEAVE_WINDOW_DAYS), users, LEAVE_USERS_PER_REQUEST,
        request_of, page_of, "has_more",
    ):  # fmt: skip
        records, rejected = wrap_leaves(source, stream, items)
        yield Page(number=number, records=records, state=kept, rejected=rejected)
    yield Page(number=number + 1, records=[], state=through(end), final=True)
