"""DingTalk at its budget: each API has a budget of its own, the readers keep several requests in
flight within it, and what they hand over is exactly what a reader one request at a time hands
over. A clean pull meets no 90018, and the budgets say how much of each limit a pull used."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

import httpx
import pytest

from connectors.dingtalk import CONNECTOR
from connectors.dingtalk.client import (
    PER_WINDOW,
    REQUESTS_PER_SECOND,
    WORKERS,
    budget_usage,
    open_dingtalk,
)
from connectors.sdk import HttpSource
from connectors.sdk.parallel import ahead_of, in_order
from connectors.sdk.rate import RateBudget
from connectors.sdk.stream import Page
from sandbox.apps.limits import SlidingWindowLimiter
from sandbox.model import World, generate_world
from sandbox.serving import SandboxServer

AS_OF = date(2026, 11, 22)
STREAMS = ("departments", "users", "attendance", "leave_status", "approvals")


@pytest.fixture(autouse=True)
def _sandbox_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPIHUB_TODAY", AS_OF.isoformat())
    monkeypatch.setenv("KPIHUB_HISTORY_MONTHS", "1")
    monkeypatch.delenv("KPIHUB_DINGTALK_PROCESS_CODES", raising=False)


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(5, 60, AS_OF)


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[SandboxServer]:
    with SandboxServer(world, systems=("dingtalk",)) as running:
        yield running


def is_throttled(response: httpx.Response) -> bool:
    response.read()
    try:
        body = response.json()
    except ValueError:
        return False
    codes = (
        {str(body.get("errcode")), str(body.get("sub_code"))} if isinstance(body, dict) else set()
    )
    return "90018" in codes


class Wire:
    """Every request a source sent, by path, and the answers that said 90018."""

    def __init__(self, source: HttpSource) -> None:
        self.sent: Counter[str] = Counter()
        self.throttled = 0
        source.client.event_hooks["request"].append(self._sent)
        source.client.event_hooks["response"].append(self._answered)

    def _sent(self, request: httpx.Request) -> None:
        self.sent[request.url.path] += 1

    def _answered(self, response: httpx.Response) -> None:
        self.throttled += is_throttled(response)


def comparable(pages: list[Page]) -> list[tuple[Any, ...]]:
    """A page as landing sees it, but for the moment each record was fetched."""
    return [
        (
            p.number,
            p.final,
            json.dumps(p.state, sort_keys=True),
            [(r.record_key, r.payload_sha256, r.source_updated_at) for r in p.records],
            [(x.reason, x.detail) for x in p.rejected],
        )
        for p in pages
    ]


def read(server: SandboxServer, stream: str, workers: int) -> tuple[list[Page], Wire]:
    source = CONNECTOR.connect(server.endpoints)
    assert isinstance(source, HttpSource)
    source.workers = workers
    wire = Wire(source)
    try:
        return list(source.read(CONNECTOR.stream(stream))), wire
    finally:
        source.close()


@pytest.mark.parametrize("stream", STREAMS)
def test_pages_read_side_by_side_are_the_pages_read_one_after_another(
    server: SandboxServer, stream: str
) -> None:
    one_by_one, _ = read(server, stream, workers=1)
    side_by_side, wire = read(server, stream, workers=WORKERS)
    assert comparable(side_by_side) == comparable(one_by_one)
    assert sum(len(p.records) for p in side_by_side) > 0
    assert wire.throttled == 0


def test_a_clean_pull_meets_no_90018_and_reports_each_apis_budget(server: SandboxServer) -> None:
    RateBudget.reset_usage()
    sent: Counter[str] = Counter()
    throttled = 0
    for stream in ("attendance", "approvals"):
        _, wire = read(server, stream, workers=WORKERS)
        sent.update(wire.sent)
        throttled += wire.throttled
    assert throttled == 0
    here = f"@{httpx.URL(server.dingtalk.url).netloc.decode()} "
    usage = {k: u for k, u in budget_usage().items() if here in k}
    by_path = {key.split(" ")[0].removeprefix("dingtalk"): use for key, use in usage.items()}
    # Every API called has a budget of its own that counted exactly its calls; gettoken none.
    assert {path: use.calls for path, use in by_path.items() if use.calls} == {
        path: n for path, n in sent.items() if path != "/gettoken"
    }
    for use in usage.values():
        assert use.per_second == REQUESTS_PER_SECOND
        assert use.throttled == 0
        assert use.used <= 1.05
    # The busiest APIs ran at nearly their whole budget: the listing of approvals ran beside
    # their details without holding them up.
    for path in ("/attendance/list", "/topapi/processinstance/get"):
        assert by_path[path].used >= 0.85, by_path[path]


def test_a_throttled_answer_is_counted_against_the_budget_that_paced_it() -> None:
    answers = [{"errcode": 88, "sub_code": "90018", "errmsg": "too fast"}]

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/gettoken":
            return httpx.Response(200, json={"errcode": 0, "access_token": "t", "expires_in": 7200})
        body = answers.pop() if answers else {"errcode": 0, "result": []}
        return httpx.Response(200, json=body)

    transport = httpx.MockTransport(handle)
    source = open_dingtalk("http://throttled.stand-in", "k", "s", transport=transport)
    source.retry = replace(source.retry, sleep=lambda _: None)
    try:
        source.request_json("POST", "/topapi/v2/department/listsub", body={"dept_id": 1})
    finally:
        source.close()
    (use,) = [u for k, u in budget_usage().items() if "throttled.stand-in" in k]
    assert (use.calls, use.throttled) == (2, 1)
    assert source.throttled_answers == 1


# ---- the budget itself ---------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_calls_back_to_back_use_the_whole_budget_and_pauses_are_not_counted() -> None:
    clock = FakeClock()
    budget = RateBudget(10, key="k", clock=clock, sleep=clock.sleep)
    for _ in range(10):
        budget.acquire().answered()
    use = budget.use()
    assert (use.calls, round(use.seconds, 6), use.per_second) == (10, 1.0, 10.0)
    assert use.used == pytest.approx(1.0)
    clock.now += 60  # another stream runs meanwhile: not budget left unspent
    for _ in range(5):
        budget.acquire().answered()
        clock.now += 0.2  # the caller is slower than the budget: half of it used
    use = budget.use()
    assert use.calls == 15 and round(use.seconds, 6) == round(1.0 + 4 * 0.2 + 0.1, 6)
    budget.reset()
    assert budget.use().calls == 0 and budget.use().used == 0.0


def test_a_source_slow_to_answer_shows_as_budget_unspent() -> None:
    clock = FakeClock()
    budget = RateBudget(10, key="k", clock=clock, sleep=clock.sleep)
    calls = [budget.acquire() for _ in range(4)]
    clock.now += 3.0  # all four in flight for three seconds
    for call in calls:
        call.answered()
    use = budget.use()
    assert round(use.seconds, 6) == 3.3 and round(use.used, 3) == round(4 / 3.3 / 10, 3)


def test_shared_budgets_are_listed_by_key() -> None:
    one = RateBudget.shared("test/one", 5)
    assert RateBudget.shared("test/one", 5) is one
    one.acquire()
    one.throttled()
    use = RateBudget.usage()["test/one"]
    assert (use.key, use.calls, use.per_second, use.throttled) == ("test/one", 1, 5.0, 1)


@pytest.mark.parametrize("per_window", [5, None])
def test_a_window_limit_holds_however_calls_bunch_up_on_their_way(per_window: int | None) -> None:
    """The source counts at most 5 calls in any 0.2 s. Every tenth call is held up on its way
    long enough for the ones behind it to catch up: even spacing alone is then counted over the
    limit, the window limit never."""
    limiter = SlidingWindowLimiter(5, 0.2)
    budget = RateBudget(25, per_window=per_window, window=0.2)
    refused: list[int] = []
    numbers = iter(range(60))
    lock = threading.Lock()
    rng = random.Random(3)

    def caller() -> None:
        while True:
            with lock:
                n = next(numbers, None)
                back = rng.uniform(0.0, 0.03)
            if n is None:
                return
            call = budget.acquire()
            time.sleep(0.1 if n % 10 == 0 else 0.0)
            if limiter.check("api") is not None:
                refused.append(n)
            time.sleep(back)
            call.answered()

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if per_window is None:
        assert refused
    else:
        assert refused == []


def test_dingtalk_budgets_stay_within_its_documented_limit() -> None:
    assert REQUESTS_PER_SECOND <= 20 and PER_WINDOW <= 20


# ---- side by side, in order ----------------------------------------------------------------


def test_results_come_in_the_tasks_order_and_an_error_in_its_turn() -> None:
    def task(n: int) -> int:
        time.sleep(random.Random(n).uniform(0, 0.02))
        if n == 7:
            raise ValueError("seven")
        return n

    got: list[int] = []
    with pytest.raises(ValueError, match="seven"):
        for n in in_order(((lambda n=n: task(n)) for n in range(20)), workers=4):
            got.append(n)
    assert got == list(range(7))


def test_a_failing_task_list_fails_after_the_tasks_it_gave() -> None:
    def tasks() -> Iterator[Any]:
        for n in range(5):
            yield lambda n=n: n
        raise RuntimeError("listing failed")

    got: list[int] = []
    with pytest.raises(RuntimeError, match="listing failed"):
        for n in in_order(tasks(), workers=3):
            got.append(n)
    assert got == [0, 1, 2, 3, 4]


def test_closing_early_starts_no_more_tasks() -> None:
    started: list[int] = []

    def task(n: int) -> int:
        started.append(n)
        return n

    results = in_order(((lambda n=n: task(n)) for n in range(1000)), workers=2, ahead=4)
    assert next(results) == 0
    results.close()  # type: ignore[attr-defined]
    assert len(started) <= 6


def test_a_walk_ahead_hands_over_its_items_then_its_error() -> None:
    def walk() -> Iterator[int]:
        yield from range(3)
        raise LookupError("cursor repeated")

    got: list[int] = []
    with pytest.raises(LookupError):
        for n in ahead_of(walk(), buffer=2):
            got.append(n)
    assert got == [0, 1, 2]
