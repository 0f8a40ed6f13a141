"""The simulated alert destinations over real loopback sockets: the DingTalk robot's signing,
token and throttle rules, the webhook's auth and injected failures, and SMTP delivery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import smtplib
import urllib.parse
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from sandbox.receivers import (
    MailReceiver,
    create_robot_app,
    create_webhook_app,
    new_robot_secret,
    sign,
)
from sandbox.serving import AppThread

TOKEN = "robot-token-1"
SECRET = new_robot_secret(1)
START = 1_790_000_000.0
HOOK_TOKEN = "hook-token-1"


class FakeClock:
    """Epoch seconds that only move when a test says so."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def robot(clock: FakeClock) -> Iterator[AppThread]:
    server = AppThread(create_robot_app(TOKEN, SECRET, clock=clock))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def webhook() -> Iterator[AppThread]:
    server = AppThread(create_webhook_app(HOOK_TOKEN))
    server.start()
    yield server
    server.stop()


def text_message(content: str) -> dict[str, Any]:
    return {
        "msgtype": "text",
        "text": {"content": content},
        "at": {"atMobiles": [], "atUserIds": [], "isAtAll": False},
    }


def send(
    server: AppThread,
    body: dict[str, Any],
    now: float,
    token: str = TOKEN,
    signature: str | None = None,
) -> dict[str, Any]:
    """Builds the query by hand because ``sign`` is already URL-encoded, as a client sends it."""
    ts = int(now * 1000)
    sig = sign(SECRET, ts) if signature is None else signature
    url = f"{server.url}/robot/send?access_token={token}&timestamp={ts}&sign={sig}"
    response = httpx.post(url, json=body)
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def test_robot_secret_is_deterministic_sec_plus_64_hex() -> None:
    assert new_robot_secret(1) == SECRET
    assert new_robot_secret(2) != SECRET
    assert re.fullmatch(r"SEC[0-9a-f]{64}", SECRET)


def test_sign_matches_reference_recipe() -> None:
    ts = 1_790_000_000_123
    mac = hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()
    assert sign(SECRET, ts) == urllib.parse.quote_plus(base64.b64encode(mac).decode())


def test_signed_message_is_accepted_and_recorded(robot: AppThread, clock: FakeClock) -> None:
    body = text_message("KPI run failed: crm extract 3 retries")
    assert send(robot, body, clock.now) == {"errcode": 0, "errmsg": "ok"}
    inbox = robot.server.config.app.state.inbox
    assert inbox.messages == [{"msgtype": "text", "body": body, "received_at": START}]


def test_markdown_is_accepted_and_double_encoded_sign_too(
    robot: AppThread, clock: FakeClock
) -> None:
    body = {"msgtype": "markdown", "markdown": {"title": "KPI", "text": "## done"}}
    twice = urllib.parse.quote(sign(SECRET, int(clock.now * 1000)), safe="")
    assert send(robot, body, clock.now, signature=twice) == {"errcode": 0, "errmsg": "ok"}
    assert [m["msgtype"] for m in robot.server.config.app.state.inbox.messages] == ["markdown"]


def test_bad_sign_is_refused(robot: AppThread, clock: FakeClock) -> None:
    wrong = sign(new_robot_secret(2), int(clock.now * 1000))
    answer = send(robot, text_message("x"), clock.now, signature=wrong)
    assert answer["errcode"] == 310000
    assert answer["errmsg"].startswith("sign not match, more: [")
    assert robot.server.config.app.state.inbox.messages == []


def test_stale_timestamp_is_refused(robot: AppThread, clock: FakeClock) -> None:
    signed_at = clock.now
    clock.now += 2 * 3600
    answer = send(robot, text_message("x"), signed_at)
    assert answer["errcode"] == 310000
    assert robot.server.config.app.state.inbox.messages == []


def test_wrong_token_is_refused(robot: AppThread, clock: FakeClock) -> None:
    answer = send(robot, text_message("x"), clock.now, token="nope")
    assert answer == {"errcode": 300001, "errmsg": "token is not exist"}


def test_unknown_msgtype_and_missing_fields(robot: AppThread, clock: FakeClock) -> None:
    assert send(robot, {"msgtype": "image"}, clock.now) == {
        "errcode": 40035,
        "errmsg": "缺少参数 msgtype",
    }
    assert send(robot, {"msgtype": "markdown", "markdown": {"title": "t"}}, clock.now) == {
        "errcode": 40035,
        "errmsg": "缺少参数 markdown.text",
    }
    assert robot.server.config.app.state.inbox.messages == []


def test_throttle_after_20_per_minute_lasts_10_minutes(robot: AppThread, clock: FakeClock) -> None:
    for i in range(20):
        assert send(robot, text_message(f"m{i}"), clock.now)["errcode"] == 0
        clock.now += 1
    too_fast = {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
    assert send(robot, text_message("m20"), clock.now) == too_fast
    throttled_at = clock.now
    clock.now = throttled_at + 9 * 60
    assert send(robot, text_message("m21"), clock.now) == too_fast
    clock.now = throttled_at + 10 * 60
    assert send(robot, text_message("m22"), clock.now) == {"errcode": 0, "errmsg": "ok"}
    contents = [m["body"]["text"]["content"] for m in robot.server.config.app.state.inbox.messages]
    assert contents == [f"m{i}" for i in range(20)] + ["m22"]


def post_alert(server: AppThread, content: str, token: str = HOOK_TOKEN) -> httpx.Response:
    return httpx.post(
        f"{server.url}/hooks/alerts",
        content=content,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


def test_webhook_accepts_authorised_json(webhook: AppThread) -> None:
    response = post_alert(webhook, '{"severity": "high", "text": "late"}')
    assert (response.status_code, response.json()) == (202, {"accepted": True})
    assert webhook.server.config.app.state.inbox == [{"severity": "high", "text": "late"}]


def test_webhook_refuses_bad_token_and_bad_json(webhook: AppThread) -> None:
    denied = post_alert(webhook, "{}", token="wrong")
    assert (denied.status_code, denied.json()) == (401, {"error": "unauthorized"})
    missing = httpx.post(f"{webhook.url}/hooks/alerts", json={})
    assert (missing.status_code, missing.json()) == (401, {"error": "unauthorized"})
    broken = post_alert(webhook, "{not json")
    assert (broken.status_code, broken.json()) == (400, {"error": "invalid_json"})
    assert webhook.server.config.app.state.inbox == []


def test_webhook_fails_exactly_n_times_on_demand(webhook: AppThread) -> None:
    armed = httpx.post(f"{webhook.url}/_sandbox/fail", params={"count": 2, "status": 503})
    assert armed.json() == {"failing": 2, "status": 503}
    statuses = [post_alert(webhook, f'{{"n": {i}}}').status_code for i in range(3)]
    assert statuses == [503, 503, 202]
    assert webhook.server.config.app.state.inbox == [{"n": 2}]


def test_smtp_receives_exact_message() -> None:
    message = EmailMessage()
    message["Subject"] = "KPI Hub: publish failed for 2026-11"
    message["From"] = "kpihub@example.test"
    message["To"] = "hr-ops@example.test"
    message.set_content("Scoring stopped: 3 rows failed quality checks.\n")
    with MailReceiver() as receiver:
        with smtplib.SMTP(receiver.host, receiver.port, timeout=5) as client:
            client.send_message(message, to_addrs=["hr-ops@example.test", "audit@example.test"])
        received = receiver.messages
    assert len(received) == 1
    mail = received[0]
    assert mail.mail_from == "kpihub@example.test"
    assert mail.rcpt_tos == ("hr-ops@example.test", "audit@example.test")
    assert mail.message["Subject"] == "KPI Hub: publish failed for 2026-11"
    assert mail.message["To"] == "hr-ops@example.test"
    assert mail.message.get_content() == "Scoring stopped: 3 rows failed quality checks.\n"
