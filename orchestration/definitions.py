"""The Dagster code location: everything is built from the connector registry and the settings."""

from __future__ import annotations

import dagster as dg

from connectors.registry import discover
from orchestration.assets import build_assets
from orchestration.jobs import build_schedules, score_period, sync_sources
from orchestration.resources import build_resources
from orchestration.sensors import confirm_overdue_scores, deliver_alerts
from schemas.settings import get_settings, load_sources_env


def build_definitions() -> dg.Definitions:
    settings = get_settings()
    load_sources_env(settings)
    connectors = dict(discover())
    return dg.Definitions(
        assets=build_assets(connectors),
        jobs=[sync_sources, score_period],
        schedules=build_schedules(settings),
        sensors=[deliver_alerts, confirm_overdue_scores],
        resources=build_resources(settings, connectors),
    )


defs = build_definitions()
