"""``kpihub status`` on the four people of the scores CLI's month: sources fresh, stale and never
synced, open findings by severity, the month's scores and review states, what waits for HR and
the alerts not yet sent."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from connectors.registry import discover
from connectors.sdk.timeparse import now_utc
from orchestration.cli.inspect import open_stores
from orchestration.cli.main import app
from pipelines import amendments, review
from pipelines.review import Actor
from quality.alerts import enqueue
from quality.alerts.outbox import Alert
from schemas.tables import Finding, StreamState
from tests.orchestration.test_scores_cli import PERIOD, published  # noqa: F401

runner = CliRunner()


def test_status_tells_where_the_hub_stands(published: None) -> None:  # noqa: F811
    stores = open_stores()
    now = now_utc()
    connectors = discover()
    with Session(stores.hub) as hub, hub.begin():
        for name, age in (("qms", timedelta(hours=1)), ("crm", timedelta(hours=30))):
            for stream in connectors[name].streams:
                hub.add(
                    StreamState(
                        source=name, stream=stream.name, cursor={}, updated_at=now - age,
                        run_id="run-1",
                    )
                )  # fmt: skip
        hub.add(
            StreamState(
                source="erp", stream=connectors["erp"].streams[0].name, cursor={},
                updated_at=now, run_id="run-1",
            )
        )  # fmt: skip
        for severity, status in (
            ("ERROR", "open"),
            ("WARN", "acknowledged"),
            ("WARN", "dismissed"),
        ):
            hub.add(
                Finding(
                    check_name=f"check.{severity}.{status}", kind="expectation", severity=severity,
                    subject="qms/inspections", period=PERIOD, status=status, count=1, detail={},
                    created_at=now, updated_at=now,
                )
            )  # fmt: skip
    enqueue(stores.hub, [Alert("webhook", "finding:1", "finding", "x")], now)
    review.approve(stores, Actor("E00056", "hr"), "E00001", PERIOD)
    amendments.propose_target(
        stores, Actor("E00009", "leader"), "E00002", PERIOD, "contract_amount", "280000", "调整"
    )
    stores.dispose()

    result = runner.invoke(app, ["status", "--period", PERIOD, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    sources = {
        r["source"]: (r["synced_streams"], r["streams"], r["fresh"]) for r in report["sources"]
    }
    assert sources == {
        name: (
            {"qms": len(c.streams), "crm": len(c.streams), "erp": 1}.get(name, 0),
            len(c.streams),
            name == "qms",
        )
        for name, c in connectors.items()
    }
    assert report["findings_open"] == {"ERROR": 1, "WARN": 1}
    assert report["month"] == {
        "period": PERIOD,
        "scores": 4,
        "held": 1,
        "review_states": {"final": 2, "held": 1, "reviewed": 1},
        "appeals_open": 0,
        "target_changes_waiting": 1,
        "adjustments_waiting": 0,
    }
    assert report["alerts_not_sent"] == {"webhook": {"queued": 1}}

    text = runner.invoke(app, ["status", "--period", PERIOD])
    assert text.exit_code == 0
    assert "Findings open: 1 ERROR, 1 WARN\n" in text.output
    assert "Scores of 2026-10: 4 (1 held); review: final 2, held 1, reviewed 1\n" in text.output
    assert "Waiting for HR: 0 appeal(s), 1 target change(s), 0 adjustment(s)\n" in text.output
    assert "Alerts not sent: webhook: 1 queued\n" in text.output
