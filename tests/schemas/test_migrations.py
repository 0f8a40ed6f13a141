from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from pipelines.stores import Stores
from schemas.migrations.apply import current_revisions, upgrade_stores
from schemas.tables import HubBase

HUB_TABLES = {
    "audit_log",
    "fact_inputs",
    "findings",
    "kpi_facts",
    "quarantine",
    "raw_record_versions",
    "record_heads",
    "stream_states",
}
HR_TABLES = {"scores", "score_components", "score_adjustments"}


def test_upgrade_creates_both_stores_side_by_side(stores: Stores, store_url: str) -> None:
    tables = set(inspect(stores.hub).get_table_names())
    assert tables == HUB_TABLES | HR_TABLES | {"alembic_version_hub", "alembic_version_hr"}
    assert current_revisions(store_url, store_url) == {"hub": "0002_hub", "hr": "0001_hr"}


def test_upgrade_twice_changes_nothing(stores: Stores, store_url: str) -> None:
    upgrade_stores(store_url, store_url)
    assert current_revisions(store_url, store_url) == {"hub": "0002_hub", "hr": "0001_hr"}


def test_raw_versions_are_unique_on_key_and_hash(stores: Stores) -> None:
    constraints = inspect(stores.hub).get_unique_constraints("raw_record_versions")
    assert [c["column_names"] for c in constraints] == [
        ["source", "stream", "record_key", "payload_sha256"]
    ]


def test_the_migrated_hub_store_matches_the_table_models(stores: Stores) -> None:
    """A model changed without a migration (or the reverse) shows up here, not in production."""
    with stores.hub.connect() as conn:
        # Both stores share this database in tests: compare the hub's own tables only.
        def hub_only(name: str | None, kind: str, parents: dict[str, str | None]) -> bool:
            if kind == "schema":
                return True
            table = name if kind == "table" else parents.get("table_name")
            return table in HubBase.metadata.tables

        context = MigrationContext.configure(
            conn, opts={"compare_type": False, "include_name": hub_only}
        )
        differences = compare_metadata(context, HubBase.metadata)
    assert differences == []
    constraints = inspect(stores.hub).get_unique_constraints("kpi_facts")
    assert [c["column_names"] for c in constraints] == [
        ["job_number", "period", "kpi_code", "kind", "version"]
    ]
