"""Anomaly detection against the anomalies planted in the sandbox company: the demo's flow
(every source synced, then each month scored through Dagster) must find every planted anomaly
it is meant to find, and few others."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from orchestration.cli.findings import finding_row, sandbox_recall
from pipelines.stores import Stores
from schemas.settings import get_settings
from schemas.tables import Finding
from tests.quality.anomaly_flow import run_flow

EMPLOYEES = 200  # fewer, and too few carers have five surveys a month for a cohort
PERIODS = 4
PLANTED = 18
"""Distinct planted anomalies (source, stream, job number, KPI, month) either seed's company
counts at this size, of 10 kinds; receipt_misposted is left out (HANDLED_ELSEWHERE)."""


def assert_found(seed: int) -> None:
    """Each seed's company is its own test file, so the two heavy runs share the workers."""
    run_flow(seed, EMPLOYEES, PERIODS)
    settings = get_settings()
    stores = Stores.connect(settings.hub_url, settings.hr_url)
    with Session(stores.hub) as session:
        rows = [finding_row(f) for f in session.query(Finding).all()]
    stores.dispose()
    scored = sandbox_recall(rows, seed, EMPLOYEES)
    print(
        f"seed {seed}, {EMPLOYEES} employees: recall {scored['recall']:.1%} "
        f"({scored['found']}/{scored['planted']}), precision {scored['precision']:.1%} "
        f"({scored['true_findings']}/{scored['findings']})"
    )
    assert scored["planted"] == PLANTED
    assert scored["handled_elsewhere"] == ["receipt_misposted"]
    assert scored["missed"] == [] and scored["recall"] == 1.0
    assert scored["precision"] >= 0.9, scored["unexpected"]


def test_every_planted_anomaly_of_the_demo_company_is_found(_isolated_home: Path) -> None:
    assert_found(42)
