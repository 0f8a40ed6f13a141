"""No secret anywhere: sinks built from the settings the sandbox writes, first with wrong
credentials (so every sink fails and says why), then with the right ones; afterwards no store
row, log line (every logger, DEBUG), delivered message, report or repr holds a secret."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from pipelines.stores import Stores
from quality.alerts import (
    Alert,
    Backoff,
    configured_secrets,
    deliver,
    enqueue,
    reminder,
    sinks_from_settings,
)
from sandbox.model import World, generate_world
from sandbox.receivers import new_robot_secret
from sandbox.serving import SandboxServer
from schemas.settings import Settings
from tests.quality.alert_helpers import FakeClock, states

POLICY = Backoff(base=timedelta(seconds=30))
SINKS = ["robot", "webhook", "mail", "dingtalk_notify"]
WRONG = {
    "KPIHUB_ALERT_ROBOT_SECRET": new_robot_secret(77),
    "KPIHUB_ALERT_WEBHOOK_TOKEN": "hook-wrong-token-0123456789",
    "KPIHUB_ALERT_SMTP_USER": "kpihub",
    "KPIHUB_ALERT_SMTP_PASSWORD": "smtp-password-0123456789",
    "KPIHUB_DINGTALK_APP_SECRET": "dingtalk-wrong-secret-0123456789",
}


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(6, 20, date(2026, 11, 22))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(world: World, clock: FakeClock) -> Iterator[SandboxServer]:
    systems = ("alerts", "dingtalk")
    with SandboxServer(world, systems=systems, alerts_clock=clock) as running:
        yield running


def configure(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


def app_token(server: SandboxServer) -> str:
    """Read from the sandbox's token table: asking gettoken here would log the app secret."""
    tokens = server.dingtalk.server.config.app.state.tokens
    token = tokens.current(server.endpoints["KPIHUB_DINGTALK_APP_KEY"])
    assert token is not None
    return str(token)


def test_no_secret_reaches_rows_logs_messages_or_reprs(
    stores: Stores,
    server: SandboxServer,
    world: World,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    env = {**server.endpoints, "KPIHUB_ALERT_MAIL_TO": "hr-ops@example.test"}
    right = configure(monkeypatch, env)
    wrong = configure(monkeypatch, WRONG)
    assert [s.name for s in sinks_from_settings(wrong)] == SINKS

    person = world.employees[2]
    queued = [
        Alert(sink, f"finding:{n}", "anomaly", f"volume drop crm/orders #{n}", {"count": n})
        for sink in SINKS[:3]
        for n in (1, 2)
    ]
    queued.append(
        reminder(person.job_number, person.userid, "semi_finished_yield_rate", "2026-10",
                 Decimal("0.81"), Decimal("0.90"))
    )  # fmt: skip
    forbidden = configured_secrets(right) + configured_secrets(wrong)
    assert enqueue(stores.hub, queued, clock.at, forbidden=forbidden) == 7

    failed = deliver(stores.hub, sinks_from_settings(wrong), clock.at, POLICY)
    assert {name: r.errors for name, r in failed.sinks.items()} == {
        "robot": ["robot refused the message (errcode 310000)"],
        "webhook": ["webhook answered HTTP 401"],
        "mail": ["SMTP delivery failed (SMTPNotSupportedError)"],
        "dingtalk_notify": ["DingTalk refused the app credentials (gettoken)"],
    }
    assert failed.sent == 0
    clock.advance(30)
    monkeypatch.delenv("KPIHUB_ALERT_SMTP_USER")
    monkeypatch.delenv("KPIHUB_ALERT_SMTP_PASSWORD")
    fixed = configure(monkeypatch, server.endpoints)
    done = deliver(stores.hub, sinks_from_settings(fixed), clock.at, POLICY)
    assert {name: (r.sent, r.errors) for name, r in done.sinks.items()} == {
        "robot": (2, []), "webhook": (2, []), "mail": (2, []), "dingtalk_notify": (1, []),
    }  # fmt: skip
    for sink in SINKS:
        assert {state for _, state, _ in states(stores.hub, sink)} == {"sent"}

    secrets = [
        *forbidden,
        server.endpoints["KPIHUB_ALERT_ROBOT_URL"].split("access_token=")[1],
        app_token(server),
    ]
    assert len(secrets) >= 9 and all(len(s) >= 12 for s in secrets)
    with stores.hub.connect() as conn:
        stored = [repr(tuple(row)) for row in conn.execute(text("SELECT * FROM alert_outbox"))]
    assert len(stored) == 7
    delivered = [
        repr(server.robot.server.config.app.state.inbox.messages),
        repr(server.webhook.server.config.app.state.inbox),
        *(m.message.as_string() for m in (server.mail.messages if server.mail else [])),
        repr(server.dingtalk.server.config.app.state.notifications.sent),
    ]
    logged = [caplog.text, *(r.getMessage() for r in caplog.records)]
    shown = [repr(right), repr(wrong), repr(failed), repr(done)]
    shown += [repr(s) for s in sinks_from_settings(right) + sinks_from_settings(wrong)]
    for where, texts in {
        "store": stored,
        "delivered": delivered,
        "log": logged,
        "repr": shown,
    }.items():
        leaks = [s for s in secrets for t in texts if s in t]
        assert leaks == [], f"secret found in {where}"
    assert any("kept queued" in r.getMessage() for r in caplog.records)
    # Every logger was captured, down to the HTTP library's own DEBUG lines.
    assert any(r.name.startswith("httpcore") for r in caplog.records)
