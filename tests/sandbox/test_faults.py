"""Fault injection over real loopback HTTP: each profile shows the faults it names, as a plain
client sees them; the same seed replays them byte for byte; and a client that retries by the
rules of sandbox.faults ends with exactly the bytes a clean server gives."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest

from sandbox.apps.plant import served_page
from sandbox.faults import (
    LATENCY,
    PAGE_SHIFT_KIND,
    RATE_LIMITED,
    RESET,
    SERVER_ERROR,
    SYSTEM_KINDS,
    TOKEN_EXPIRY,
    TRUNCATED,
    FaultPlan,
)
from sandbox.model import World, generate_world
from sandbox.serving import SandboxServer

AS_OF = date(2026, 11, 22)
PERIOD = "2026-10"
HTTP_SYSTEMS = ("crm", "dingtalk", "qms", "attendance")
# Paces below each system's own rate limit, so every refusal a test sees is an injected one.
PACE = {"crm": 0.12, "dingtalk": 0.06, "qms": 0.0, "attendance": 0.0}


def world(seed: int = 3) -> World:
    return generate_world(seed, 40, AS_OF)


def serve(seed: int, faults: str) -> SandboxServer:
    return SandboxServer(world(seed), systems=HTTP_SYSTEMS, faults=faults)


# --- the plan ---------------------------------------------------------------------------------


def test_a_plan_is_a_profile_with_per_system_overrides() -> None:
    plan = FaultPlan.parse("hostile, crm=none,qms=flaky")
    assert [plan.profile(s).name for s in HTTP_SYSTEMS] == ["none", "hostile", "flaky", "hostile"]
    assert str(plan) == "hostile,crm=none,qms=flaky"
    assert str(FaultPlan.parse("none,attendance=hostile")) == "none,attendance=hostile"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("wild", "faults 'wild': unknown profile 'wild' (one of none, flaky, hostile)"),
        (
            "hostile,erp=none",
            "faults 'hostile,erp=none': unknown system 'erp' "
            "(one of crm, dingtalk, qms, attendance)",
        ),
        (
            "crm=none,hostile",
            "faults 'crm=none,hostile': only the first item may be a bare profile; "
            "write the others as SYSTEM=PROFILE",
        ),
    ],
)
def test_a_bad_plan_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        FaultPlan.parse(text)
    assert str(raised.value) == message


def test_none_leaves_the_apps_unwrapped_and_overrides_spare_a_system() -> None:
    clean = serve(3, "none")
    assert clean.injectors == {}
    assert type(clean.qms.server.config.app).__name__ == "Starlette"
    mixed = serve(3, "hostile,crm=none")
    assert sorted(mixed.injectors) == ["attendance", "dingtalk", "qms"]
    assert type(mixed.crm.server.config.app).__name__ == "Starlette"


def test_a_shifted_page_repeats_or_skips_items_and_moves_the_total() -> None:
    items = list(range(10))
    assert served_page(items, 2, 3, False) == ([3, 4, 5], 10)
    assert served_page(items, 2, 3, False, 1) == ([2, 3, 4], 11)
    assert served_page(items, 2, 3, False, -2) == ([5, 6, 7], 8)
    assert served_page(items, 4, 3, False, -2) == ([], 8)


# --- a plain client that only observes -------------------------------------------------------


@dataclass
class Observer:
    """Asks a fixed sequence of requests of one system and classifies each answer by what a
    client can see; refreshes the token when told it expired, as any client must."""

    server: SandboxServer
    system: str
    seen: Counter[str] = field(default_factory=Counter)
    answers: list[str] = field(default_factory=list)
    token: str | None = None
    qms_total: int = 0

    def __post_init__(self) -> None:
        self.env = self.server.endpoints
        self.client = httpx.Client(timeout=10.0)
        # The total every unshifted page of the month says (the month has planted duplicates).
        month = list(self.server.world.plant.inspections(PERIOD))
        self.qms_total = served_page(month, 1, 150, True)[1]

    def close(self) -> None:
        self.client.close()

    def refresh(self) -> None:
        """Retried until it succeeds: token endpoints see 5xx and resets too."""
        while True:
            try:
                if self.system == "crm":
                    response = self.client.post(
                        f"{self.env['KPIHUB_CRM_BASE_URL']}/oauth/token",
                        data={
                            "grant_type": "client_credentials",
                            "client_id": self.env["KPIHUB_CRM_CLIENT_ID"],
                            "client_secret": self.env["KPIHUB_CRM_CLIENT_SECRET"],
                        },
                    )
                    if response.status_code == 200:
                        self.token = response.json()["access_token"]
                        return
                else:
                    body = self.client.get(
                        f"{self.env['KPIHUB_DINGTALK_BASE_URL']}/gettoken",
                        params={
                            "appkey": self.env["KPIHUB_DINGTALK_APP_KEY"],
                            "appsecret": self.env["KPIHUB_DINGTALK_APP_SECRET"],
                        },
                    ).json()
                    if body["errcode"] == 0:
                        self.token = body["access_token"]
                        return
            except (httpx.TransportError, ValueError):
                pass
            self.seen["token endpoint faulted"] += 1

    def request(self, n: int) -> httpx.Response:
        env, page = self.env, 1 + n % 5
        if self.system == "crm":
            return self.client.get(
                f"{env['KPIHUB_CRM_BASE_URL']}/api/v2/{('orders', 'leads')[n % 2]}",
                params={"limit": 20 + n % 7},
                headers={"Authorization": f"Bearer {self.token}"},
            )
        if self.system == "dingtalk":
            return self.client.post(
                f"{env['KPIHUB_DINGTALK_BASE_URL']}/topapi/v2/department/listsub"
                if n % 2
                else f"{env['KPIHUB_DINGTALK_BASE_URL']}/attendance/list",
                params={"access_token": self.token},
                json={"dept_id": 1}
                if n % 2
                else {
                    "workDateFrom": "2026-10-05 00:00:00",
                    "workDateTo": "2026-10-09 00:00:00",
                    "userIdList": [e.userid for e in self.server.world.employees[:20]],
                    "offset": 0,
                    "limit": 50,
                },
            )
        if self.system == "qms":
            return self.client.get(
                f"{env['KPIHUB_QMS_BASE_URL']}/qms/v1/inspections",
                params={"from": "2026-10-01", "to": "2026-10-31", "page": page, "page_size": 150},
                headers={"X-Api-Key": env["KPIHUB_QMS_API_KEY"]},
            )
        return self.client.get(
            f"{env['KPIHUB_ATTENDANCE_BASE_URL']}/att/api/punches",
            params={"date": f"2026-10-{1 + n % 20:02d}", "limit": 40},
            auth=(env["KPIHUB_ATTENDANCE_USERNAME"], env["KPIHUB_ATTENDANCE_PASSWORD"]),
        )

    def classify(self, response: httpx.Response) -> str:
        if response.status_code >= 500:
            return SERVER_ERROR
        if response.status_code == 429:
            return RATE_LIMITED
        if response.status_code == 401:
            return TOKEN_EXPIRY
        assert response.status_code == 200, response.text
        try:
            body = response.json()
        except ValueError:  # cut mid-JSON, or mid a multi-byte character
            return TRUNCATED
        if self.system == "dingtalk":
            code = int(body.get("sub_code") or body["errcode"])
            return {0: "ok", -1: SERVER_ERROR, 90018: RATE_LIMITED, 40014: TOKEN_EXPIRY}[code]
        if self.system == "qms" and body["total"] != self.qms_total:
            return PAGE_SHIFT_KIND
        return "ok"

    def run(self, count: int) -> None:
        if self.system in ("crm", "dingtalk"):
            self.refresh()
        for n in range(count):
            try:
                response = self.request(n)
            except httpx.TransportError:
                kind = RESET
                self.answers.append(RESET)
            else:
                kind = self.classify(response)
                retry_after = response.headers.get("retry-after", "")
                self.answers.append(f"{response.status_code} {retry_after} {response.text}")
            self.seen[kind] += 1
            if kind == TOKEN_EXPIRY:
                self.refresh()
            time.sleep(PACE[self.system])


def observe(server: SandboxServer, system: str, count: int) -> Observer:
    observer = Observer(server, system)
    try:
        observer.run(count)
    finally:
        observer.close()
    return observer


def injected(server: SandboxServer, system: str) -> Counter[str]:
    """What the injector says it did, latency apart (a slow correct answer looks clean)."""
    return Counter(e.kind for e in server.injectors[system].events if e.kind != LATENCY)


# --- each profile shows the faults it names --------------------------------------------------


@pytest.mark.parametrize(("system", "count"), [("crm", 90), ("dingtalk", 90), ("qms", 120),
                                              ("attendance", 90)])  # fmt: skip
def test_hostile_shows_every_fault_of_the_system_as_a_client_sees_it(
    system: str, count: int
) -> None:
    with serve(3, "hostile") as server:
        observer = observe(server, system, count)
        events = server.injectors[system].events
    seen = Counter({k: v for k, v in observer.seen.items() if k != "ok"})
    token_faults = seen.pop("token endpoint faulted", 0)
    by_kind = Counter(e.kind for e in events)
    assert set(by_kind) == set(SYSTEM_KINDS[system]), by_kind
    # Every fault but latency is visible to a plain client, exactly as often as it was injected
    # on the requests it asked; faults on token requests are counted apart.
    on_tokens = [e for e in events if e.target.startswith(("/oauth/token", "/gettoken"))]
    assert {e.kind for e in on_tokens} <= {SERVER_ERROR, LATENCY, RESET}
    assert sum(1 for e in on_tokens if e.kind != LATENCY) == token_faults
    assert seen == injected(server, system) - Counter(e.kind for e in on_tokens)
    assert sum(seen.values()) + observer.seen["ok"] == count
    assert all(0.3 <= float(e.detail[:-1]) <= 1.0 for e in events if e.kind == LATENCY)


def test_flaky_is_occasional_and_only_the_kinds_it_names() -> None:
    with serve(3, "flaky") as server:
        observers = {s: observe(server, s, 150) for s in ("qms", "attendance")}
        counts = {s: server.injectors[s].counts() for s in ("qms", "attendance")}
    for system, observer in observers.items():
        assert set(counts[system]) <= {SERVER_ERROR, LATENCY, RESET}
        visible = Counter({k: v for k, v in observer.seen.items() if k != "ok"})
        assert visible == injected(server, system)
    total = sum(sum(c.values()) for c in counts.values())
    assert 3 <= total <= 45, counts  # about 1 in 20 of 300, with short bursts
    assert set(counts["qms"]) | set(counts["attendance"]) == {SERVER_ERROR, LATENCY, RESET}


def test_none_injects_nothing() -> None:
    with serve(3, "none") as server:
        seen = {s: observe(server, s, 40).seen for s in ("qms", "attendance")}
    assert seen == {"qms": Counter(ok=40), "attendance": Counter(ok=40)}


def test_a_connection_reset_is_a_transport_error_with_no_response() -> None:
    with serve(3, "hostile") as server:
        observer = observe(server, "qms", 40)
        resets = [e.n for e in server.injectors["qms"].events if e.kind == RESET]
    assert resets, "the sequence must include a reset for this test to mean anything"
    assert observer.answers.count(RESET) == len(resets)
    assert [n for n, a in enumerate(observer.answers, start=1) if a == RESET] == resets


# --- replayable ------------------------------------------------------------------------------


def replay(seed: int) -> tuple[list[str], list[dict[str, Any]]]:
    with serve(seed, "hostile") as server:
        answers: list[str] = []
        for system in ("qms", "attendance", "crm"):
            answers += observe(server, system, 50 if system != "crm" else 40).answers
        events = [
            {"system": s, **e.as_dict()} for s, i in server.injectors.items() for e in i.events
        ]
    return answers, events


def test_the_same_seed_replays_the_same_faults_byte_for_byte() -> None:
    first, again, other = replay(3), replay(3), replay(4)
    assert first[1], "the sequence must contain faults"
    assert first == again
    assert [e["kind"] for e in first[1]] != [e["kind"] for e in other[1]]


# --- a correct client lands what a clean run lands ------------------------------------------


class Retrying:
    """A client that follows the rules of sandbox.faults: at most 6 attempts per request,
    a fresh token on 401 / 40014, a page asked again when the QMS total moves."""

    ATTEMPTS = 6

    def __init__(self, server: SandboxServer) -> None:
        self.env = server.endpoints
        self.client = httpx.Client(timeout=10.0)
        self.tokens: dict[str, str] = {}

    def attempt(self, call: Callable[[], Any]) -> Any:
        for _ in range(self.ATTEMPTS):
            try:
                outcome = call()
            except (httpx.TransportError, ValueError, _Again):  # a cut body: JSON or UTF-8 error
                continue
            return outcome
        raise AssertionError("a request still failed after 6 attempts")

    def crm_token(self) -> str:
        def call() -> str:
            response = self.client.post(
                f"{self.env['KPIHUB_CRM_BASE_URL']}/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.env["KPIHUB_CRM_CLIENT_ID"],
                    "client_secret": self.env["KPIHUB_CRM_CLIENT_SECRET"],
                },
            )
            _check_status(response)
            return str(response.json()["access_token"])

        if "crm" not in self.tokens:
            self.tokens["crm"] = self.attempt(call)
        return self.tokens["crm"]

    def crm(self, resource: str) -> list[Any]:
        pages, cursor = [], None

        def call() -> dict[str, Any]:
            params = {"limit": "50", **({"cursor": cursor} if cursor else {})}
            response = self.client.get(
                f"{self.env['KPIHUB_CRM_BASE_URL']}/api/v2/{resource}",
                params=params,
                headers={"Authorization": f"Bearer {self.crm_token()}"},
            )
            if response.status_code == 401:
                self.tokens.pop("crm")
                raise _Again
            if response.status_code == 429:
                time.sleep(float(response.headers["retry-after"]))
                raise _Again
            _check_status(response)
            return dict(response.json())

        while True:
            body = self.attempt(call)
            pages.append(body)
            time.sleep(PACE["crm"])
            cursor = body["next_cursor"]
            if cursor is None:
                return pages

    def ding_token(self) -> str:
        def call() -> str:
            response = self.client.get(
                f"{self.env['KPIHUB_DINGTALK_BASE_URL']}/gettoken",
                params={
                    "appkey": self.env["KPIHUB_DINGTALK_APP_KEY"],
                    "appsecret": self.env["KPIHUB_DINGTALK_APP_SECRET"],
                },
            )
            body = response.json()
            if body["errcode"] != 0:
                raise _Again
            return str(body["access_token"])

        if "dingtalk" not in self.tokens:
            self.tokens["dingtalk"] = self.attempt(call)
        return self.tokens["dingtalk"]

    def ding(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        def call() -> dict[str, Any]:
            response = self.client.post(
                f"{self.env['KPIHUB_DINGTALK_BASE_URL']}{path}",
                params={"access_token": self.ding_token()},
                json=body,
            )
            answer = dict(response.json())
            code = int(answer.get("sub_code") or answer["errcode"])
            if code == 40014:
                self.tokens.pop("dingtalk")
            if code in (40014, -1, 90018):
                raise _Again
            assert code == 0, answer
            answer.pop("request_id")
            return answer

        answer: dict[str, Any] = self.attempt(call)
        time.sleep(PACE["dingtalk"])
        return answer

    def qms(self, page_size: int) -> list[Any]:
        total: int | None = None
        pages = []
        page = 1

        def call() -> dict[str, Any]:
            response = self.client.get(
                f"{self.env['KPIHUB_QMS_BASE_URL']}/qms/v1/inspections",
                params={"from": "2026-10-01", "to": "2026-10-31", "page": page,
                        "page_size": page_size},
                headers={"X-Api-Key": self.env["KPIHUB_QMS_API_KEY"]},
            )  # fmt: skip
            _check_status(response)
            body = dict(response.json())
            if total is not None and body["total"] != total:
                raise _Again
            return body

        while True:
            body = self.attempt(call)
            total = body["total"]
            pages.append(body)
            if not body["items"]:
                return pages
            page += 1

    def punches(self, day: str) -> list[Any]:
        pages, offset = [], 0

        def call() -> dict[str, Any]:
            response = self.client.get(
                f"{self.env['KPIHUB_ATTENDANCE_BASE_URL']}/att/api/punches",
                params={"date": day, "offset": offset, "limit": 25},
                auth=(self.env["KPIHUB_ATTENDANCE_USERNAME"],
                      self.env["KPIHUB_ATTENDANCE_PASSWORD"]),
            )  # fmt: skip
            _check_status(response)
            return dict(response.json())

        while True:
            body = self.attempt(call)
            pages.append(body)
            if not body["has_more"]:
                return pages
            offset += 25

    def attendance_page(self, people: list[str], offset: int) -> dict[str, Any]:
        body = {
            "workDateFrom": "2026-10-05 00:00:00",
            "workDateTo": "2026-10-11 00:00:00",
            "userIdList": people,
            "offset": offset,
            "limit": 50,
        }
        return self.ding("/attendance/list", body)

    def pull(self, server: SandboxServer) -> dict[str, Any]:
        office = [e for e in server.world.employees if not e.uses_terminals]
        people = [e.userid for e in office][:30]
        dept = office[0].dept_ids[0]
        return {
            "crm": [self.crm("orders"), self.crm("leads")],
            "dingtalk": [
                self.ding("/topapi/v2/department/listsub", {"dept_id": 1}),
                self.ding("/topapi/v2/user/list", {"dept_id": dept, "cursor": 0, "size": 5}),
                *[self.attendance_page(people, offset) for offset in range(0, 300, 50)],
            ],
            "qms": [self.qms(25), self.qms(60)],
            "attendance": [self.punches(f"2026-10-{d:02d}") for d in range(5, 17)],
        }


class _Again(Exception):
    """The answer says: ask again."""


def _check_status(response: httpx.Response) -> None:
    if response.status_code >= 500:
        raise _Again
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def clean_pull() -> Iterator[dict[str, Any]]:
    with serve(3, "none") as server:
        client = Retrying(server)
        yield client.pull(server)


def test_a_retrying_client_lands_under_hostile_exactly_what_it_lands_clean(
    clean_pull: dict[str, Any],
) -> None:
    with serve(3, "hostile") as server:
        hostile = Retrying(server).pull(server)
        counts = {s: i.counts() for s, i in server.injectors.items()}
    assert sum(sum(c.values()) for c in counts.values()) >= 30, counts
    assert counts["qms"][PAGE_SHIFT_KIND] >= 1, counts
    for system in HTTP_SYSTEMS:
        assert json.dumps(hostile[system]) == json.dumps(clean_pull[system]), system


# --- the command line ------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["sandbox", "up"], ["demo"]])
def test_the_commands_refuse_a_bad_plan_before_starting_anything(command: list[str]) -> None:
    from typer.testing import CliRunner

    from orchestration.cli.main import app

    result = CliRunner().invoke(app, [*command, "--faults", "hostile,erp=none"])
    assert result.exit_code == 2
    assert "unknown system 'erp'" in result.output
