"""``kpihub score``: the monthly close's job, run now. HR runs it after approving a target change
or a manual adjustment, or after a correction landed, to restate the month without waiting for
the schedule. It normalises the month's facts from what is landed and scores and publishes them,
through the persistent Dagster instance, so the run and its checks are in the UI's history."""

from __future__ import annotations

from orchestration.cli.inspect import current_templates
from orchestration.cli.options import PeriodOption, fail, out, period_or_last_closed


def score_command(period: PeriodOption = None) -> None:
    """Normalise one month's facts from what is landed, then score and publish it."""
    import dagster as dg  # the command's own start-up stays light: dagster takes seconds

    from orchestration.definitions import build_definitions
    from orchestration.demo import RunSummary, run_failure, score_month
    from orchestration.home import set_up
    from orchestration.orphans import fail_orphaned_runs
    from schemas.settings import get_settings

    month = period_or_last_closed(period)
    current_templates()  # a configuration that cannot work stops here, in one line
    set_up(get_settings())
    instance = dg.DagsterInstance.get()
    fail_orphaned_runs(instance)
    result = score_month(build_definitions(), instance, month)
    if not result.success:
        raise fail(run_failure(result, f"score_period {month}"), code=1)
    scores = RunSummary.of(result).by_asset["scores"]
    out.print(
        f"{month}: {scores['scored']} scored, {scores['published']} published "
        f"({scores['superseded']} restated), {scores['held']} held"
    )
