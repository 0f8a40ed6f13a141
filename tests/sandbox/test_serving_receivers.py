"""The alert receivers served by SandboxServer alongside the systems, reachable through the
variables it publishes, exactly as the hub's alert sinks will be configured."""

from __future__ import annotations

import smtplib
import time
from collections.abc import Iterator
from datetime import date
from email.message import EmailMessage

import httpx
import pytest

from sandbox.model import generate_world
from sandbox.receivers import new_robot_secret, sign
from sandbox.serving import SandboxServer, credentials


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(generate_world(6, 20, date(2026, 11, 22)), systems=("alerts",)) as running:
        yield running


def test_the_receivers_publish_their_six_variables(server: SandboxServer) -> None:
    env = server.endpoints
    assert sorted(env) == [
        "KPIHUB_ALERT_ROBOT_SECRET", "KPIHUB_ALERT_ROBOT_URL", "KPIHUB_ALERT_SMTP_HOST",
        "KPIHUB_ALERT_SMTP_PORT", "KPIHUB_ALERT_WEBHOOK_TOKEN", "KPIHUB_ALERT_WEBHOOK_URL",
    ]  # fmt: skip
    token = credentials(6)["robot_access_token"]
    assert env["KPIHUB_ALERT_ROBOT_URL"] == f"{server.robot.url}/robot/send?access_token={token}"
    assert env["KPIHUB_ALERT_ROBOT_SECRET"] == new_robot_secret(6)
    assert env["KPIHUB_ALERT_WEBHOOK_URL"] == f"{server.webhook.url}/hooks/alerts"
    assert (env["KPIHUB_ALERT_SMTP_HOST"], env["KPIHUB_ALERT_SMTP_PORT"]) == (
        "127.0.0.1",
        str(server.mail.port if server.mail else None),
    )


def test_a_signed_robot_message_is_accepted_and_a_bad_sign_refused(server: SandboxServer) -> None:
    env = server.endpoints
    ts = int(time.time() * 1000)
    body = {"msgtype": "text", "text": {"content": "yield collapse: E00042"}}
    good = sign(env["KPIHUB_ALERT_ROBOT_SECRET"], ts)
    answer = httpx.post(f"{env['KPIHUB_ALERT_ROBOT_URL']}&timestamp={ts}&sign={good}", json=body)
    assert answer.json() == {"errcode": 0, "errmsg": "ok"}
    bad = sign(new_robot_secret(7), ts)
    refused = httpx.post(f"{env['KPIHUB_ALERT_ROBOT_URL']}&timestamp={ts}&sign={bad}", json=body)
    assert refused.json()["errcode"] == 310000
    inbox = server.robot.server.config.app.state.inbox
    assert [m["body"] for m in inbox.messages] == [body]


def test_the_webhook_takes_its_bearer_token_only(server: SandboxServer) -> None:
    env = server.endpoints
    url = env["KPIHUB_ALERT_WEBHOOK_URL"]
    token = env["KPIHUB_ALERT_WEBHOOK_TOKEN"]
    accepted = httpx.post(url, json={"kind": "late"}, headers={"Authorization": f"Bearer {token}"})
    assert (accepted.status_code, accepted.json()) == (202, {"accepted": True})
    assert httpx.post(url, json={"kind": "x"}).status_code == 401
    assert server.webhook.server.config.app.state.inbox == [{"kind": "late"}]


def test_mail_sent_to_the_smtp_variables_arrives(server: SandboxServer) -> None:
    env = server.endpoints
    message = EmailMessage()
    message["Subject"] = "KPI Hub: 2 findings"
    message["From"] = "kpihub@example.test"
    message["To"] = "hr-ops@example.test"
    message.set_content("2 findings need review.\n")
    host, port = env["KPIHUB_ALERT_SMTP_HOST"], int(env["KPIHUB_ALERT_SMTP_PORT"])
    with smtplib.SMTP(host, port, timeout=5) as client:
        client.send_message(message)
    assert server.mail is not None
    [mail] = server.mail.messages
    assert (mail.mail_from, mail.rcpt_tos) == ("kpihub@example.test", ("hr-ops@example.test",))
    assert mail.message.get_content() == "2 findings need review.\n"
