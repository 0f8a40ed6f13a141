"""Personal reminders as DingTalk work notifications, against the sandbox's DingTalk: one per
person, KPI and period however often they are queued, to the person and their leader, through
the connector's token handling (a token expired mid-run is refreshed, not a lost reminder)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from pipelines.stores import Stores
from quality.alerts import Backoff, WorkNotificationSink, deliver, enqueue, reminder
from sandbox.company import Employee
from sandbox.model import World, generate_world
from sandbox.serving import SandboxServer
from tests.quality.alert_helpers import FakeClock, rows

POLICY = Backoff(base=timedelta(seconds=30))
YIELD = "semi_finished_yield_rate"


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(6, 20, date(2026, 11, 22))


@pytest.fixture
def server(world: World) -> Iterator[SandboxServer]:
    with SandboxServer(world, systems=("dingtalk",)) as running:
        yield running


def sink(server: SandboxServer, agent_id: str | None = None) -> WorkNotificationSink:
    env = server.endpoints
    return WorkNotificationSink(
        env["KPIHUB_DINGTALK_BASE_URL"],
        env["KPIHUB_DINGTALK_APP_KEY"],
        SecretStr(env["KPIHUB_DINGTALK_APP_SECRET"]),
        agent_id or env["KPIHUB_DINGTALK_AGENT_ID"],
    )


def sent(server: SandboxServer) -> list[dict[str, Any]]:
    notices: list[dict[str, Any]] = server.dingtalk.server.config.app.state.notifications.sent
    return notices


def member_and_leader(world: World) -> tuple[Employee, Employee]:
    for person in world.employees:
        leaders = [
            p
            for p in world.employees
            if p.leader and p is not person and p.dept_ids[0] == person.dept_ids[0]
        ]
        if not person.leader and leaders:
            return person, leaders[0]
    raise AssertionError("the sandbox company has no department with a leader and a member")


def yield_reminder(person: Employee, leader: Employee, period: str = "2026-10") -> Any:
    return reminder(
        person.job_number,
        person.userid,
        YIELD,
        period,
        Decimal("0.8520"),
        Decimal("0.90"),
        leaders=[leader.userid],
        kpi_name="半成品良率",
    )


def test_a_reminder_queued_twice_reaches_the_person_and_leader_once(
    stores: Stores, server: SandboxServer, world: World
) -> None:
    person, leader = member_and_leader(world)
    clock = FakeClock()
    assert enqueue(stores.hub, [yield_reminder(person, leader)], clock.at) == 1
    clock.advance(3600)
    assert enqueue(stores.hub, [yield_reminder(person, leader)], clock.at) == 0
    assert deliver(stores.hub, [sink(server)], clock.at, POLICY).sent == 1
    assert deliver(stores.hub, [sink(server)], clock.at + timedelta(days=1), POLICY).sent == 0

    [notice] = sent(server)
    env = server.endpoints
    assert notice == {
        "task_id": notice["task_id"],
        "agent_id": env["KPIHUB_DINGTALK_AGENT_ID"],
        "userid_list": [person.userid, leader.userid],
        "to_all_user": False,
        "msg": {
            "msgtype": "markdown",
            "markdown": {
                "title": "KPI Hub: 半成品良率 2026-10",
                "text": f"#### 半成品良率 2026-10\n\n{person.job_number}: 半成品良率 is 0.8520, "
                "under its alert threshold of 0.90.\n",
            },
        },
    }
    [row] = rows(stores.hub, "dingtalk_notify")
    assert (row.delivery_key, row.status, row.attempts, row.message_id) == (
        f"reminder:{person.job_number}:{YIELD}:2026-10",
        "sent",
        1,
        f"task:{notice['task_id']}",
    )
    # The task's result, as DingTalk reports it: both receivers are valid and have not read it.
    base = env["KPIHUB_DINGTALK_BASE_URL"]
    token = httpx.get(
        f"{base}/gettoken",
        params={
            "appkey": env["KPIHUB_DINGTALK_APP_KEY"],
            "appsecret": env["KPIHUB_DINGTALK_APP_SECRET"],
        },
    ).json()["access_token"]
    answer = httpx.post(
        f"{base}/topapi/message/corpconversation/getsendresult",
        params={"access_token": token},
        json={"agent_id": int(env["KPIHUB_DINGTALK_AGENT_ID"]), "task_id": notice["task_id"]},
    ).json()
    assert answer["errcode"] == 0
    assert answer["send_result"]["unread_user_id_list"] == [person.userid, leader.userid]
    assert answer["send_result"]["invalid_user_id_list"] == []


def test_each_person_kpi_and_period_is_its_own_reminder(
    stores: Stores, server: SandboxServer, world: World
) -> None:
    person, leader = member_and_leader(world)
    clock = FakeClock()
    queued = [yield_reminder(person, leader, p) for p in ("2026-09", "2026-10", "2026-09")]
    assert enqueue(stores.hub, queued, clock.at) == 2
    assert deliver(stores.hub, [sink(server)], clock.at, POLICY).sent == 2
    titles = [n["msg"]["markdown"]["title"] for n in sent(server)]
    assert titles == ["KPI Hub: 半成品良率 2026-09", "KPI Hub: 半成品良率 2026-10"]


def test_a_refused_notification_stays_queued_and_an_expired_token_is_refreshed(
    stores: Stores, server: SandboxServer, world: World
) -> None:
    person, leader = member_and_leader(world)
    clock = FakeClock()
    enqueue(stores.hub, [yield_reminder(person, leader)], clock.at)
    report = deliver(stores.hub, [sink(server, agent_id="1")], clock.at, POLICY)
    assert report.sinks["dingtalk_notify"].errors == [
        "asyncsend_v2 refused the notification (errcode 40035)"
    ]
    [row] = rows(stores.hub, "dingtalk_notify")
    assert (row.status, row.attempts, row.next_try_at) == ("queued", 1, clock.at + POLICY.base)

    working = sink(server)
    clock.move_to(row.next_try_at)
    enqueue(stores.hub, [yield_reminder(person, leader, "2026-11")], clock.at)
    assert deliver(stores.hub, [working], clock.at, POLICY).sent == 2
    httpx.post(f"{server.endpoints['KPIHUB_DINGTALK_BASE_URL']}/_sandbox/tokens/expire")
    enqueue(stores.hub, [yield_reminder(person, leader, "2026-12")], clock.at)
    assert deliver(stores.hub, [working], clock.at, POLICY).sent == 1
    periods = [n["msg"]["markdown"]["title"][-7:] for n in sent(server)]
    assert periods == ["2026-10", "2026-11", "2026-12"]
    assert [(r.status, r.attempts) for r in rows(stores.hub, "dingtalk_notify")] == [
        ("sent", 2), ("sent", 1), ("sent", 1),
    ]  # fmt: skip
