"""Paginators: offset/limit with has_more, and page numbers over a live table whose pages shift.

Edge cases run against stand-in servers (``httpx.MockTransport`` handlers that keep a table and
change it between requests, as a live system does); the sandbox QMS's own shifting pages are read
through the real HTTP server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from connectors.sdk.paginators import OffsetPaginator, PageNumberPaginator, PaginationError
from sandbox.model import World, generate_world
from sandbox.serving import SandboxServer, credentials

AS_OF = date(2026, 11, 22)
SEED = 7


# --- offset/limit -------------------------------------------------------------------------------


def test_offset_paginator_starts_at_zero_and_advances_by_what_was_served() -> None:
    paginator = OffsetPaginator(offset_param="skip", limit_param="take", limit=2000)
    assert paginator.start() == {"skip": 0, "take": 2000}
    assert paginator.advance({"has_more": True}, 2000) == {"skip": 2000, "take": 2000}
    # A server that caps the limit lower: the next offset follows what it actually served.
    assert paginator.advance({"has_more": True}, 500) == {"skip": 2500, "take": 2000}
    assert paginator.advance({"has_more": False}, 500) is None
    assert paginator.start() == {"skip": 0, "take": 2000}


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        (True, {"offset": 10, "limit": 10}),
        (False, None),
        ("true", {"offset": 10, "limit": 10}),
        ("false", None),
        (" FALSE ", None),
        ("1", {"offset": 10, "limit": 10}),
        (0, None),
    ],
)
def test_offset_paginator_reads_the_flag_leniently(flag: object, expected: object) -> None:
    paginator = OffsetPaginator(limit=10, has_more_field="more")
    paginator.start()
    assert paginator.advance({"more": flag}, 10) == expected


def test_offset_paginator_stops_on_an_empty_page_even_if_told_there_is_more() -> None:
    paginator = OffsetPaginator(limit=10)
    paginator.start()
    assert paginator.advance({"has_more": True}, 0) is None


def test_offset_paginator_without_the_flag_goes_on_only_after_a_full_page() -> None:
    paginator = OffsetPaginator(limit=10)
    paginator.start()
    assert paginator.advance({"items": []}, 10) == {"offset": 10, "limit": 10}
    assert paginator.advance({"items": []}, 9) is None


def test_offset_paginator_refuses_a_flag_it_cannot_read() -> None:
    paginator = OffsetPaginator(limit=10)
    paginator.start()
    with pytest.raises(PaginationError, match="'has_more' is 'maybe', not a true/false flag"):
        paginator.advance({"has_more": "maybe"}, 10)


# --- page numbers over a live table -------------------------------------------------------------


class LiveTable:
    """A stand-in server: a table served by page number whose rows change between requests.

    ``changes`` maps a request number (1-based) to a change applied just after that request is
    answered, so the next page is cut from the changed table.
    """

    def __init__(self, rows: list[str], changes: dict[int, Callable[[list[str]], None]]) -> None:
        self.rows = rows
        self.changes = changes
        self.requests = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        page = int(request.url.params["page"])
        size = int(request.url.params["page_size"])
        chunk = self.rows[(page - 1) * size : page * size]
        body = {"total": len(self.rows), "items": [{"id": row} for row in chunk]}
        change = self.changes.get(self.requests)
        if change is not None:
            change(self.rows)
        return httpx.Response(200, json=body)


def read_all(table: LiveTable, paginator: PageNumberPaginator) -> list[str]:
    """Page through the stand-in server the way a connector's reader does; the ids landed."""
    landed: list[str] = []
    with httpx.Client(transport=httpx.MockTransport(table.handler)) as client:
        request: dict[str, Any] | None = paginator.start()
        while request is not None:
            body = client.get("http://qms.test/items", params=request).json()
            request = paginator.advance(body, len(body["items"]))
            landed.extend(item["id"] for item in paginator.new_items)
    return landed


def rows(count: int) -> list[str]:
    return [f"r{n:03d}" for n in range(1, count + 1)]


def test_a_quiet_table_is_read_in_one_pass() -> None:
    table = LiveTable(rows(25), {})
    paginator = PageNumberPaginator(page_size=10)
    assert read_all(table, paginator) == rows(25)
    assert (table.requests, paginator.passes) == (3, 1)


def test_an_exact_multiple_of_the_page_size_needs_no_empty_page() -> None:
    table = LiveTable(rows(20), {})
    assert read_all(table, PageNumberPaginator(page_size=10)) == rows(20)
    assert table.requests == 2


def test_an_empty_table_is_one_request() -> None:
    table = LiveTable([], {})
    assert read_all(table, PageNumberPaginator(page_size=10)) == []
    assert table.requests == 1


def test_an_insert_ahead_serves_an_item_twice_and_it_is_landed_once() -> None:
    # After page 1, a row sorts in ahead of the read position: r010 slides onto page 2 again,
    # and the new row itself was never on a page read. The next pass finds it; a third, quiet
    # in what it adds, ends the read.
    table = LiveTable(rows(25), {1: lambda t: t.insert(4, "r004a")})
    paginator = PageNumberPaginator(page_size=10)
    landed = read_all(table, paginator)
    assert sorted(landed) == sorted([*rows(25), "r004a"])
    assert len(landed) == len(set(landed)) == 26
    assert paginator.passes == 3


def test_a_row_removed_behind_the_read_position_cannot_hide_the_next_one() -> None:
    # After page 1 (r001..r010), r003 is deleted: r011 slides back onto page 1, which was
    # already read, so page 2 starts at r012. Only a second pass finds r011.
    table = LiveTable(rows(25), {1: lambda t: t.remove("r003")})
    paginator = PageNumberPaginator(page_size=10)
    landed = read_all(table, paginator)
    assert "r011" in landed
    assert sorted(landed) == rows(25)  # r003 was served before it went, so it stays landed
    assert len(landed) == 25
    assert paginator.passes == 3


def test_the_latest_total_decides_where_a_pass_ends() -> None:
    # The table grows by five rows after the first page: a pass that trusted the first total
    # (20) would stop after page 2 and never ask for page 3.
    table = LiveTable(rows(20), {1: lambda t: t.extend(f"s{n}" for n in range(5))})
    paginator = PageNumberPaginator(page_size=10)
    landed = read_all(table, paginator)
    assert landed == [*rows(20), *(f"s{n}" for n in range(5))]
    assert paginator.passes == 2  # the total moved, so one more pass confirms nothing was missed


def test_a_table_that_never_settles_fails_the_read_instead_of_losing_rows() -> None:
    counter = iter(range(1000))
    table = LiveTable(
        rows(15), {n: lambda t: t.insert(0, f"new{next(counter)}") for n in range(99)}
    )
    paginator = PageNumberPaginator(page_size=10, max_passes=3)
    with pytest.raises(PaginationError, match=r"the table kept changing: 3 passes still found"):
        read_all(table, paginator)


def test_keys_are_held_for_one_read_only() -> None:
    paginator = PageNumberPaginator(page_size=10)
    assert read_all(LiveTable(rows(5), {}), paginator) == rows(5)
    assert paginator.seen == 5
    # The next window starts empty: its keys do not pile onto the previous window's.
    assert read_all(LiveTable(rows(3), {}), paginator) == rows(3)
    assert paginator.seen == 3


def test_items_without_a_key_are_passed_on_once_for_the_engine_to_quarantine() -> None:
    paginator = PageNumberPaginator(page_size=10)
    paginator.start()
    body = {"total": 2, "items": [{"id": "a"}, {"name": "no id"}]}
    assert paginator.advance(body, 2) is None
    assert paginator.new_items == [{"id": "a"}, {"name": "no id"}]


@pytest.mark.parametrize("total", [None, "many", -1])
def test_a_page_without_a_readable_total_is_an_error(total: object) -> None:
    paginator = PageNumberPaginator(page_size=10)
    paginator.start()
    with pytest.raises(PaginationError, match="'total' is"):
        paginator.advance({"total": total, "items": [{"id": "a"}]}, 1)


def test_a_record_key_can_be_computed() -> None:
    paginator = PageNumberPaginator(record_key=lambda item: f"{item['a']}|{item['b']}")
    paginator.start()
    body = {"total": 3, "items": [{"a": 1, "b": 2}, {"a": 1, "b": 2}, {"a": 1, "b": 3}]}
    paginator.advance(body, 3)
    assert paginator.new_items == [{"a": 1, "b": 2}, {"a": 1, "b": 3}]


# --- the sandbox QMS's shifting pages ------------------------------------------------------------


@pytest.fixture(scope="module")
def qms() -> Iterator[SandboxServer]:
    with SandboxServer(generate_world(SEED, 60, AS_OF), systems=("qms",)) as server:
        yield server


def duplicated_period(world: World) -> str:
    return next(a.period for a in world.anomalies if a.kind == "duplicate_items")


def test_the_sandbox_serves_boundary_items_twice_and_each_is_kept_once(qms: SandboxServer) -> None:
    period = duplicated_period(qms.world)
    assert period == "2026-10"
    first, last = date(2026, 10, 5), date(2026, 10, 11)
    expected = [
        i.inspection_id
        for i in qms.world.plant.inspections(period)
        if first <= i.inspected_at.date() <= last
    ]
    assert len(expected) == 360
    paginator = PageNumberPaginator(record_key="inspection_id", page_size=50)
    served: list[str] = []
    landed: list[str] = []
    headers = {"X-Api-Key": credentials(SEED)["qms_api_key"]}
    with httpx.Client(base_url=qms.qms.url, headers=headers) as client:
        request: dict[str, Any] | None = paginator.start()
        while request is not None:
            params = {"from": first.isoformat(), "to": last.isoformat(), **request}
            response = client.get("/qms/v1/inspections", params=params)
            assert response.status_code == 200
            body = response.json()
            served.extend(item["inspection_id"] for item in body["items"])
            request = paginator.advance(body, len(body["items"]))
            landed.extend(item["inspection_id"] for item in paginator.new_items)
    # Each of the 7 page boundaries of a pass is served twice; two passes (the first one moved).
    assert paginator.passes == 2
    assert len(served) == 2 * (360 + 7)
    assert len(set(served)) == 360
    assert landed == expected
    # The settled pass still served the boundary items twice: the source's own repeats.
    boundaries = [expected[n * 49 + 49] for n in range(7)]
    assert list(paginator.served_twice) == sorted(boundaries)
