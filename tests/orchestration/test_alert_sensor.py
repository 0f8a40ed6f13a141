"""The ``deliver_alerts`` sensor sends what the outbox holds to the configured sinks, once."""

from __future__ import annotations

from datetime import date
from typing import Any

import dagster as dg
import pytest

from connectors.sdk.timeparse import now_utc
from orchestration.resources import StoresResource
from orchestration.sensors import deliver_alerts
from pipelines.stores import Stores
from quality.alerts import enqueue
from sandbox.model import generate_world
from sandbox.serving import SandboxServer
from schemas.settings import get_settings
from tests.quality.alert_helpers import alerts


@pytest.fixture(autouse=True)
def _no_sinks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the sinks a test configures: another test in this process may have exported some."""
    import os

    for name in list(os.environ):
        if name.startswith(("KPIHUB_ALERT_", "KPIHUB_DINGTALK_")):
            monkeypatch.delenv(name)
    get_settings.cache_clear()


def _tick(url: str) -> Any:
    context = dg.build_sensor_context(
        resources={"stores": StoresResource(database_url=url, hr_store_url=url)}
    )
    return deliver_alerts(context)


def test_the_sensor_delivers_the_outbox_once(
    store_url: str, stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SandboxServer(generate_world(6, 10, date(2026, 11, 22)), systems=("alerts",)) as server:
        for name in ("KPIHUB_ALERT_WEBHOOK_URL", "KPIHUB_ALERT_WEBHOOK_TOKEN"):
            monkeypatch.setenv(name, server.endpoints[name])
        get_settings.cache_clear()
        enqueue(stores.hub, alerts("webhook", 3), now_utc())
        first = _tick(store_url)
        second = _tick(store_url)
        inbox = server.webhook.server.config.app.state.inbox
    assert isinstance(first, dg.SkipReason)
    assert first.skip_message == "webhook: 3 sent, 0 waiting"
    assert second.skip_message == "webhook: 0 sent, 0 waiting"
    delivered = [a["delivery_key"] for body in inbox for a in body["alerts"]]
    assert delivered == ["finding:1", "finding:2", "finding:3"]


def test_without_a_sink_the_sensor_says_so(store_url: str) -> None:
    get_settings.cache_clear()
    assert _tick(store_url).skip_message == (
        "no alert sink is configured (KPIHUB_ALERT_* variables)"
    )
