"""The DingTalk connector against the sandbox twin over real HTTP: directory, attendance results,
leave status and approvals counted exactly against the sandbox company's own model; incremental
pulls; token expiry in the middle of a run. Rate limiting (90018) and "system busy" (-1) are not
produced by the twin on demand, so those are tested on a stand-in server behind
``httpx.MockTransport`` that speaks DingTalk's envelope, with the connector's real client."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.dingtalk import CONNECTOR
from connectors.dingtalk.client import open_dingtalk
from connectors.sdk import HttpSource, StreamError
from connectors.sdk.stream import Page
from pipelines.landing import land_stream
from pipelines.stores import Stores
from sandbox.clock import SHANGHAI, epoch_ms, local
from sandbox.model import World, generate_world
from sandbox.serving import SandboxServer
from schemas.envelope import RawRecord
from schemas.tables import RecordHead

AS_OF = date(2026, 11, 22)
SEED = 7
EMPLOYEES = 15
# The hub keeps six months of history (from 2026-05-01); DingTalk keeps about 180 days of
# attendance results, so attendance starts later than leave and approvals.
HISTORY_START = date(2026, 5, 1)
ATTENDANCE_START = AS_OF - timedelta(days=180)


@pytest.fixture(autouse=True)
def _sandbox_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPIHUB_TODAY", AS_OF.isoformat())
    monkeypatch.delenv("KPIHUB_DINGTALK_PROCESS_CODES", raising=False)


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(SEED, EMPLOYEES, AS_OF)


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[SandboxServer]:
    with SandboxServer(world, systems=("dingtalk",)) as running:
        yield running


class Recorder:
    """The requests a source made, read from the real client's event hook."""

    def __init__(self, source: HttpSource) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        source.client.event_hooks["request"].append(self._record)

    def _record(self, request: httpx.Request) -> None:
        body = json.loads(request.content) if request.content else {}
        self.requests.append((request.url.path, body))

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [body for p, body in self.requests if p == path]

    def count(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)


def pull(
    server: SandboxServer,
    stream: str,
    state: dict[str, Any] | None = None,
) -> tuple[list[RawRecord], list[Page], Recorder]:
    source = CONNECTOR.connect(server.endpoints)
    recorder = Recorder(source)
    records: list[RawRecord] = []
    pages: list[Page] = []
    try:
        for page in source.read(CONNECTOR.stream(stream), state):
            pages.append(page)
            records.extend(page.records)
    finally:
        source.close()
    assert all(not page.rejected for page in pages)
    return records, pages, recorder


def office_days(world: World, first: date, last: date) -> Iterator[tuple[str, Any]]:
    """(userid, day record) of every office person's scheduled day in ``first``..``last``."""
    day = first
    while day <= last:
        for record in world.attendance.on(day):
            person = world.employee(record.job_number)
            if person is not None and not person.uses_terminals:
                yield person.userid, record
        day += timedelta(days=1)


def local_day(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, SHANGHAI).date()


def window_ms(first: date, last: date) -> tuple[int, int]:
    return epoch_ms(local(first, 0)), epoch_ms(local(last + timedelta(days=1), 0))


def test_people_in_two_departments_are_landed_once(world: World, server: SandboxServer) -> None:
    records, _, recorder = pull(server, "users")
    keys = [r.record_key for r in records]
    twice = [e.userid for e in world.employees if len(e.dept_ids) > 1]
    assert len(twice) == 2
    assert sorted(keys) == sorted(e.userid for e in world.employees)
    # Both of their departments were listed (the root included), and each was kept once.
    listed = [b["dept_id"] for b in recorder.bodies("/topapi/v2/user/list") if b["cursor"] == 0]
    assert sorted(listed) == sorted(d.dept_id for d in world.departments)
    assert all(keys.count(userid) == 1 for userid in twice)


def test_attendance_results_are_every_punch_point_of_the_last_180_days(
    world: World, server: SandboxServer
) -> None:
    records, pages, recorder = pull(server, "attendance")
    model = list(office_days(world, ATTENDANCE_START, AS_OF))
    expected = Counter(
        (userid, day.day, check) for userid, day in model for check in ("OnDuty", "OffDuty")
    )
    pulled = Counter(
        (r.payload["userId"], local_day(r.payload["workDate"]), r.payload["checkType"])
        for r in records
    )
    assert len(records) == 2 * len(model) == 2322
    assert pulled == expected
    late = sum(1 for r in records if r.payload["timeResult"] in ("Late", "SeriousLate"))
    assert late == sum(1 for _, day in model if day.late)
    # The company's history reaches further back than DingTalk keeps: the start was clamped.
    assert list(office_days(world, HISTORY_START, ATTENDANCE_START - timedelta(days=1)))
    requests = recorder.bodies("/attendance/list")
    # Windows are asked for side by side: the first and last are the earliest and the latest.
    assert min(b["workDateFrom"] for b in requests) == f"{ATTENDANCE_START} 00:00:00"
    assert max(b["workDateTo"] for b in requests) == f"{AS_OF} 00:00:00"
    for body in requests:
        first = date.fromisoformat(body["workDateFrom"][:10])
        last = date.fromisoformat(body["workDateTo"][:10])
        assert (last - first).days + 1 <= 7
        assert len(body["userIdList"]) <= 50 and body["limit"] <= 50
    # The state moves only with the final page.
    assert [p.state for p in pages[:-1]] == [{}] * (len(pages) - 1)
    assert pages[-1].final and pages[-1].state == {"through": AS_OF.isoformat()}


def test_attendance_record_keys_are_unique(server: SandboxServer) -> None:
    records, _, _ = pull(server, "attendance", {"through": AS_OF.isoformat()})
    assert len({r.record_key for r in records}) == len(records)


def leaves_between(world: World, first: date, last: date) -> set[str]:
    start, end = local(first, 0), local(last + timedelta(days=1), 0)
    return {
        f"{leave.userid}|{epoch_ms(leave.start)}|{epoch_ms(leave.end)}"
        for period in world.periods
        for leave in world.attendance.month(period).leaves
        if leave.start < end and leave.end > start
    }


def test_leave_status_is_every_leave_of_the_history(world: World, server: SandboxServer) -> None:
    records, _, recorder = pull(server, "leave_status")
    expected = leaves_between(world, HISTORY_START, AS_OF)
    assert len(records) == len(expected) == 65
    assert {r.record_key for r in records} == expected
    requests = recorder.bodies("/topapi/attendance/getleavestatus")
    # 2026-05-01..2026-11-22 is more than 180 days: two windows, one batch of users each.
    assert sorted({(b["start_time"], b["end_time"]) for b in requests}) == [
        window_ms(HISTORY_START, HISTORY_START + timedelta(days=179)),
        window_ms(HISTORY_START + timedelta(days=180), AS_OF),
    ]
    assert all(len(b["userid_list"].split(",")) == EMPLOYEES and b["size"] <= 20 for b in requests)


def approvals_between(world: World, first: date, last: date) -> dict[str, Any]:
    start, end = local(first, 0), local(last + timedelta(days=1), 0)
    return {
        a.instance_id: a
        for period in world.periods
        for a in world.attendance.month(period).approvals
        if start <= a.created < end
    }


def test_approvals_are_every_instance_with_its_detail(world: World, server: SandboxServer) -> None:
    records, _, recorder = pull(server, "approvals")
    expected = approvals_between(world, HISTORY_START, AS_OF)
    assert len(records) == len(expected) == 86
    assert {r.record_key for r in records} == set(expected)
    for record in records:
        model = expected[record.record_key]
        payload = record.payload
        assert payload["process_instance_id"] == model.instance_id
        assert (payload["originator_userid"], payload["status"], payload["result"]) == (
            model.originator_userid,
            model.status,
            model.result,
        )
        assert payload["create_time"] == model.created.strftime("%Y-%m-%d %H:%M:%S")
        assert record.source_updated_at == model.finished
    assert recorder.count("/topapi/processinstance/get") == 86
    codes = Counter(b["process_code"] for b in recorder.bodies("/topapi/processinstance/listids"))
    assert set(codes) == {"PROC-LEAVE", "PROC-TRIP"}
    assert Counter(a.process_code for a in expected.values()) == Counter(
        {"PROC-LEAVE": 72, "PROC-TRIP": 14}
    )


def test_a_later_pull_asks_only_for_the_lookback_window(
    world: World, server: SandboxServer
) -> None:
    state = {"through": "2026-11-15"}
    first = date(2026, 11, 12)  # three days of lookback

    attendance, _, recorder = pull(server, "attendance", state)
    windows = sorted(
        {
            (b["workDateFrom"][:10], b["workDateTo"][:10])
            for b in recorder.bodies("/attendance/list")
        }
    )
    assert windows == [("2026-11-12", "2026-11-18"), ("2026-11-19", "2026-11-22")]
    assert len(attendance) == 2 * len(list(office_days(world, first, AS_OF)))

    leaves, _, recorder = pull(server, "leave_status", state)
    asked = {(b["start_time"], b["end_time"]) for b in recorder.bodies(
        "/topapi/attendance/getleavestatus")}  # fmt: skip
    assert asked == {window_ms(first, AS_OF)}
    assert {r.record_key for r in leaves} == leaves_between(world, first, AS_OF)

    approvals, _, recorder = pull(server, "approvals", state)
    asked = {
        (b["process_code"], b["start_time"], b["end_time"])
        for b in recorder.bodies("/topapi/processinstance/listids")
    }
    assert asked == {(code, *window_ms(first, AS_OF)) for code in ("PROC-LEAVE", "PROC-TRIP")}
    assert {r.record_key for r in approvals} == set(approvals_between(world, first, AS_OF))


@pytest.mark.parametrize(
    "stream",
    [
        "departments",
        "users",
        "attendance",
        "leave_status",
        "approvals",
    ],
)
def test_a_second_pull_lands_no_new_versions(
    stores: Stores, world: World, server: SandboxServer, stream: str
) -> None:
    declared = CONNECTOR.stream(stream)
    source = CONNECTOR.connect(server.endpoints)
    try:
        first = land_stream(stores.hub, source, declared, "run-1")
        second = land_stream(stores.hub, source, declared, "run-2")
    finally:
        source.close()
    expected = {
        "departments": len(world.departments) - 1,  # the root is not its own child
        "users": EMPLOYEES,
        "attendance": 2322,
        "leave_status": 65,
        "approvals": 86,
    }[stream]
    assert first.landed == expected
    assert (second.landed, second.changed, second.rejected) == (0, 0, 0)
    with Session(stores.hub) as session:
        heads = session.scalar(
            select(func.count()).where(RecordHead.source == "dingtalk", RecordHead.stream == stream)
        )
    assert heads == expected
    if stream in ("attendance", "leave_status", "approvals"):
        assert second.pulled < first.pulled


MAIN_PATHS = {
    "attendance": "/attendance/list",
    "leave_status": "/topapi/attendance/getleavestatus",
    "approvals": "/topapi/processinstance/get",
}


@pytest.mark.parametrize(
    ("stream", "expected"), [("attendance", 2322), ("leave_status", 65), ("approvals", 86)]
)
def test_tokens_expired_mid_run_are_refreshed(world: World, stream: str, expected: int) -> None:
    """attendance/list answers a flat 40014, the /topapi calls a 40014 wrapped under 88. The
    tokens expire just before the stream's first call to its own API goes out, while other
    calls are in flight beside it: each of them is refused, and one refresh serves them all."""
    with SandboxServer(world, systems=("dingtalk",)) as own:
        source = CONNECTOR.connect(own.endpoints)
        recorder = Recorder(source)
        expired: list[str] = []

        def expire_once(request: httpx.Request) -> None:
            if request.url.path == MAIN_PATHS[stream] and not expired:
                expired.append(request.url.path)
                httpx.post(f"{own.dingtalk.url}/_sandbox/tokens/expire").raise_for_status()

        source.client.event_hooks["request"].append(expire_once)
        try:
            records = [r for page in source.read(CONNECTOR.stream(stream)) for r in page.records]
        finally:
            source.close()
    assert expired and len(records) == expected
    assert recorder.count("/gettoken") == 2


# ---- a stand-in server for the codes the twin does not produce on demand ----------------------

KEY, SECRET = "ding-stand-in", "stand-in-secret"


def ok(**body: Any) -> dict[str, Any]:
    return {"errcode": 0, "errmsg": "ok", **body}


def flat(code: int | str) -> dict[str, Any]:
    return {"errcode": code, "errmsg": "error"}


def wrapped(code: int) -> dict[str, Any]:
    return {"errcode": 88, "sub_code": str(code), "sub_msg": "error", "errmsg": "error"}


class StandIn:
    """A DingTalk stand-in: ``gettoken`` always works; each data path answers its scripted bodies
    in order, then ``default`` for that path. Every request is kept."""

    def __init__(self, scripts: dict[str, list[dict[str, Any]]]) -> None:
        self.scripts = {path: list(bodies) for path, bodies in scripts.items()}
        self.calls: list[str] = []
        self.tokens = 0
        self.waits: list[float] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls.append(path)
        if path == "/gettoken":
            self.tokens += 1
            return httpx.Response(200, json=ok(access_token=f"t{self.tokens}", expires_in=7200))
        script = self.scripts.get(path) or []
        if not script:
            return httpx.Response(404, json={"errcode": 404})
        body = script.pop(0) if len(script) > 1 else script[0]
        return httpx.Response(200, json=body)

    def source(self) -> HttpSource:
        source = open_dingtalk(
            "http://dingtalk.stand-in", KEY, SECRET, transport=httpx.MockTransport(self.handle)
        )
        source.rate = None
        source.retry = replace(source.retry, sleep=self.waits.append)
        return source

    def calls_to(self, path: str) -> int:
        return self.calls.count(path)


LISTSUB = "/topapi/v2/department/listsub"


def call(stand_in: StandIn, path: str = LISTSUB) -> Any:
    source = stand_in.source()
    try:
        return source.request_json("POST", path, body={"dept_id": 1}, stream="departments", page=3)
    finally:
        source.close()


@pytest.mark.parametrize("refusal", [flat(90018), wrapped(90018)])
def test_rate_limit_90018_waits_a_second_and_retries(refusal: dict[str, Any]) -> None:
    stand_in = StandIn({LISTSUB: [refusal, ok(result=[{"dept_id": 2}])]})
    assert call(stand_in)["result"] == [{"dept_id": 2}]
    assert stand_in.waits == [1.0]
    assert stand_in.calls_to(LISTSUB) == 2


def test_system_busy_is_retried_up_to_three_times() -> None:
    stand_in = StandIn({LISTSUB: [flat(-1), flat("-1"), wrapped(-1), ok(result=[])]})
    assert call(stand_in)["result"] == []
    assert len(stand_in.waits) == 3
    assert stand_in.calls_to(LISTSUB) == 4


def test_system_busy_a_fourth_time_fails_the_page() -> None:
    stand_in = StandIn({LISTSUB: [flat(-1)]})
    with pytest.raises(StreamError) as caught:
        call(stand_in)
    assert str(caught.value) == (
        "dingtalk/departments page 3: DingTalk still busy (errcode -1) after 3 retries"
    )
    assert stand_in.calls_to(LISTSUB) == 4


@pytest.mark.parametrize(
    ("refusal", "code"), [(flat(41041), 41041), (wrapped(60003), 60003), (flat("90002"), 90002)]
)
def test_other_errors_in_a_200_envelope_fail_without_retry(
    refusal: dict[str, Any], code: int
) -> None:
    stand_in = StandIn({LISTSUB: [refusal]})
    with pytest.raises(StreamError) as caught:
        call(stand_in)
    assert str(caught.value) == f"dingtalk/departments page 3: DingTalk errcode {code}"
    assert stand_in.calls_to(LISTSUB) == 1
    assert stand_in.waits == []


@pytest.mark.parametrize("refusal", [flat(40014), wrapped(42001), flat("40001"), wrapped(33001)])
def test_a_token_error_refreshes_the_token_once(refusal: dict[str, Any]) -> None:
    stand_in = StandIn({LISTSUB: [refusal, ok(result=[])]})
    assert call(stand_in)["result"] == []
    assert stand_in.tokens == 2
    assert stand_in.calls_to(LISTSUB) == 2


def test_a_token_refused_again_just_after_its_refresh_is_refreshed_again() -> None:
    # Expired twice in a row (the sandbox's hostile profile does this): still one logical call.
    stand_in = StandIn({LISTSUB: [wrapped(40014), flat(40014), ok(result=[])]})
    assert call(stand_in)["result"] == []
    assert stand_in.tokens == 3
    assert stand_in.calls_to(LISTSUB) == 3
    assert stand_in.waits == []


def test_a_token_always_refused_ends_within_the_retry_budget() -> None:
    stand_in = StandIn({LISTSUB: [wrapped(40014)]})
    with pytest.raises(StreamError) as caught:
        call(stand_in)
    assert str(caught.value) == (
        "dingtalk/departments page 3: gave up after retries: "
        "the token was rejected again after 2 refreshes"
    )
    # Six attempts of the policy, each sending the call with its token and two refreshed ones.
    assert stand_in.calls_to(LISTSUB) == 18
    assert stand_in.tokens == 18
    assert len(stand_in.waits) == 5


def test_a_gettoken_that_fails_is_retried_and_the_call_goes_through() -> None:
    stand_in = StandIn({LISTSUB: [ok(result=[{"dept_id": 2}])]})
    answers = [httpx.Response(503, text="busy"), httpx.Response(200, json=flat(-1))]
    handle = stand_in.handle

    def flaky_gettoken(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/gettoken" and answers:
            stand_in.calls.append("/gettoken")
            return answers.pop(0)
        return handle(request)

    source = open_dingtalk(
        "http://dingtalk.stand-in", KEY, SECRET, transport=httpx.MockTransport(flaky_gettoken)
    )
    source.rate = None
    waits: list[float] = []
    source.client.auth.retry = replace(source.client.auth.retry, sleep=waits.append)  # type: ignore[attr-defined]
    try:
        body = source.request_json("POST", LISTSUB, body={"dept_id": 1}, stream="departments")
    finally:
        source.close()
    assert body["result"] == [{"dept_id": 2}]
    assert stand_in.calls == ["/gettoken", "/gettoken", "/gettoken", LISTSUB]
    assert len(waits) == 2


def test_numbers_and_booleans_sent_as_strings_are_read() -> None:
    """``"errcode": "0"``, ``"hasMore": "true"`` and string ids page and validate like real ones."""

    def punch(n: int) -> dict[str, Any]:
        return {"id": str(n), "userId": "u1", "workDate": "1795276800000", "checkType": "OnDuty",
                "timeResult": "Normal", "userCheckTime": "1795305600000"}  # fmt: skip

    stand_in = StandIn(
        {
            LISTSUB: [{"errcode": "0", "result": []}],
            "/topapi/v2/user/list": [
                ok(result={"has_more": "false", "list": [{"userid": "u1", "name": "A"}]})
            ],
            "/attendance/list": [
                {"errcode": "0", "hasMore": "true", "recordresult": [punch(1), punch(2)]},
                {"errcode": "0", "hasMore": "false", "recordresult": [punch(3)]},
            ],
        }
    )
    source = stand_in.source()
    try:
        pages = list(source.read(CONNECTOR.stream("attendance"), {"through": "2026-11-22"}))
    finally:
        source.close()
    records = [r for p in pages for r in p.records]
    assert [r.record_key for r in records] == ["1", "2", "3"]
    assert all(not p.rejected for p in pages)
    # One window (2026-11-19..22): the "true" page is followed, the "false" page ends it.
    assert stand_in.calls_to("/attendance/list") == 2
