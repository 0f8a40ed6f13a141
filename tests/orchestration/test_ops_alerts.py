"""Alerts for HR operations: the ``alert_new_findings`` sensor queues one alert per new ERROR
finding and one digest per month of WARN ones, once; ``alert_failed_runs`` queues one per failed
run with the step and why. Both go to the operations sinks only, never with a secret."""

from __future__ import annotations

import os

import dagster as dg
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.sdk.timeparse import now_utc
from orchestration.resources import StoresResource
from orchestration.sensors import alert_failed_runs, alert_new_findings
from pipelines.stores import Stores
from schemas.settings import get_settings
from schemas.tables import Finding, OutboxAlert

TOKEN = "wh-token-5f1c2e"


@pytest.fixture(autouse=True)
def _webhook_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("KPIHUB_ALERT_", "KPIHUB_DINGTALK_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KPIHUB_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    monkeypatch.setenv("KPIHUB_ALERT_WEBHOOK_TOKEN", TOKEN)
    get_settings.cache_clear()


def _finding(stores: Stores, severity: str, check: str, period: str, job: str | None) -> None:
    now = now_utc()
    with Session(stores.hub) as session, session.begin():
        session.add(
            Finding(
                check_name=check, kind="expectation", severity=severity,
                subject=job or "qms/inspections", source="qms", stream="inspections",
                job_number=job, kpi_code=None, period=period, status="open", count=3,
                detail={}, created_at=now, updated_at=now,
            )
        )  # fmt: skip


def _outbox(stores: Stores) -> list[tuple[str, str, str, str]]:
    with Session(stores.hub) as session:
        return [
            (a.sink, a.delivery_key, a.kind, a.subject)
            for a in session.scalars(select(OutboxAlert).order_by(OutboxAlert.id))
        ]


def test_new_findings_are_alerted_once(store_url: str, stores: Stores) -> None:
    resources = {"stores": StoresResource(database_url=store_url, hr_store_url=store_url)}
    _finding(stores, "ERROR", "qms.inspections.qualified_le_inspected", "2026-11", None)
    _finding(stores, "WARN", "anomaly.output_qty", "2026-11", "E00042")
    _finding(stores, "WARN", "anomaly.semi_finished_yield_rate", "2026-11", "E00043")
    context = dg.build_sensor_context(resources=resources)
    first = alert_new_findings(context)
    assert first.skip_message == "3 new finding(s): 2 alert(s) queued"
    assert context.cursor == "3"
    assert _outbox(stores) == [
        (
            "webhook",
            "finding:1",
            "finding",
            "ERROR finding 1: qms.inspections.qualified_le_inspected (2026-11)",
        ),
        (
            "webhook",
            "findings:2026-11:upto3",
            "findings_digest",
            "2 new WARN finding(s) for 2026-11",
        ),
    ]
    again = alert_new_findings(dg.build_sensor_context(resources=resources, cursor="3"))
    assert again.skip_message == "no new finding since finding 3"
    replayed = alert_new_findings(dg.build_sensor_context(resources=resources))
    assert replayed.skip_message == "3 new finding(s): 0 alert(s) queued"  # the keys hold
    with Session(stores.hub) as session:
        payloads = " ".join(str(a.payload) for a in session.scalars(select(OutboxAlert)))
    assert TOKEN not in payloads


@dg.op
def boom() -> None:
    raise RuntimeError("crm/orders page 1: connection failed after retries")


@dg.job
def failing() -> None:
    boom()


def test_a_failed_run_is_alerted_with_its_step_and_why(store_url: str, stores: Stores) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        result = failing.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
        context = dg.build_run_status_sensor_context(
            sensor_name="alert_failed_runs",
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=failure,
            resources={"stores": StoresResource(database_url=store_url, hr_store_url=store_url)},
        ).for_run_failure()
        alert_failed_runs(context)
        alert_failed_runs(context)  # the same failure seen twice is one alert
    [(sink, key, kind, subject)] = _outbox(stores)
    assert (sink, key, kind, subject) == (
        "webhook",
        f"run:{result.run_id}",
        "run_failure",
        "run of failing failed",
    )
    with Session(stores.hub) as session:
        text = session.scalars(select(OutboxAlert)).one().payload["text"]
    assert (
        text == "step boom failed: RuntimeError: crm/orders page 1: connection failed after retries"
    )
