"""A failed ERROR check stops ``scores`` for its month in the same run: the month's facts are
materialized with the check's result (counts and failing rows, readable from the instance), the
scores are not, and ``kpihub demo`` says in one line which step failed and why."""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from connectors.sdk.timeparse import now_utc
from orchestration.assets import SCORES_KEY
from orchestration.demo import run_failure
from orchestration.home import set_up
from orchestration.partitions import closed_periods
from pipelines.landing import land_records
from pipelines.reader import StoreReader
from pipelines.stores import Stores
from sandbox.model import generate_world
from sandbox.serving import SandboxServer
from schemas.envelope import RawRecord
from schemas.settings import get_settings

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
ERP_FACTS = dg.AssetKey(["facts", "erp"])
QMS_FACTS = dg.AssetKey(["facts", "qms"])
IN_RANGE = "values_in_range"


def _overspend_one_cost_line(period: str) -> tuple[str, str]:
    """Land a new version of one of the month's ERP cost lines, as if the ERP had been corrected
    to an actual cost three times the target: a cost control of -200%, outside the [-100, 100]
    the catalog allows. Returns the line's key and its manager's job number."""
    settings = get_settings()
    stores = Stores.connect(settings.hub_url, settings.hr_url)
    with Session(stores.hub) as session, session.begin():
        heads = [
            h
            for h in StoreReader(session, "erp").heads("cb_cost")
            if str(h.payload.get("FPERIOD")).strip() == period
        ]
        head = heads[0]
        payload = dict(head.payload)
        target = Decimal(str(payload["FTARGETCOST"]))
        payload["FACTUALCOST"] = str((target * 3).quantize(Decimal("0.01")))
        moment = now_utc()
        record = RawRecord.wrap(
            source="erp",
            stream="cb_cost",
            record_key=head.record_key,
            payload=payload,
            source_updated_at=moment,
            extracted_at=moment,
        )
        land_records(session, [record], "test-correction", moment)
    stores.dispose()
    return head.record_key, str(payload["FMANAGERNO"]).strip()


def test_a_failed_range_check_stops_the_months_scores_in_the_same_run(
    _isolated_home: Path,
) -> None:
    settings = get_settings()
    set_up(settings)
    world = generate_world(seed=7, employees=30)
    period = closed_periods(1)[0]
    with SandboxServer(world) as server:
        os.environ.update(server.endpoints)
        os.environ["KPIHUB_HISTORY_MONTHS"] = "1"
        get_settings.cache_clear()
        from orchestration.definitions import build_definitions

        defs = build_definitions()
        instance = dg.DagsterInstance.get()
        sync = defs.resolve_job_def("sync_sources").execute_in_process(
            instance=instance, run_config=QUIET
        )
        assert sync.success
        # The hub's own lines are events of the run: each stream says what it landed.
        pulled = {
            e.asset_key: e.step_materialization_data.materialization.metadata["records_pulled"]
            for e in sync.get_asset_materialization_events()
            if e.asset_key == dg.AssetKey(["qms", "inspections"])
        }
        lines = [e.user_message for e in instance.all_logs(sync.run_id)]
        [landed] = [m for m in lines if m.startswith("qms/inspections: ")]
        assert landed.startswith(
            f"qms/inspections: {pulled[dg.AssetKey(['qms', 'inspections'])].value} records in "
        )
        _, manager = _overspend_one_cost_line(period)
        result = defs.resolve_job_def("score_period").execute_in_process(
            instance=instance, partition_key=period, run_config=QUIET, raise_on_error=False
        )

    assert not result.success
    assert result.get_failed_step_keys() == {"facts__erp"}
    normalised = [
        e.user_message
        for e in instance.all_logs(result.run_id)
        if e.user_message.startswith(f"qms {period}: ")
    ]
    assert len(normalised) == 1 and re.match(
        rf"qms {period}: \d+ facts for \d+ people \(\d+ new, 0 corrected, 0 retired\)",
        normalised[0],
    )
    started = {e.step_key for e in result.all_events if e.is_step_start}
    assert "scores" not in started and "facts__qms" in started
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    # The facts are stored and materialized with their checks; the scores are not.
    assert ERP_FACTS in materialized and SCORES_KEY not in materialized
    assert instance.get_latest_materialization_event(SCORES_KEY) is None

    record = instance.get_latest_asset_check_evaluation_record(
        dg.AssetCheckKey(ERP_FACTS, IN_RANGE)
    )
    assert record is not None and record.run_id == result.run_id
    evaluation = record.event.dagster_event.asset_check_evaluation_data  # type: ignore[union-attr]
    assert (evaluation.passed, evaluation.severity, evaluation.partition) == (
        False,
        dg.AssetCheckSeverity.ERROR,
        period,
    )
    assert evaluation.blocking is True
    assert evaluation.metadata["failed"].value == 1
    assert evaluation.metadata["evaluated"].value > 1
    [failing] = [r.data for r in evaluation.metadata["failing_rows"].value.records]
    assert failing["expectation"].startswith("between(value) in [-100, 100]")
    assert failing["expectation"].endswith("[cost_control]")
    assert (failing["job_number"], failing["kpi_code"], failing["kind"]) == (
        manager,
        "cost_control",
        "actual",
    )
    assert Decimal(failing["value"]) == Decimal(-200)

    # What the demo prints for such a run: one line, the failed step, why, and what did not run.
    assert run_failure(result, f"score_period {period}") == (
        f"score_period {period} run {result.run_id} failed; step facts__erp failed: "
        "1 blocking asset check failed with ERROR severity: facts/erp: values_in_range; "
        "not run: scores"
    )


def test_the_demo_names_the_failed_step_in_one_line_and_exits_non_zero(
    _isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A company that will not score a month with a yield under 90%: the sandbox's collapsed
    yield (55-70%) then fails the QMS facts' range check, and the demo stops there."""
    from orchestration.cli.main import app
    from quality import fact_suites

    monkeypatch.setitem(
        fact_suites.RANGE_BY_CODE, "semi_finished_yield_rate", (Decimal(90), Decimal(100))
    )
    result = CliRunner().invoke(app, ["demo", "--employees", "20", "--periods", "1"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    period = closed_periods(1)[0]
    # Dagster's own log of the run (at WARNING and above) precedes it; the demo adds one line.
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    assert result.stderr.rstrip().endswith(lines[0])
    pattern = (
        rf"error: score_period {period} run [0-9a-f-]{{36}} failed; step facts__qms failed: "
        r"1 blocking asset check failed with ERROR severity: facts/qms: values_in_range; "
        r"not run: scores"
    )
    assert re.fullmatch(pattern, lines[0]), lines[0]
    assert "Traceback (most recent call last)" not in result.output
    assert "Published" not in result.stdout

    instance = dg.DagsterInstance.from_config(str(_isolated_home / "dagster"))
    [run] = instance.get_runs(filters=dg.RunsFilter(job_name="score_period"))
    assert run.status == dg.DagsterRunStatus.FAILURE
    assert instance.get_latest_materialization_event(SCORES_KEY) is None
    record = instance.get_latest_asset_check_evaluation_record(
        dg.AssetCheckKey(QMS_FACTS, IN_RANGE)
    )
    assert record is not None and record.run_id == run.run_id
    evaluation = record.event.dagster_event.asset_check_evaluation_data  # type: ignore[union-attr]
    assert evaluation.passed is False
    [planted] = [a for a in generate_world(42, 20).anomalies if a.kind == "yield_collapse"]
    failing = [r.data for r in evaluation.metadata["failing_rows"].value.records]
    assert [(r["job_number"], r["kpi_code"]) for r in failing] == [
        (planted.job_number, "semi_finished_yield_rate")
    ]
    assert evaluation.metadata["failed"].value == 1
