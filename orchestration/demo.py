"""``kpihub demo``: the whole flow on the embedded default against the sandbox company.

Runs go through the persistent Dagster instance, so ``make ui`` lists them afterwards. A second
demo with the same seed lands no new versions and publishes nothing, and says so.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import dagster as dg
from rich.console import Console
from rich.status import Status
from rich.table import Table

from connectors.sdk.timeparse import parse_instant
from orchestration.cli.inspect import (
    current_templates,
    grade_summary_table,
    trace_tree,
)
from orchestration.cli.options import fail
from orchestration.home import set_up
from orchestration.jobs import run_job, sync_periods
from orchestration.orphans import fail_orphaned_runs, process_tags
from orchestration.partitions import closed_periods
from pipelines.lineage import trace
from pipelines.score_list import score_rows
from pipelines.scoring import FINAL
from pipelines.stores import Stores
from pipelines.talent_pool import pool_rules
from schemas.settings import get_settings

# The demo prints its own summary, and a failure as one line naming its source and why (see
# run_failure); Dagster's step-by-step log, its failures and their stack traces included, stays
# in the run's event log for the UI. Its console logger would print a failure's stack trace
# above the demo's line, so it says only what is critical.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}

# A run the command line executed (orchestration.jobs.run_job) or a test executed in process.
RunResult = dg.JobExecutionResult | dg.ExecuteInProcessResult


@dataclass
class RunSummary:
    """Materialization metadata of one run, by asset key."""

    by_asset: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, result: RunResult) -> RunSummary:
        summary = cls()
        for event in result.get_asset_materialization_events():
            materialization = getattr(event.event_specific_data, "materialization", None)
            if not isinstance(materialization, dg.AssetMaterialization):
                continue
            summary.by_asset[materialization.asset_key.to_user_string()] = {
                k: v.value for k, v in materialization.metadata.items()
            }
        return summary


def _landed(metadata: dict[str, Any]) -> tuple[int, int]:
    """Records pulled and new versions landed, from a stream's materialization metadata."""
    return int(metadata.get("records_pulled", 0)), int(metadata.get("new_versions", 0))


class SyncProgress:
    """Listens to the sync run's events as Dagster stores them and prints one line per source
    once all its streams have landed, with a spinner naming the last stream in between: the sync
    takes about a minute at 10,000 people and would otherwise be silent."""

    def __init__(self, console: Console, keys: Iterable[dg.AssetKey]) -> None:
        self.console = console
        self.streams: dict[str, set[str]] = defaultdict(set)
        for key in keys:
            self.streams[key.path[0]].add(key.to_user_string())
        self.total = sum(len(s) for s in self.streams.values())
        self.done: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
        self.reported: set[str] = set()
        self.status: Status | None = None
        self.started = time.monotonic()

    def __call__(self, entry: Any) -> None:
        # A display must never fail the run it watches.
        try:
            self._on_event(entry)
        except Exception:
            return

    def _on_event(self, entry: Any) -> None:
        materialization = getattr(entry, "asset_materialization", None)
        if not isinstance(materialization, dg.AssetMaterialization):
            return
        key = materialization.asset_key.to_user_string()
        source = materialization.asset_key.path[0]
        if key not in self.streams.get(source, ()):
            return
        metadata = {k: v.value for k, v in materialization.metadata.items()}
        self.done[source][key] = _landed(metadata)
        landed = sum(len(d) for d in self.done.values())
        if self.status is not None:
            self.status.update(f"syncing the sources: {landed} of {self.total} streams, {key} last")
        if source not in self.reported and set(self.done[source]) == self.streams[source]:
            self.reported.add(source)
            pulled = sum(p for p, _ in self.done[source].values())
            versions = sum(v for _, v in self.done[source].values())
            streams = len(self.streams[source])
            self.console.print(
                f"  {source}: {pulled} records pulled, {versions} new versions landed "
                f"({streams} stream{'' if streams == 1 else 's'}, "
                f"{time.monotonic() - self.started:.0f} s)"
            )


def _print_sync(console: Console, summary: RunSummary, reported: set[str] | None = None) -> None:
    """The table of every stream; a source the progress lines did not already report gets its
    line here."""
    per_source: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    table = Table(title="Pulled from the sources")
    for column in ("source", "stream", "records pulled", "new versions", "changed"):
        table.add_column(column, justify="left" if column in ("source", "stream") else "right")
    for key, meta in sorted(summary.by_asset.items()):
        source, stream = key.split("/", 1)
        table.add_row(
            source,
            stream,
            str(meta["records_pulled"]),
            str(meta["new_versions"]),
            str(meta["changed_records"]),
        )
        per_source[source]["pulled"] += int(meta["records_pulled"])
        per_source[source]["landed"] += int(meta["new_versions"])
    console.print(table)
    for source, counts in sorted(per_source.items()):
        if source in (reported or ()):
            continue
        console.print(
            f"  {source}: {counts['pulled']} records pulled, {counts['landed']} new versions landed"
        )


def _reason(event: dg.DagsterEvent) -> str:
    """The error's own words on one line, without the exception's module path in front. Dagster
    wraps what an asset raised ("Error occurred while executing op ..."); the asset's own error,
    which names the source, stream, URL or variable, is the cause it carries."""
    error = event.step_failure_data.error
    while error is not None and (error.cls_name or "").startswith("Dagster") and error.cause:
        error = error.cause
    if error is None:
        return "no reason recorded"
    message = error.message
    prefix = f"{error.cls_name}: " if error.cls_name else None
    if prefix and prefix in message:
        message = message.split(prefix, 1)[1]
    return " ".join(message.split())


def run_failure(result: RunResult, what: str) -> str:
    """One line for a run that did not succeed: the step that failed, why, and the steps that
    did not run because of it (a blocking check that failed keeps ``scores`` from running). The
    run's event log, in the Dagster UI, has the rest."""
    started: set[str] = set()
    failed: list[str] = []
    for event in result.all_events:
        if event.is_step_start and event.step_key:
            started.add(event.step_key)
        elif event.is_step_failure and event.step_key:
            failed.append(f"step {event.step_key} failed: {_reason(event)}")
    planned = [node.name for node in result.job_def.nodes_in_topological_order]
    not_run = [name for name in planned if name not in started]
    line = f"{what} run {result.run_id} failed; " + "; ".join(failed or ["no step failed"])
    if not_run:
        line += f"; not run: {', '.join(not_run)}"
    return line


SANDBOX_NOW_ENV = "KPIHUB_SANDBOX_NOW"


def sandbox_clock() -> Callable[[], datetime] | None:
    """``KPIHUB_SANDBOX_NOW`` (an ISO 8601 instant of today) stops the sandbox's clock there, so
    that demos run minutes apart see the same records of today; unset, it runs with the wall."""
    text = os.environ.get(SANDBOX_NOW_ENV, "").strip()
    if not text:
        return None
    try:
        moment = parse_instant(text)
    except ValueError:
        raise fail(f"{SANDBOX_NOW_ENV}={text!r} is not an ISO 8601 instant") from None
    return lambda: moment


def score_month(defs: dg.Definitions, instance: dg.DagsterInstance, period: str) -> RunResult:
    """One month's ``score_period`` run (normalise, score, publish) on ``instance``: what the
    demo does for each month and ``kpihub score`` for one. Executed here, listed on the job's
    page in the UI."""
    return run_job(
        defs,
        instance,
        "score_period",
        periods=[period],
        partition_key=period,
        run_config=QUIET,
        tags=process_tags(),
    )


def sync_all(defs: dg.Definitions, instance: dg.DagsterInstance, run_id: str) -> RunResult:
    """A ``sync_sources`` run (every source stream, incrementally) on ``instance``, with the id
    the caller listens to for progress. Executed here, listed on the job's page in the UI."""
    return run_job(
        defs,
        instance,
        "sync_sources",
        periods=sync_periods(),
        run_config=QUIET,
        tags=process_tags(),
        run_id=run_id,
    )


def sync_with_progress(
    console: Console, defs: dg.Definitions, instance: dg.DagsterInstance
) -> RunSummary:
    """A ``sync_sources`` run with a line per source as it lands and the table of every stream
    at the end; a failed run stops here with its one line."""
    sync_job = defs.resolve_job_def("sync_sources")
    progress = SyncProgress(console, sync_job.asset_layer.selected_asset_keys)
    run_id = str(uuid.uuid4())
    instance.add_event_listener(run_id, progress)
    console.print("Syncing the sources:")
    with console.status("syncing the sources") as progress.status:
        sync = sync_all(defs, instance, run_id)
    if not sync.success:
        raise fail(run_failure(sync, "sync_sources"), code=1)
    summary = RunSummary.of(sync)
    _print_sync(console, summary, progress.reported)
    return summary


def score_months(
    console: Console, defs: dg.Definitions, instance: dg.DagsterInstance, months: list[str]
) -> int:
    """A ``score_period`` run per month, oldest first, and a table of what each normalised,
    scored and published; returns the score versions published. A failed month stops here with
    its one line: the months after it are not scored on facts that may lean on it."""
    published = 0
    facts_table = Table(title="KPI facts and scores by period")
    for column in ("period", "facts", "new fact versions", "quarantined", "scored", "published"):
        facts_table.add_column(column, justify="right")
    with console.status("scoring") as status:
        for period in months:
            status.update(f"normalising, checking and scoring {period}")
            result = score_month(defs, instance, period)
            if not result.success:
                raise fail(run_failure(result, f"score_period {period}"), code=1)
            summary = RunSummary.of(result)
            facts_meta = [m for k, m in summary.by_asset.items() if k.startswith("facts/")]
            scores_meta = summary.by_asset["scores"]
            published += int(scores_meta["published"])
            facts_table.add_row(
                period,
                str(sum(int(m["facts"]) for m in facts_meta)),
                str(sum(int(m["new_fact_versions"]) for m in facts_meta)),
                str(sum(int(m["quarantined"]) for m in facts_meta)),
                str(scores_meta["scored"]),
                str(scores_meta["published"]),
            )
    console.print(facts_table)
    return published


def run_demo(
    console: Console, *, seed: int, employees: int, periods: int, faults: str = "none"
) -> int:
    from sandbox.model import generate_world
    from sandbox.serving import SandboxServer

    settings = get_settings()
    # A configuration that cannot work stops here in one line, before any source is pulled.
    current_templates()
    clock = sandbox_clock()
    set_up(settings)
    console.print(
        f"[bold]KPI Hub demo[/bold]: sandbox company seed {seed}, {employees} employees; "
        f"stores at {settings.home}"
    )
    world = generate_world(seed=seed, employees=employees)
    world.clock = clock
    from orchestration.definitions import build_definitions

    last_period = closed_periods(periods)[-1]
    with SandboxServer(world, faults=faults) as server:
        os.environ.update(server.endpoints)
        # A first pull fetches the months the demo scores, not the sandbox's whole half-year.
        os.environ.setdefault("KPIHUB_HISTORY_MONTHS", str(periods))
        defs = build_definitions()
        instance = dg.DagsterInstance.get()
        fail_orphaned_runs(instance)
        sync_with_progress(console, defs, instance)
        published = score_months(console, defs, instance, closed_periods(periods))
    stores = Stores.connect(settings.hub_url, settings.hr_url)
    rows = score_rows(stores, last_period)
    # A summary, not every score: a real company has thousands; the CLI lists and filters them.
    console.print(grade_summary_table(rows, f"Scores of {last_period} by template and grade"))
    console.print(
        f"Published scores of {last_period}: {len(rows)}; list them with "
        f"[bold]kpihub scores --period {last_period}[/bold]"
    )
    if rows:
        # The best final score: a held one would show its hold rather than a whole grade.
        best = max(
            rows,
            key=lambda r: (r["status"] == FINAL, float(r["total"] or 0), r["job_number"]),
        )
        console.print(
            f"\nTrace of one score (kpihub trace {best['job_number']} --period {last_period}):"
        )
        rules = pool_rules(current_templates())
        console.print(trace_tree(trace(stores, best["job_number"], last_period, pool_rules=rules)))
    if published == 0:
        console.print(
            "\n[green]Nothing new to publish:[/green] same inputs, same scores; "
            "every published score is unchanged."
        )
    else:
        console.print(f"\n[green]Published {published} new score version(s).[/green]")
    console.print("Open the Dagster UI with [bold]make ui[/bold] to see these runs.")
    stores.dispose()
    return 0
