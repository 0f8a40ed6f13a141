"""Jobs and schedules HR operations run: sync every source, then score a month; and how the
command line runs them.

Both schedules run in Asia/Shanghai, where the companies work, and are on from the moment the code
location loads: a fresh install syncs the next night and closes the next month without anyone
switching them on in the UI.

``kpihub demo`` and ``kpihub score`` execute these jobs in their own process, quick and with no
server to start, yet each run is recorded as a run of the code location, as a run launched from
the UI is, so the job pages and the overview timeline list it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from connectors.sdk.calendar import today_local
from orchestration.partitions import first_period
from schemas.periods import SHANGHAI, last_closed_period, period_of, periods_between
from schemas.settings import Settings

if TYPE_CHECKING:
    from dagster._core.remote_origin import RemoteJobOrigin

TIMEZONE = "Asia/Shanghai"
DAILY_SYNC = "daily_sync"
MONTHLY_CLOSE = "monthly_close"
DAILY_SYNC_HOUR = 2
WORKSPACE = Path(__file__).resolve().parents[1] / "workspace.yaml"
DEFINITIONS_MODULE = "orchestration.definitions"
PERIODS_TAG = "kpihub/periods"
"""The months a run covers: ``2026-11``, or a range such as ``2026-06..2026-12``."""
SOURCES_TAG = "kpihub/sources"
"""The sources a run covers, comma-separated: ``attendance,crm,dingtalk``."""
IN_PROCESS = {"execution": {"config": {"in_process": {}}}}
"""Every step in the command's own process: no process per step, nothing to start or wait for."""

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
    anyone opens the UI in the morning. Its runs say which months and sources they cover, as
    the command line's do."""

    @dg.schedule(
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
    def sync(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        day = context.scheduled_execution_time.astimezone(SHANGHAI).date()
        return dg.RunRequest(tags=_tick_tags(context, sync_sources.name, sync_periods(day)))

    return sync


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
        return dg.RunRequest(
            partition_key=period, tags=_tick_tags(context, score_period.name, [period])
        )

    return close


def _tick_tags(
    context: dg.ScheduleEvaluationContext, job_name: str, periods: Sequence[str]
) -> dict[str, str]:
    """The coverage tags of a tick's run; the months alone when the tick is evaluated without
    its repository (the sources are read from the job's assets)."""
    try:
        job = context.repository_def.get_job(job_name)
    except dg.DagsterInvariantViolationError:
        return {PERIODS_TAG: periods_label(periods)}
    return coverage_tags(job, periods)


def build_schedules(settings: Settings) -> list[dg.ScheduleDefinition]:
    return [daily_sync(), monthly_close(settings)]


def job_origin(defs: dg.Definitions, job_name: str) -> RemoteJobOrigin:
    """The origin the UI gives a run of ``job_name`` it launches: the code location as
    ``workspace.yaml`` declares it, read by Dagster's own loader, and the repository of
    ``defs``. A job page lists the runs tagged with this origin's repository label and the
    overview timeline places a run by it; a run without one is only in the runs list. Reading
    the workspace file starts no code server."""
    from dagster._core.remote_origin import RemoteRepositoryOrigin
    from dagster._core.workspace.load import (
        location_origin_from_module_name,
        location_origins_from_yaml_paths,
    )

    origins = location_origins_from_yaml_paths([str(WORKSPACE)]) if WORKSPACE.exists() else []
    location = next(
        (
            o
            for o in origins
            if getattr(o, "loadable_target_origin", None) is not None
            and o.loadable_target_origin.module_name == DEFINITIONS_MODULE
        ),
        # Installed without the project's workspace file: the location Dagster names after
        # the module when it is loaded with ``-m orchestration.definitions``.
        location_origin_from_module_name(DEFINITIONS_MODULE, None, None),
    )
    repository = RemoteRepositoryOrigin(location, defs.get_repository_def().name)
    return repository.get_job_origin(job_name)


def sync_periods(today: date | None = None) -> list[str]:
    """The months a sync on ``today`` (default: today in Asia/Shanghai) covers: those of the
    history the hub keeps, the current one included. A first pull fetches them all; a later
    one fetches what changed since, which may be a correction to any of them."""
    day = today or today_local()
    return periods_between(first_period(day), period_of(day))


def periods_label(periods: Sequence[str]) -> str:
    """One month as itself, consecutive months as ``first..last``."""
    ordered = sorted(periods)
    if not ordered:
        return ""
    return ordered[0] if len(ordered) == 1 else f"{ordered[0]}..{ordered[-1]}"


def coverage_tags(job: dg.JobDefinition, periods: Sequence[str]) -> dict[str, str]:
    """The months and sources a run of ``job`` covers, as run tags HR can read and filter by
    in the UI. The sources are those of the job's assets (their ``source`` tag)."""
    graph = job.asset_layer.asset_graph
    sources = sorted(
        {
            source
            for key in job.asset_layer.selected_asset_keys
            if (source := graph.get(key).tags.get("source"))
        }
    )
    return {PERIODS_TAG: periods_label(periods), SOURCES_TAG: ",".join(sources)}


def run_job(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    job_name: str,
    *,
    periods: Sequence[str],
    run_config: Mapping[str, object] | None = None,
    tags: Mapping[str, str] | None = None,
    partition_key: str | None = None,
    run_id: str | None = None,
) -> dg.JobExecutionResult:
    """Run ``job_name`` of ``defs`` now, in this process, as a run of the code location.

    The run is created with the origin a run launched from the UI has (:func:`job_origin`),
    the job's own snapshot and the partition's tags, then executed here step by step, as
    ``execute_in_process`` would: a command's run starts no code server and no run worker,
    keeps the sandbox and the settings of the process that runs it, and still shows on the
    job's page and the overview timeline, with its months and sources (:func:`coverage_tags`).
    """
    from dagster._core.definitions.job_base import InMemoryJob
    from dagster._core.execution.api import execute_run
    from dagster._core.execution.execute_in_process import merge_run_tags

    job = defs.resolve_job_def(job_name)
    config = {**(run_config or {}), **IN_PROCESS}
    run_tags = merge_run_tags(
        job_def=job,
        partition_key=partition_key,
        tags={**coverage_tags(job, periods), **(tags or {})},
        asset_selection=None,
        instance=instance,
        run_config=config,
    )
    run = instance.create_run_for_job(
        job_def=job,
        run_id=run_id,
        run_config=config,
        tags=run_tags,
        remote_job_origin=job_origin(defs, job_name),
    )
    return execute_run(InMemoryJob(job), run, instance, raise_on_error=False)
