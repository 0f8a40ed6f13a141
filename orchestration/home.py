"""The hub's home folder and Dagster's persistent instance inside it, so runs made from the command
line are listed when the UI is opened afterwards."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from schemas.migrations.apply import upgrade_stores
from schemas.settings import Settings, load_sources_env

DAGSTER_YAML = """# Written by KPI Hub. Runs, event logs and schedules live in this folder.
telemetry:
  enabled: false
# Each source asset's freshness policy (its sync window) shows in the UI.
freshness:
  enabled: true
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


@contextmanager
def setup_lock(settings: Settings) -> Iterator[None]:
    """One process at a time sets a home up: two demos started together on a fresh home would
    otherwise both create Dagster's run storage (leaving two heads in its version table, which
    breaks every later run) and both migrate the stores."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with (settings.home / ".setup.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def set_up(settings: Settings) -> None:
    """Home, stores and Dagster's instance ready to use, safely when processes start together."""
    import dagster as dg

    with setup_lock(settings):
        prepare_home(settings)
        upgrade(settings)
        instance = dg.DagsterInstance.get()
        # Touch every storage so that each is created and migrated under the lock.
        instance.get_runs(limit=1)
        instance.get_latest_materialization_event(dg.AssetKey(["kpihub"]))
        instance.all_instigator_state()
        instance.dispose()
