"""``kpihub sync``: the nightly sync, run now; with a range of months, a backfill from the shell.

Without a range it lands what changed in every source since the last sync, as the 02:00 schedule
does. With ``--from``/``--to`` it then normalises, checks, scores and publishes each closed month
of the range, oldest first, so a first install or a long outage is caught up in one command. A
range that begins before the history the hub keeps widens the first pull to reach it. The runs
go through the persistent Dagster instance and are listed on the job pages like the schedule's.
"""

from __future__ import annotations

from typing import Annotated

import typer

from orchestration.cli.inspect import current_templates
from orchestration.cli.options import check_period, fail, out

FromOption = Annotated[
    str | None,
    typer.Option("--from", help="First month to score after the sync, YYYY-MM."),
]
ToOption = Annotated[
    str | None,
    typer.Option("--to", help="Last month to score, YYYY-MM; the last closed month by default."),
]


def months_to_score(first: str | None, last: str | None) -> list[str]:
    """The closed months of ``first``..``last``; none when neither is given. A range that runs
    into the open month or backwards is an error that says so."""
    from schemas.periods import last_closed_period, periods_between

    if first is None and last is None:
        return []
    closed = last_closed_period()
    end = check_period(last) if last is not None else closed
    start = check_period(first) if first is not None else end
    if end > closed:
        raise fail(f"--to {end} is not closed yet; the last closed month is {closed}")
    if start > end:
        raise fail(f"--from {start} is after --to {end}")
    return periods_between(start, end)


def widen_history(first: str) -> None:
    """Make a first pull reach back to ``first`` when the history kept does not already."""
    import os

    from connectors.sdk.calendar import history_months, today_local
    from schemas.periods import month_index, period_of
    from schemas.settings import get_settings

    needed = month_index(period_of(today_local())) - month_index(first)
    if needed > history_months():
        os.environ["KPIHUB_HISTORY_MONTHS"] = str(needed)
        get_settings.cache_clear()


def sync_command(first: FromOption = None, last: ToOption = None) -> None:
    """Land what changed in every source; with --from/--to, also score each month of the
    range."""
    months = months_to_score(first, last)
    if months:
        current_templates()  # a configuration that cannot work stops here, in one line
        # Before the modules below are loaded: the partitions start where the history does.
        widen_history(months[0])
    import dagster as dg  # the command's own start-up stays light: dagster takes seconds

    from orchestration.definitions import build_definitions
    from orchestration.demo import score_months, sync_with_progress
    from orchestration.home import set_up
    from orchestration.orphans import fail_orphaned_runs
    from schemas.settings import get_settings

    set_up(get_settings())

    defs = build_definitions()
    instance = dg.DagsterInstance.get()
    fail_orphaned_runs(instance)
    sync_with_progress(out, defs, instance)
    if months:
        published = score_months(out, defs, instance, months)
        out.print(f"Published {published} new score version(s) for {months[0]}..{months[-1]}.")
