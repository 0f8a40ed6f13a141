"""The DingTalk robot sink against the sandbox's robot over loopback: signed as the spec says,
batched under 20 messages a minute, and when the robot throttles or refuses, every alert kept
queued and delivered later exactly once, in order. The robot's clock and the hub's ``now`` are
the same fake clock, so the ten-minute throttle passes without sleeping."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from pipelines.stores import Stores
from quality.alerts import Backoff, RobotSink, deliver, enqueue
from quality.alerts.robot import sign
from sandbox.model import World, generate_world
from sandbox.receivers import new_robot_secret
from sandbox.receivers import sign as sandbox_sign
from sandbox.serving import SandboxServer
from tests.quality.alert_helpers import (
    FakeClock,
    RecordingTransport,
    alerts,
    closed_port,
    keys,
    robot_keys,
    rows,
    states,
)

POLICY = Backoff(base=timedelta(seconds=30))


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(6, 20, date(2026, 11, 22))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(world: World, clock: FakeClock) -> Iterator[SandboxServer]:
    with SandboxServer(world, systems=("alerts",), alerts_clock=clock) as running:
        yield running


def robot_sink(server: SandboxServer, transport: httpx.BaseTransport | None = None) -> RobotSink:
    env = server.endpoints
    return RobotSink(
        SecretStr(env["KPIHUB_ALERT_ROBOT_URL"]),
        SecretStr(env["KPIHUB_ALERT_ROBOT_SECRET"]),
        transport,
    )


def inbox(server: SandboxServer) -> list[Any]:
    messages: list[Any] = server.robot.server.config.app.state.inbox.messages
    return messages


def test_sign_is_the_documented_recipe() -> None:
    secret = new_robot_secret(3)
    ts = 1_790_000_000_123
    mac = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    assert sign(secret, ts) == urllib.parse.quote_plus(base64.b64encode(mac).decode())
    assert sign(secret, ts) == sandbox_sign(secret, ts)


def test_a_secret_without_the_sec_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="starts with 'SEC'") as caught:
        RobotSink(SecretStr("http://robot/send?access_token=t"), SecretStr("abc123"))
    assert "abc123" not in str(caught.value)


def test_batches_keep_under_20_messages_a_minute_and_signatures_are_valid(
    stores: Stores, server: SandboxServer, clock: FakeClock
) -> None:
    t0 = clock.at
    transport = RecordingTransport()
    sink = robot_sink(server, transport=transport)
    assert enqueue(stores.hub, alerts("robot", 450), t0) == 450

    first = deliver(stores.hub, [sink], clock.at, POLICY).sinks["robot"]
    assert (first.sent, first.messages, first.waiting, first.retried) == (200, 20, 250, 0)
    clock.advance(59)
    assert deliver(stores.hub, [sink], clock.at, POLICY).sent == 0
    clock.advance(1)
    assert deliver(stores.hub, [sink], clock.at, POLICY).sinks["robot"].messages == 20
    clock.advance(60)
    last = deliver(stores.hub, [sink], clock.at, POLICY).sinks["robot"]
    assert (last.sent, last.messages, last.waiting) == (50, 5, 0)

    received = inbox(server)
    assert [m["received_at"] for m in received] == (
        [t0.timestamp()] * 20 + [t0.timestamp() + 60] * 20 + [t0.timestamp() + 120] * 5
    )
    assert robot_keys(received) == [keys(10, n) for n in range(1, 451, 10)]
    assert {m["msgtype"] for m in received} == {"markdown"}
    assert received[0]["body"]["markdown"]["title"] == "KPI Hub: 10 alerts"
    assert states(stores.hub, "robot") == [(k, "sent", 1) for k in keys(450)]
    assert {r.last_error for r in rows(stores.hub, "robot")} == {None}
    # Every request carried the documented signature of the moment it was sent.
    secret = server.endpoints["KPIHUB_ALERT_ROBOT_SECRET"]
    sent_at = [int(t0.timestamp() * 1000) + s * 1000 for s in [0] * 20 + [60] * 20 + [120] * 5]
    assert [r.url.params["timestamp"] for r in transport.requests] == [str(t) for t in sent_at]
    for request, ts in zip(transport.requests, sent_at, strict=True):
        mac = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
        assert request.url.params["sign"] == base64.b64encode(mac).decode()


def test_a_throttled_robot_keeps_the_alerts_until_it_lets_them_through(
    stores: Stores, server: SandboxServer, clock: FakeClock
) -> None:
    t0 = clock.at
    env = server.endpoints
    # Another client of the same robot spends its minute.
    ts = int(clock.now * 1000)
    url = f"{env['KPIHUB_ALERT_ROBOT_URL']}&timestamp={ts}"
    url += f"&sign={sandbox_sign(env['KPIHUB_ALERT_ROBOT_SECRET'], ts)}"
    for n in range(20):
        body = {"msgtype": "text", "text": {"content": f"other {n}"}}
        assert httpx.post(url, json=body).json() == {"errcode": 0, "errmsg": "ok"}
    enqueue(stores.hub, alerts("robot", 25), t0)
    sink = robot_sink(server)

    report = deliver(stores.hub, [sink], clock.at, POLICY).sinks["robot"]
    assert (report.sent, report.retried, report.errors) == (
        0,
        10,
        ["robot throttled (errcode 130101)"],
    )
    assert states(stores.hub, "robot") == [(k, "queued", 1) for k in keys(10)] + [
        (k, "queued", 0) for k in keys(15, 11)
    ]
    tries = []
    while (head := rows(stores.hub, "robot")[0]).status == "queued":
        tries.append((head.attempts, head.next_try_at - t0, head.last_error))
        clock.move_to(head.next_try_at)
        deliver(stores.hub, [sink], clock.at, POLICY)
    throttled = "robot throttled (errcode 130101)"
    assert tries == [
        (1, timedelta(seconds=60), throttled),
        (2, timedelta(seconds=120), throttled),
        (3, timedelta(seconds=240), throttled),
        (4, timedelta(seconds=480), throttled),
        (5, timedelta(seconds=960), throttled),
    ]
    ours = [m for m in inbox(server) if m["msgtype"] == "markdown"]
    assert robot_keys(ours) == [keys(10), keys(10, 11), keys(5, 21)]
    assert [m["received_at"] for m in ours] == [t0.timestamp() + 960] * 3
    assert states(stores.hub, "robot") == [(k, "sent", 6) for k in keys(10)] + [
        (k, "sent", 1) for k in keys(15, 11)
    ]
    assert {r.sent_at for r in rows(stores.hub, "robot")} == {t0 + timedelta(seconds=960)}
    assert deliver(stores.hub, [sink], clock.at + timedelta(hours=1), POLICY).sent == 0
    assert len(inbox(server)) == 23


def test_a_refusing_then_unreachable_robot_loses_nothing_once_it_recovers(
    stores: Stores, server: SandboxServer, clock: FakeClock
) -> None:
    t0 = clock.at
    env = server.endpoints
    enqueue(stores.hub, alerts("robot", 12), t0)
    wrong_secret = RobotSink(
        SecretStr(env["KPIHUB_ALERT_ROBOT_URL"]), SecretStr(new_robot_secret(99))
    )
    report = deliver(stores.hub, [wrong_secret], clock.at, POLICY).sinks["robot"]
    assert report.errors == ["robot refused the message (errcode 310000)"]

    clock.advance(30)
    down_url = env["KPIHUB_ALERT_ROBOT_URL"].replace(f":{server.robot.port}/", f":{closed_port()}/")
    down = RobotSink(SecretStr(down_url), SecretStr(env["KPIHUB_ALERT_ROBOT_SECRET"]))
    report = deliver(stores.hub, [down], clock.at, POLICY).sinks["robot"]
    assert report.errors == ["robot unreachable (ConnectError)"]
    assert inbox(server) == []
    head = rows(stores.hub, "robot")[0]
    assert (head.attempts, head.next_try_at, head.last_error) == (
        2,
        t0 + timedelta(seconds=90),
        "robot unreachable (ConnectError)",
    )

    clock.move_to(head.next_try_at)
    report = deliver(stores.hub, [robot_sink(server)], clock.at, POLICY).sinks["robot"]
    assert (report.sent, report.messages, report.errors) == (12, 2, [])
    assert robot_keys(inbox(server)) == [keys(10), keys(2, 11)]
    assert states(stores.hub, "robot") == [(k, "sent", 3) for k in keys(10)] + [
        (k, "sent", 1) for k in keys(2, 11)
    ]
