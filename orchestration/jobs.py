"""Jobs and schedules HR operations run: sync every source, then score a month."""

from __future__ import annotations

import dagster as dg

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

nightly_sync = dg.ScheduleDefinition(
    job=sync_sources, cron_schedule="0 2 * * *", execution_timezone="Asia/Shanghai"
)

monthly_scoring = dg.build_schedule_from_partitioned_job(
    score_period, day_of_month=3, hour_of_day=6
)
