"""The QMS connector against the sandbox QMS on real loopback HTTP: every inspection once despite
the planted duplicate pages, incremental pulls of only the lookback window, refused keys and
retried 503s."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.qms import CONNECTOR
from connectors.qms.client import open_qms
from connectors.sdk import AuthError, HttpSource, RetryPolicy, Stream, StreamError
from connectors.sdk.paginators import PageNumberPaginator
from pipelines.landing import land_stream, load_state
from pipelines.stores import Stores
from sandbox import faults
from sandbox.faults import PAGE_SHIFT_KIND as PAGE_SHIFT
from sandbox.model import World, generate_world
from sandbox.serving import SandboxServer
from schemas.tables import RawRecordVersion

AS_OF = date(2026, 11, 22)
SEED = 7
EMPLOYEES = 60


@pytest.fixture(scope="module")
def qms() -> Iterator[SandboxServer]:
    with SandboxServer(generate_world(SEED, EMPLOYEES, AS_OF), systems=("qms",)) as server:
        yield server


@pytest.fixture(autouse=True)
def _sandbox_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPIHUB_TODAY", AS_OF.isoformat())


def inspection_ids(world: World, first: date | None = None, last: date | None = None) -> list[str]:
    return sorted(
        i.inspection_id
        for period in world.periods
        for i in world.plant.inspections(period)
        if (first is None or i.inspected_at.date() >= first)
        and (last is None or i.inspected_at.date() <= last)
    )


def small_pages(size: int) -> Stream:
    """The declared stream with smaller pages, so the sandbox's 60-person weeks span several."""
    paginator = PageNumberPaginator(record_key="inspection_id", items_path="items", page_size=size)
    return replace(CONNECTOR.stream("inspections"), paginator=paginator)


def test_every_inspection_exactly_once_despite_duplicate_pages(qms: SandboxServer) -> None:
    source = CONNECTOR.connect(qms.endpoints)
    try:
        pages = list(source.read(small_pages(100), None))
    finally:
        source.close()
    keys = [r.record_key for page in pages for r in page.records]
    expected = inspection_ids(qms.world)
    assert len(expected) == 10045  # the planted half-day loss keeps 39 afternoon inspections out
    assert sorted(keys) == expected
    assert [p.rejected for p in pages if p.rejected] == []
    # Only the final page carries state: the last day pulled.
    assert [p.state for p in pages if p.state] == [{"through": "2026-11-22"}]
    assert [p.final for p in pages].count(True) == 1 and pages[-1].final


def test_payloads_are_landed_as_served(qms: SandboxServer) -> None:
    source = CONNECTOR.connect(qms.endpoints)
    try:
        pages = source.read(CONNECTOR.stream("inspections"), {"through": "2026-11-20"})
        records = {r.record_key: r for page in pages for r in page.records}
    finally:
        source.close()
    first = next(i for i in qms.world.plant.inspections("2026-11") if i.inspection_id in records)
    record = records[first.inspection_id]
    assert record.payload["operator_badge"] == first.operator_badge
    assert record.payload["inspected_qty"] == first.inspected_qty
    assert record.payload["defect_codes"] == list(first.defect_codes)
    assert record.source_updated_at == first.inspected_at


def count_versions(stores: Stores) -> int:
    with Session(stores.hub) as session:
        return session.scalar(
            select(func.count())
            .select_from(RawRecordVersion)
            .where(RawRecordVersion.source == "qms")
        )


def test_landing_twice_lands_nothing_new_and_pulls_only_the_lookback(
    qms: SandboxServer, stores: Stores
) -> None:
    stream = CONNECTOR.stream("inspections")
    source = CONNECTOR.connect(qms.endpoints)
    try:
        first = land_stream(stores.hub, source, stream, "run-1")
        second = land_stream(stores.hub, source, stream, "run-2")
    finally:
        source.close()
    everything = inspection_ids(qms.world)
    assert (first.pulled, first.landed, first.rejected) == (len(everything), len(everything), 0)
    # The second pull restarts three days before the day the first went through.
    lookback = inspection_ids(qms.world, date(2026, 11, 19), AS_OF)
    assert len(lookback) == 142
    assert (second.pulled, second.landed, second.changed) == (len(lookback), 0, 0)
    assert count_versions(stores) == len(everything)
    with Session(stores.hub) as session:
        state = load_state(session, "qms", "inspections")
    assert state is not None and state["through"] == "2026-11-22"


def test_a_wrong_api_key_fails_clearly_without_the_key(qms: SandboxServer) -> None:
    wrong = "qms-not-the-right-key-0123456789"
    source = CONNECTOR.connect({**qms.endpoints, "KPIHUB_QMS_API_KEY": wrong})
    try:
        with pytest.raises(AuthError) as caught:
            list(source.read(CONNECTOR.stream("inspections"), None))
    finally:
        source.close()
    message = str(caught.value)
    assert message == (
        "qms: authentication failed: the API key in header X-Api-Key was refused (HTTP 401)"
    )
    assert wrong not in message and qms.endpoints["KPIHUB_QMS_API_KEY"] not in message
    assert source.requests_made == 1  # a refused key is not retried


class Unavailable503(httpx.BaseTransport):
    """A stand-in for the QMS's occasional outage in front of the real sandbox server: the
    requests numbered in ``failing`` get HTTP 503, the rest go through over real HTTP."""

    def __init__(self, failing: set[int]) -> None:
        self.inner = httpx.HTTPTransport()
        self.failing = failing
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.requests in self.failing:
            return httpx.Response(503, json={"error": "unavailable"})
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def open_with(qms: SandboxServer, transport: httpx.BaseTransport) -> HttpSource:
    source = open_qms(
        qms.endpoints["KPIHUB_QMS_BASE_URL"],
        "",
        qms.endpoints["KPIHUB_QMS_API_KEY"],
        transport=transport,
    )
    source.retry = RetryPolicy(attempts=3, sleep=lambda _: None)
    return source


def test_a_503_is_retried_and_nothing_is_lost(qms: SandboxServer) -> None:
    transport = Unavailable503({2, 5})
    source = open_with(qms, transport)
    try:
        keys = [r.record_key for page in source.read(small_pages(1000), None) for r in page.records]
    finally:
        source.close()
    assert sorted(keys) == inspection_ids(qms.world)
    # 30 weekly windows of one page each, plus the two refused attempts.
    assert source.requests_made == transport.requests == 32


def test_a_qms_that_stays_down_fails_the_stream_naming_page_and_window(
    qms: SandboxServer,
) -> None:
    source = open_with(qms, Unavailable503(set(range(2, 10))))
    try:
        with pytest.raises(StreamError) as caught:
            list(source.read(CONNECTOR.stream("inspections"), None))
    finally:
        source.close()
    assert str(caught.value) == (
        "qms/inspections page 2: gave up after retries: HTTP 503 (window 2026-05-08..2026-05-14)"
    )


def test_the_connector_is_registered_with_its_environment() -> None:
    from connectors.registry import get

    connector = get("qms")
    assert connector is CONNECTOR
    assert connector.env.names() == ("KPIHUB_QMS_BASE_URL", "KPIHUB_QMS_API_KEY")
    assert [s.name for s in connector.streams] == ["inspections"]
    assert connector.mapping is not None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"page": 1, "items": []}, "'total' is None, not a count"),
        ({"total": 3, "items": {"inspection_id": "QI1"}}, "'items' is not a list"),
    ],
)
def test_a_malformed_page_fails_the_stream_and_commits_nothing(
    body: dict[str, object], reason: str
) -> None:
    def stand_in_qms(request: httpx.Request) -> httpx.Response:
        """A stand-in QMS answering every request with the same malformed page."""
        return httpx.Response(200, json=body)

    source = open_qms("http://qms.test", "", "key", transport=httpx.MockTransport(stand_in_qms))
    try:
        pages = source.read(CONNECTOR.stream("inspections"), None)
        with pytest.raises(StreamError) as caught:
            next(pages)
    finally:
        source.close()
    window = "(window 2026-05-01..2026-05-07)"
    assert str(caught.value) == f"qms/inspections page 1: {reason} {window}"


def test_every_inspection_once_when_the_sandbox_shifts_pages_both_ways(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sandbox's own fault injector, limited to page shifts: pages that start earlier
    (rows inserted ahead: duplicates) and later (rows removed ahead: skipped items), with
    ``total`` moving accordingly."""
    monkeypatch.setitem(faults.PROFILES, "shifting", faults.Profile("shifting", 0.5, (PAGE_SHIFT,)))
    world = generate_world(SEED, EMPLOYEES, AS_OF)
    with SandboxServer(world, systems=("qms",), faults="none,qms=shifting") as server:
        source = CONNECTOR.connect(server.endpoints)
        try:
            keys = [r.record_key for p in source.read(small_pages(100), None) for r in p.records]
        finally:
            source.close()
        shifts = [e.detail for e in server.injectors["qms"].events if e.kind == PAGE_SHIFT]
    # The faults are replayed the same for a sequential client: 26 shifted pages, both ways.
    assert len(shifts) == 26
    assert {detail[0] for detail in shifts} == {"+", "-"}
    assert sorted(keys) == inspection_ids(world)
