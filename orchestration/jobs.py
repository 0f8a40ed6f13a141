"""Jobs and schedules HR operations run: sync every source, then score a month.

Both schedules run in Asia/Shanghai, where the companies work, and are on from the moment the code
location loads: a fresh install syncs the next night and closes the next month without anyone
switching them on in the UI.
"""

from __future__ import annotations

import dagster as dg

from schemas.periods import last_closed_period
from schemas.settings import Settings

TIMEZONE = "Asia/Shanghai"
DAILY_SYNC = "daily_sync"
MONTHLY_CLOSE = "monthly_close"
DAILY_SYNC_HOUR = 2

sync_sources = dg.define_asset_job(
    "sync_sources",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("facts", "scores"),
    description="Pull every source stream incrementally and land new record versions.",
)

score_period = dg.define_asset_job(
    "score_period",
    selection=dg.AssetSelection.groups("facts", "scores"),
    description="Normalise facts, then score and publish one month.",
)


def daily_sync() -> dg.ScheduleDefinition:
    """Every night at 02:00, when the sources are quiet: the day's changes are landed before
    anyone opens the UI in the morning."""
    return dg.ScheduleDefinition(
        name=DAILY_SYNC,
        job=sync_sources,
        cron_schedule=f"0 {DAILY_SYNC_HOUR} * * *",
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            f"Every day at {DAILY_SYNC_HOUR:02d}:00 Asia/Shanghai: pull every source stream "
            "incrementally and land the new record versions."
        ),
    )


def monthly_close(settings: Settings) -> dg.ScheduleDefinition:
    """The previous month, on ``KPIHUB_CLOSE_DAY`` at ``KPIHUB_CLOSE_HOUR`` (the 3rd at 03:00):
    a few days after the month ends, so that the late records of its last days have been synced
    by the daily runs before it is scored."""
    when = f"day {settings.close_day} of every month at {settings.close_hour:02d}:00"

    @dg.schedule(
        name=MONTHLY_CLOSE,
        job=score_period,
        cron_schedule=f"0 {settings.close_hour} {settings.close_day} * *",
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            f"On {when} Asia/Shanghai: normalise the previous month's facts, then score and "
            "publish it (KPIHUB_CLOSE_DAY, KPIHUB_CLOSE_HOUR)."
        ),
    )
    def close(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        period = last_closed_period(context.scheduled_execution_time)
        return dg.RunRequest(partition_key=period)

    return close


def build_schedules(settings: Settings) -> list[dg.ScheduleDefinition]:
    return [daily_sync(), monthly_close(settings)]
