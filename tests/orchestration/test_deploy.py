"""``deploy/dagster.yaml`` is a valid Dagster instance config: Dagster's own validation accepts
every section but the PostgreSQL storage, whose package (dagster-postgres) a deployment adds; that
section names its URL by environment variable, never in the file."""

from __future__ import annotations

from pathlib import Path

import yaml
from dagster._core.instance.config import dagster_instance_config

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "dagster.yaml"


def test_the_deployment_instance_config_validates(tmp_path: Path) -> None:
    config = yaml.safe_load(DEPLOY.read_text(encoding="utf-8"))
    storage = config.pop("storage")
    assert storage == {"postgres": {"postgres_url": {"env": "KPIHUB_DAGSTER_POSTGRES_URL"}}}
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    validated, _ = dagster_instance_config(str(tmp_path))
    assert validated["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert validated["concurrency"]["runs"]["max_concurrent_runs"] == 4
    assert validated["freshness"] == {"enabled": True}
