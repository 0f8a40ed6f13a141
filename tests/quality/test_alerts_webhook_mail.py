"""The webhook and e-mail sinks against the sandbox's receivers over loopback: a receiver that
fails, refuses or is down leaves the alerts queued with their attempts; once it recovers every
alert arrives exactly once, in order, one POST or one mail per batch."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from pipelines.stores import Stores
from quality.alerts import Backoff, MailSink, WebhookSink, deliver, enqueue
from sandbox.model import World, generate_world
from sandbox.serving import SandboxServer
from tests.quality.alert_helpers import FakeClock, alerts, closed_port, keys, rows, states

POLICY = Backoff(base=timedelta(seconds=30))
HR = ("hr-ops@example.test", "audit@example.test")


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(6, 20, date(2026, 11, 22))


@pytest.fixture
def server(world: World) -> Iterator[SandboxServer]:
    with SandboxServer(world, systems=("alerts",)) as running:
        yield running


def webhook_sink(
    server: SandboxServer, token: str | None = None, batch_size: int = 4
) -> WebhookSink:
    env = server.endpoints
    return WebhookSink(
        env["KPIHUB_ALERT_WEBHOOK_URL"],
        SecretStr(token or env["KPIHUB_ALERT_WEBHOOK_TOKEN"]),
        batch_size=batch_size,
    )


def webhook_inbox(server: SandboxServer) -> list[Any]:
    inbox: list[Any] = server.webhook.server.config.app.state.inbox
    return inbox


def test_a_failing_webhook_gets_every_alert_once_in_order_after_it_recovers(
    stores: Stores, server: SandboxServer
) -> None:
    clock = FakeClock()
    t0 = clock.at
    enqueue(stores.hub, alerts("webhook", 10), t0)
    armed = httpx.post(f"{server.webhook.url}/_sandbox/fail", params={"count": 2, "status": 503})
    assert armed.json() == {"failing": 2, "status": 503}
    sink = webhook_sink(server)

    errors = []
    for _ in range(2):
        report = deliver(stores.hub, [sink], clock.at, POLICY).sinks["webhook"]
        errors += report.errors
        clock.move_to(rows(stores.hub, "webhook")[0].next_try_at)
    assert errors == ["webhook answered HTTP 503"] * 2
    assert clock.at == t0 + timedelta(seconds=90)
    assert webhook_inbox(server) == []
    assert states(stores.hub, "webhook") == [(k, "queued", 2) for k in keys(4)] + [
        (k, "queued", 0) for k in keys(6, 5)
    ]

    report = deliver(stores.hub, [sink], clock.at, POLICY).sinks["webhook"]
    assert (report.sent, report.messages) == (10, 3)
    received = webhook_inbox(server)
    assert [b["batch"] for b in received] == ["webhook:1", "webhook:5", "webhook:9"]
    assert [[a["delivery_key"] for a in b["alerts"]] for b in received] == [
        keys(4),
        keys(4, 5),
        keys(2, 9),
    ]
    assert received[0]["alerts"][0] == {
        "delivery_key": "finding:1",
        "kind": "anomaly",
        "subject": "yield collapse E00001",
        "payload": {"job_number": "E00001", "kpi_code": "semi_finished_yield_rate"},
        "created_at": t0.isoformat(),
    }
    assert states(stores.hub, "webhook") == [(k, "sent", 3) for k in keys(4)] + [
        (k, "sent", 1) for k in keys(6, 5)
    ]
    assert deliver(stores.hub, [sink], clock.at + timedelta(hours=2), POLICY).sent == 0
    assert len(webhook_inbox(server)) == 3


def test_a_webhook_refusing_the_token_or_throttling_keeps_the_alerts(
    stores: Stores, server: SandboxServer
) -> None:
    clock = FakeClock()
    enqueue(stores.hub, alerts("webhook", 3), clock.at)
    wrong = webhook_sink(server, token="hook-not-the-token")
    assert deliver(stores.hub, [wrong], clock.at, POLICY).sinks["webhook"].errors == [
        "webhook answered HTTP 401"
    ]
    httpx.post(f"{server.webhook.url}/_sandbox/fail", params={"count": 1, "status": 429})
    clock.move_to(rows(stores.hub, "webhook")[0].next_try_at)
    sink = webhook_sink(server)
    assert deliver(stores.hub, [sink], clock.at, POLICY).sinks["webhook"].errors == [
        "webhook throttled (HTTP 429)"
    ]
    head = rows(stores.hub, "webhook")[0]
    # No Retry-After: a throttled webhook waits at least a minute.
    assert (head.attempts, head.next_try_at - clock.at) == (2, timedelta(seconds=60))
    clock.move_to(head.next_try_at)
    assert deliver(stores.hub, [sink], clock.at, POLICY).sent == 3
    assert [[a["delivery_key"] for a in b["alerts"]] for b in webhook_inbox(server)] == [keys(3)]


def test_mail_waits_for_a_server_that_is_down_then_arrives_once_per_batch(
    stores: Stores, server: SandboxServer
) -> None:
    assert server.mail is not None
    clock = FakeClock()
    t0 = clock.at
    enqueue(stores.hub, alerts("mail", 5), t0)
    host, port = (
        server.endpoints["KPIHUB_ALERT_SMTP_HOST"],
        int(server.endpoints["KPIHUB_ALERT_SMTP_PORT"]),
    )
    down = MailSink(host, closed_port(), "kpihub@example.test", HR, batch_size=3)
    report = deliver(stores.hub, [down], clock.at, POLICY).sinks["mail"]
    assert report.errors == ["SMTP server unreachable (ConnectionRefusedError)"]
    assert states(stores.hub, "mail") == [(k, "queued", 1) for k in keys(3)] + [
        (k, "queued", 0) for k in keys(2, 4)
    ]
    assert server.mail.messages == []

    clock.move_to(rows(stores.hub, "mail")[0].next_try_at)
    sink = MailSink(host, port, "kpihub@example.test", HR, batch_size=3)
    report = deliver(stores.hub, [sink], clock.at, POLICY).sinks["mail"]
    assert (report.sent, report.messages) == (5, 2)
    mails = server.mail.messages
    assert [(m.mail_from, m.rcpt_tos) for m in mails] == [("kpihub@example.test", HR)] * 2
    assert [m.message["Subject"] for m in mails] == ["KPI Hub: 3 alerts", "KPI Hub: 2 alerts"]
    assert [m.message["X-KPIHub-Batch"] for m in mails] == ["mail:1", "mail:4"]
    assert mails[1].message.get_content() == (
        "yield collapse E00004\nanomaly [finding:4]\n  job_number: E00004\n"
        "  kpi_code: semi_finished_yield_rate\n\n"
        "yield collapse E00005\nanomaly [finding:5]\n  job_number: E00005\n"
        "  kpi_code: semi_finished_yield_rate\n"
    )
    sent = rows(stores.hub, "mail")
    assert [r.message_id for r in sent] == [str(mails[0].message["Message-ID"])] * 3 + [
        str(mails[1].message["Message-ID"])
    ] * 2
    assert states(stores.hub, "mail") == [(k, "sent", 2) for k in keys(3)] + [
        (k, "sent", 1) for k in keys(2, 4)
    ]
    assert deliver(stores.hub, [sink], clock.at + timedelta(hours=1), POLICY).sent == 0
    assert len(server.mail.messages) == 2
