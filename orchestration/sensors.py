"""Sensors. ``deliver_alerts`` empties the alert outbox every minute: what a sink refuses or
throttles stays queued with its next try, so the sensor only has to keep asking."""

from __future__ import annotations

import dagster as dg

from connectors.sdk.timeparse import now_utc
from orchestration.resources import StoresResource
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
