"""The hub's home folder and Dagster's persistent instance inside it, so runs made from the command
line are listed when the UI is opened afterwards."""

from __future__ import annotations

import os

from schemas.migrations.apply import upgrade_stores
from schemas.settings import Settings, load_sources_env

DAGSTER_YAML = """# Written by KPI Hub. Runs, event logs and schedules live in this folder.
telemetry:
  enabled: false
"""


def prepare_home(settings: Settings) -> None:
    """Create the home folder and Dagster's instance config, and export ``DAGSTER_HOME``."""
    settings.home.mkdir(parents=True, exist_ok=True)
    assert settings.dagster_home is not None
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    load_sources_env(settings)


def upgrade(settings: Settings) -> None:
    upgrade_stores(settings.hub_url, settings.hr_url)
