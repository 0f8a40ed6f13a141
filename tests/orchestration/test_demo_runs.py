"""How the command line's runs are recorded: as runs of the code location ``workspace.yaml``
declares, tagged with the months and sources they cover, like the schedules' runs. The demo's
own runs are checked end to end in ``test_demo.py`` and in the browser in
``tests/portal/test_dagster_ui.py``; these are the quick checks of the pieces."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.tags import REPOSITORY_LABEL_TAG

from connectors.registry import discover
from orchestration.definitions import build_definitions
from orchestration.jobs import (
    PERIODS_TAG,
    SOURCES_TAG,
    job_origin,
    periods_label,
    sync_periods,
)
from orchestration.partitions import closed_periods
from schemas.periods import SHANGHAI

LOCATION = "__repository__@orchestration.definitions"


def test_a_run_has_the_origin_a_run_launched_from_the_ui_has() -> None:
    defs = build_definitions()
    origin = job_origin(defs, "sync_sources")
    assert origin.job_name == "sync_sources"
    assert origin.repository_origin.get_label() == LOCATION


@pytest.mark.parametrize(
    ("periods", "label"),
    [(["2026-11"], "2026-11"), (["2026-12", "2026-10", "2026-11"], "2026-10..2026-12"), ([], "")],
)
def test_periods_read_as_one_month_or_a_range(periods: list[str], label: str) -> None:
    assert periods_label(periods) == label


def test_a_sync_covers_the_history_kept_and_the_current_month(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KPIHUB_HISTORY_MONTHS", "2")
    assert sync_periods(date(2027, 1, 15)) == ["2026-11", "2026-12", "2027-01"]


def test_the_schedules_runs_say_what_they_cover() -> None:
    defs = build_definitions()
    sources = ",".join(sorted(discover()))
    fired = {
        "daily_sync": datetime(2026, 12, 2, 2, 0, tzinfo=SHANGHAI),
        "monthly_close": datetime(2026, 12, 3, 3, 0, tzinfo=SHANGHAI),
    }
    tags = {}
    for name, when in fired.items():
        with dg.build_schedule_context(
            scheduled_execution_time=when, repository_def=defs.get_repository_def()
        ) as context:
            (request,) = defs.resolve_schedule_def(name).evaluate_tick(context).run_requests or []
        tags[name] = request.tags
    assert tags["monthly_close"][PERIODS_TAG] == "2026-11"
    assert tags["daily_sync"][PERIODS_TAG] == periods_label(sync_periods(date(2026, 12, 2)))
    assert tags["daily_sync"][SOURCES_TAG] == tags["monthly_close"][SOURCES_TAG] == sources


def test_kpihub_scores_run_is_listed_on_its_job_page(_isolated_home: Path) -> None:
    """``kpihub score``'s run, on a home with nothing landed yet: one of the location's runs,
    listed where the UI lists the job's runs, with its month."""
    from orchestration.demo import score_month
    from orchestration.home import set_up
    from schemas.settings import get_settings

    set_up(get_settings())
    instance = dg.DagsterInstance.get()
    month = closed_periods(1)[0]
    result = score_month(build_definitions(), instance, month)
    assert result.success
    listed = instance.get_runs(
        filters=dg.RunsFilter(job_name="score_period", tags={REPOSITORY_LABEL_TAG: LOCATION})
    )
    assert [r.run_id for r in listed] == [result.run_id]
    (run,) = listed
    assert run.tags[PERIODS_TAG] == run.tags["dagster/partition"] == month
    assert run.tags[SOURCES_TAG] == ",".join(sorted(discover()))
    instance.dispose()
