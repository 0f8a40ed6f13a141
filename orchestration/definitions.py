"""The Dagster code location: everything is built from the connector registry and the settings."""

from __future__ import annotations

import dagster as dg

from connectors.registry import discover
from orchestration.assets import build_assets
from orchestration.jobs import build_schedules, score_period, sync_sources
from orchestration.resources import build_resources
from orchestration.sensors import (
    alert_failed_runs,
    alert_new_findings,
    confirm_overdue_scores,
    deliver_alerts,
    evaluations_inbox,
)
from schemas.settings import get_settings, load_sources_env


def build_definitions() -> dg.Definitions:
    settings = get_settings()
    load_sources_env(settings)
    connectors = dict(discover())
    return dg.Definitions(
        assets=build_assets(connectors),
        jobs=[sync_sources, score_period],
        schedules=build_schedules(settings),
        sensors=[
            deliver_alerts,
            confirm_overdue_scores,
            alert_new_findings,
            alert_failed_runs,
            evaluations_inbox,
        ],
        resources=build_resources(settings, connectors),
    )


defs = build_definitions()
