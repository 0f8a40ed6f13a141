"""Sensors. ``deliver_alerts`` empties the alert outbox every minute: what a sink refuses or
throttles stays queued with its next try, so the sensor only has to keep asking."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from connectors.sdk.timeparse import now_utc
from orchestration.resources import StoresResource
from pipelines.stores import Stores
from schemas.settings import get_settings

DELIVERY_INTERVAL_SECONDS = 60


@dg.sensor(
    name="deliver_alerts",
    minimum_interval_seconds=DELIVERY_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Sends the queued alerts to the DingTalk robot, the webhook, e-mail and personal work "
        "notifications; a sink that fails or throttles keeps its alerts for the next tick."
    ),
)
def deliver_alerts(context: dg.SensorEvaluationContext, stores: StoresResource) -> dg.SkipReason:
    from quality.alerts import deliver
    from quality.alerts.config import sinks_from_settings

    sinks = sinks_from_settings(get_settings())
    if not sinks:
        return dg.SkipReason("no alert sink is configured (KPIHUB_ALERT_* variables)")
    report = deliver(stores.stores().hub, sinks, now_utc())
    parts = []
    for name, sink in report.sinks.items():
        parts.append(f"{name}: {sink.sent} sent, {sink.waiting} waiting")
        for error in sink.errors:
            context.log.warning(f"{name}: {error}")
    return dg.SkipReason("; ".join(parts))


DEADLINE_INTERVAL_SECONDS = 15 * 60


@dg.sensor(
    name="confirm_overdue_scores",
    minimum_interval_seconds=DEADLINE_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Confirms every reviewed score whose employee neither confirmed nor appealed it within "
        "its working days (KPIHUB_CONFIRM_WORKING_DAYS); the audit log names the deadline."
    ),
)
def confirm_overdue_scores(
    context: dg.SensorEvaluationContext, stores: StoresResource
) -> dg.SkipReason:
    from pipelines.review import confirm_overdue

    confirmed = confirm_overdue(stores.stores())
    for job_number, period in confirmed:
        context.log.info(f"{job_number} {period}: confirmed by its deadline")
    return dg.SkipReason(f"{len(confirmed)} score(s) confirmed by their deadline")


FINDINGS_INTERVAL_SECONDS = 60


def _ops_sinks() -> list[str]:
    from quality.alerts.config import sinks_from_settings
    from quality.alerts.ops import OPS_SINKS

    return [s.name for s in sinks_from_settings(get_settings()) if s.name in OPS_SINKS]


@dg.sensor(
    name="alert_new_findings",
    minimum_interval_seconds=FINDINGS_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Queues an alert to the robot, the webhook and e-mail for every new open ERROR finding "
        "(it holds scores until HR decides it), and one digest per month of the new WARN ones."
    ),
)
def alert_new_findings(
    context: dg.SensorEvaluationContext, stores: StoresResource
) -> dg.SkipReason:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from quality.alerts import configured_secrets, enqueue
    from quality.alerts.ops import finding_alerts
    from schemas.tables import Finding

    sinks = _ops_sinks()
    if not sinks:
        return dg.SkipReason("no operations sink is configured (KPIHUB_ALERT_* variables)")
    after = int(context.cursor or 0)
    hub = stores.stores().hub
    with Session(hub) as session:
        found = list(
            session.scalars(
                select(Finding)
                .where(Finding.id > after, Finding.status == "open")
                .order_by(Finding.id)
                .limit(1000)
            )
        )
    if not found:
        return dg.SkipReason(f"no new finding since finding {after}")
    alerts = finding_alerts(found, sinks)
    queued = enqueue(hub, alerts, now_utc(), forbidden=configured_secrets(get_settings()))
    context.update_cursor(str(max(f.id for f in found)))
    return dg.SkipReason(f"{len(found)} new finding(s): {queued} alert(s) queued")


def _error_line(event: dg.DagsterEvent) -> str:
    """The step's error on its first line, as the op's own exception said it; Dagster's words
    when the event carries no error."""
    error = event.step_failure_data.error if event.step_failure_data else None
    if error is None:
        return " ".join((event.message or "").split())
    while error.cause is not None:  # Dagster wraps the op's own exception
        error = error.cause
    return " ".join(error.message.strip().splitlines()[0].split())


@dg.run_failure_sensor(
    name="alert_failed_runs",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Queues an alert to the robot, the webhook and e-mail for every failed run: the job, "
        "the step that failed and why, in one line."
    ),
)
def alert_failed_runs(context: dg.RunFailureSensorContext, stores: StoresResource) -> None:
    from quality.alerts import configured_secrets, enqueue
    from quality.alerts.ops import run_failure_alerts

    sinks = _ops_sinks()
    if not sinks:
        return
    run = context.dagster_run
    reasons = [
        f"step {event.step_key} failed: {_error_line(event)}"
        for event in context.get_step_failure_events()
    ]
    reason = "; ".join(reasons) or " ".join((context.failure_event.message or "").split())
    alerts = run_failure_alerts(run.job_name, run.run_id, reason[:1000], sinks)
    enqueue(stores.stores().hub, alerts, now_utc(), forbidden=configured_secrets(get_settings()))
    context.log.info(f"run {run.run_id} of {run.job_name} failed: {len(alerts)} alert(s) queued")


INBOX_INTERVAL_SECONDS = 30
INBOX_SUFFIXES = (".csv", ".xlsx")


def _beside(folder: Path, name: str) -> Path:
    """Where a file goes in ``folder``: its own name, or with the time added when that is taken."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if target.exists():
        stamp = now_utc().strftime("%Y%m%dT%H%M%S%f")
        target = folder / f"{Path(name).stem}-{stamp}{Path(name).suffix}"
    return target


def import_inbox(stores: Stores, inbox: Path) -> list[str]:
    """Import every evaluation file dropped into ``inbox``, oldest first: a file that lands
    goes to ``processed/``; a file with problems lands nothing and goes to ``rejected/`` with
    its problems, row by row, in ``<file>.errors.csv`` beside it. Returns what happened, a
    line per file. Nothing moves while no directory has been landed: that is not the file's
    fault."""
    import csv
    import uuid

    from connectors.sdk.files import FileImportError
    from pipelines.evaluation_import import NoDirectory, import_evaluations

    files = sorted(
        (p for p in inbox.iterdir() if p.is_file() and p.suffix.lower() in INBOX_SUFFIXES),
        key=lambda p: (p.stat().st_mtime, p.name),
    )
    said: list[str] = []
    for file in files:
        try:
            imported = import_evaluations(stores, file, f"inbox-{uuid.uuid4().hex}", by="inbox")
        except NoDirectory:
            said.append(f"{file.name}: waiting, no employee directory has been landed yet")
            break
        except FileImportError as exc:
            target = _beside(inbox / "rejected", file.name)
            file.rename(target)
            report = target.with_name(target.name + ".errors.csv")
            with report.open("w", encoding="utf-8-sig", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(["file", "row", "column", "problem"])
                for issue in exc.issues:
                    writer.writerow(
                        [issue.file, issue.row or "", issue.column or "", issue.message]
                    )
            said.append(f"{file.name}: rejected, {exc.reason}; see rejected/{report.name}")
            continue
        target = _beside(inbox / "processed", file.name)
        file.rename(target)
        stats = imported.stats
        said.append(f"{file.name}: imported, {stats.pulled} row(s), {stats.landed} new version(s)")
    return said


@dg.sensor(
    name="evaluations_inbox",
    minimum_interval_seconds=INBOX_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Imports the evaluation files (CSV, XLSX) dropped into $KPIHUB_HOME/inbox/: a good one "
        "moves to processed/, a bad one to rejected/ with its row-level errors beside it."
    ),
)
def evaluations_inbox(context: dg.SensorEvaluationContext, stores: StoresResource) -> dg.SkipReason:
    inbox = get_settings().home / "inbox"
    if not inbox.is_dir():
        inbox.mkdir(parents=True, exist_ok=True)
    said = import_inbox(stores.stores(), inbox)
    for line in said:
        context.log.info(line)
    return dg.SkipReason("; ".join(said) or f"no file in {inbox}")
