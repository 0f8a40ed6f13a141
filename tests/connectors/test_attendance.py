"""The attendance-terminal connector against the sandbox terminals' server on real loopback HTTP:
every shift and every punch once, stable derived keys, incremental pulls of only the lookback
window, a refused password and retried 503s."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy.orm import Session

from connectors.attendance import CONNECTOR
from connectors.attendance.client import open_attendance
from connectors.attendance.keys import PUNCH_KEY, wrap_keyed
from connectors.sdk import AuthError, HttpSource, RetryPolicy, Stream
from connectors.sdk.paginators import OffsetPaginator
from connectors.sdk.timeparse import SHANGHAI
from pipelines.landing import land_stream, load_state
from pipelines.stores import Stores
from sandbox.apps.plant import punches_of
from sandbox.clock import days_of
from sandbox.model import World, generate_world
from sandbox.serving import SandboxServer

AS_OF = date(2026, 11, 22)
SEED = 7
EMPLOYEES = 60
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def terminals() -> Iterator[SandboxServer]:
    with SandboxServer(generate_world(SEED, EMPLOYEES, AS_OF), systems=("attendance",)) as server:
        yield server


@pytest.fixture(autouse=True)
def _sandbox_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPIHUB_TODAY", AS_OF.isoformat())


def world_days(world: World, first: date | None = None) -> list[date]:
    days = [day for period in world.periods for day in days_of(period, world.as_of)]
    return [day for day in days if first is None or day >= first]


def expected_shift_keys(world: World, months: list[str]) -> list[str]:
    """Every terminal user's planned day, as the world holds it."""
    keys = []
    for person in world.employees:
        if not person.uses_terminals:
            continue
        for day in (d for m in months for d in days_of(m, world.as_of)):
            if person.employed_on(day):
                card = person.badge_on(day) or person.current
                keys.append(f"{card.card_no}|{day.isoformat()}")
    return sorted(keys)


def expected_punches(world: World, first: date | None = None) -> list[dict[str, object]]:
    """Every tap the world's terminals recorded from ``first`` on."""
    people = world.company.by_job_number()
    found = []
    for day in world_days(world, first):
        for record in world.attendance.on(day):
            person = people[record.job_number]
            if person.uses_terminals:
                card = (person.badge_on(day) or person.current).card_no
                found.extend(punches_of(record, card, person.line or ""))
    return found


def local_day(punch: dict[str, object]) -> date:
    return datetime.fromtimestamp(int(str(punch["punch_time"])), SHANGHAI).date()


def punch_key(punch: dict[str, object]) -> str:
    return f"{punch['card_no']}|{punch['device_id']}|{punch['punch_time']}"


def read_keys(server: SandboxServer, stream: Stream, state: dict[str, str] | None) -> list[str]:
    source = CONNECTOR.connect(server.endpoints)
    try:
        return [r.record_key for page in source.read(stream, state) for r in page.records]
    finally:
        source.close()


def test_every_shift_exactly_once(terminals: SandboxServer) -> None:
    keys = read_keys(terminals, CONNECTOR.stream("shifts"), None)
    expected = expected_shift_keys(terminals.world, terminals.world.periods)
    assert len(expected) == 4743
    assert sorted(keys) == expected


def test_every_punch_exactly_once(terminals: SandboxServer) -> None:
    keys = read_keys(terminals, CONNECTOR.stream("punches"), None)
    expected = expected_punches(terminals.world)
    assert len(expected) == 6474
    assert sorted(keys) == sorted(punch_key(p) for p in expected)
    assert len(set(keys)) == len(keys)


def test_punch_keys_tell_double_taps_apart_and_ignore_the_direction() -> None:
    # The sandbox terminals always know the direction and never double-tap, so these cases are
    # written out: a tap without a direction keeps its key when the direction is filled in
    # later (a new version, not a second punch), and a double tap 41 s later is a second punch.
    tap = {"card_no": "9000025", "device_id": "T-L2-02", "punch_time": 1795045874}
    taps = [
        {**tap, "direction": None},
        {**tap, "direction": "in"},
        {**tap, "punch_time": 1795045915, "direction": None},
        {**tap, "device_id": "", "direction": "out"},
    ]
    with httpx.Client() as client:
        source = HttpSource("attendance", client)
        records, rejected = wrap_keyed(source, CONNECTOR.stream("punches"), taps, PUNCH_KEY, NOW)
    assert [r.record_key for r in records] == [
        "9000025|T-L2-02|1795045874",
        "9000025|T-L2-02|1795045874",
        "9000025|T-L2-02|1795045915",
    ]
    assert records[0].payload_sha256 != records[1].payload_sha256
    assert [(r.reason, r.detail) for r in rejected] == [
        ("missing_record_key", "record has no 'device_id'")
    ]


def test_a_day_with_more_punches_than_a_page_is_paged_to_its_end(
    terminals: SandboxServer,
) -> None:
    # One page holds 2000 punches; the sandbox's busiest day holds fewer, so ask for pages of
    # 25 to prove has_more paging over the real server.
    stream = replace(CONNECTOR.stream("punches"), paginator=OffsetPaginator(limit=25))
    source = CONNECTOR.connect(terminals.endpoints)
    try:
        keys = [
            r.record_key
            for page in source.read(stream, {"through": "2026-11-20"})
            for r in page.records
        ]
    finally:
        source.close()
    expected = expected_punches(terminals.world, date(2026, 11, 17))
    assert sorted(keys) == sorted(punch_key(p) for p in expected)
    # 6 days (17..22); a day is one request when empty, else ceil(n / 25).
    per_day = Counter(local_day(p) for p in expected)
    counts = [per_day.get(AS_OF - timedelta(days=k), 0) for k in range(6)]
    assert counts == [0, 0, 46, 44, 44, 40]
    assert source.requests_made == sum(max(1, math.ceil(n / 25)) for n in counts) == 10


def test_landing_twice_lands_nothing_new_and_pulls_only_the_lookback(
    terminals: SandboxServer, stores: Stores
) -> None:
    source = CONNECTOR.connect(terminals.endpoints)
    try:
        runs = {
            stream.name: (
                land_stream(stores.hub, source, stream, "run-1"),
                land_stream(stores.hub, source, stream, "run-2"),
            )
            for stream in CONNECTOR.streams
        }
    finally:
        source.close()
    world = terminals.world
    shifts = expected_shift_keys(world, world.periods)
    punches = expected_punches(world)
    first, second = runs["shifts"]
    assert (first.pulled, first.landed) == (len(shifts), len(shifts))
    # November is asked for again, and only the lookback's days (from 2026-11-19) are landed.
    lookback_shifts = [
        k for k in expected_shift_keys(world, ["2026-11"]) if k[-10:] >= "2026-11-19"
    ]
    assert len(lookback_shifts) == 4 * len({k.split("|")[0] for k in lookback_shifts})
    assert (second.pulled, second.landed, second.changed) == (len(lookback_shifts), 0, 0)
    first, second = runs["punches"]
    assert (first.pulled, first.landed, first.rejected) == (len(punches), len(punches), 0)
    lookback = expected_punches(world, date(2026, 11, 19))
    assert len(lookback) == 90
    assert (second.pulled, second.landed, second.changed) == (len(lookback), 0, 0)
    with Session(stores.hub) as session:
        for name in ("shifts", "punches"):
            state = load_state(session, "attendance", name)
            assert state is not None and state["through"] == "2026-11-22"


def test_a_wrong_password_fails_clearly_without_the_password(terminals: SandboxServer) -> None:
    wrong = "not-the-terminal-password"
    source = CONNECTOR.connect({**terminals.endpoints, "KPIHUB_ATTENDANCE_PASSWORD": wrong})
    try:
        with pytest.raises(AuthError) as caught:
            list(source.read(CONNECTOR.stream("punches"), None))
    finally:
        source.close()
    message = str(caught.value)
    assert message == "attendance: authentication failed: HTTP 401"
    assert wrong not in message
    assert terminals.endpoints["KPIHUB_ATTENDANCE_PASSWORD"] not in message
    assert source.requests_made == 1


class Unavailable503(httpx.BaseTransport):
    """A stand-in for a terminal server that is briefly down, in front of the real sandbox
    server: the requests numbered in ``failing`` get HTTP 503, the rest go through."""

    def __init__(self, failing: set[int]) -> None:
        self.inner = httpx.HTTPTransport()
        self.failing = failing
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.requests in self.failing:
            return httpx.Response(503)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_a_503_is_retried_and_nothing_is_lost(terminals: SandboxServer) -> None:
    endpoints = terminals.endpoints
    transport = Unavailable503({1, 3})
    source = open_attendance(
        endpoints["KPIHUB_ATTENDANCE_BASE_URL"],
        endpoints["KPIHUB_ATTENDANCE_USERNAME"],
        endpoints["KPIHUB_ATTENDANCE_PASSWORD"],
        transport=transport,
    )
    source.retry = RetryPolicy(attempts=3, sleep=lambda _: None)
    try:
        pages = list(source.read(CONNECTOR.stream("punches"), {"through": "2026-11-20"}))
    finally:
        source.close()
    keys = sorted(r.record_key for page in pages for r in page.records)
    assert keys == sorted(
        punch_key(p) for p in expected_punches(terminals.world, date(2026, 11, 17))
    )
    # Six days of one page each, plus the two refused attempts.
    assert source.requests_made == transport.requests == 8


def test_the_connector_is_registered_with_its_environment() -> None:
    from connectors.registry import get

    connector = get("attendance")
    assert connector is CONNECTOR
    assert connector.env.names() == (
        "KPIHUB_ATTENDANCE_BASE_URL",
        "KPIHUB_ATTENDANCE_USERNAME",
        "KPIHUB_ATTENDANCE_PASSWORD",
    )
    assert [s.name for s in connector.streams] == ["shifts", "punches"]
    assert connector.mapping is not None


def test_a_flaky_terminal_server_loses_and_doubles_nothing() -> None:
    world = generate_world(SEED, EMPLOYEES, AS_OF)
    with SandboxServer(world, systems=("attendance",), faults="none,attendance=flaky") as server:
        source = CONNECTOR.connect(server.endpoints)
        source.retry = RetryPolicy(sleep=lambda _: None)
        try:
            keys = [
                r.record_key
                for p in source.read(CONNECTOR.stream("punches"), None)
                for r in p.records
            ]
        finally:
            source.close()
        injected = len(server.injectors["attendance"].events)
    assert injected > 0
    assert sorted(keys) == sorted(punch_key(p) for p in expected_punches(world))
