from __future__ import annotations

from decimal import Decimal

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from pipelines.stores import Stores
from schemas.migrations.apply import current_revisions, upgrade_stores
from schemas.tables import HrBase, HubBase

HUB_TABLES = {
    "alert_outbox",
    "audit_log",
    "fact_inputs",
    "findings",
    "kpi_facts",
    "quarantine",
    "raw_record_versions",
    "record_heads",
    "stream_leases",
    "stream_states",
}
HR_TABLES = {
    "scores",
    "score_components",
    "score_adjustments",
    "score_reviews",
    "appeals",
    "score_changes",
}


def test_upgrade_creates_both_stores_side_by_side(stores: Stores, store_url: str) -> None:
    tables = set(inspect(stores.hub).get_table_names())
    assert tables == HUB_TABLES | HR_TABLES | {"alembic_version_hub", "alembic_version_hr"}
    assert current_revisions(store_url, store_url) == {"hub": "0006_hub", "hr": "0004_hr"}


def test_upgrade_twice_changes_nothing(stores: Stores, store_url: str) -> None:
    upgrade_stores(store_url, store_url)
    assert current_revisions(store_url, store_url) == {"hub": "0006_hub", "hr": "0004_hr"}


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


def test_the_migrated_hr_store_matches_the_table_models(stores: Stores) -> None:
    with stores.hr.connect() as conn:

        def hr_only(name: str | None, kind: str, parents: dict[str, str | None]) -> bool:
            if kind == "schema":
                return True
            table = name if kind == "table" else parents.get("table_name")
            return table in HrBase.metadata.tables

        context = MigrationContext.configure(
            conn, opts={"compare_type": False, "include_name": hr_only}
        )
        differences = compare_metadata(context, HrBase.metadata)
    assert differences == []


def test_the_hr_store_upgrades_from_its_first_revision_keeping_published_scores(
    store_url: str,
) -> None:
    """A score published before the rules were recorded keeps its numbers; its components say
    they were measured against the template's target with their full weight."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from schemas.migrations.apply import alembic_config

    command.downgrade(alembic_config("hr", store_url), "0001_hr")
    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO scores (id, job_number, employee_name, department, period, template,"
                " template_version, total, grade, status, version, is_current, inputs_sha256,"
                " published_at, run_id) VALUES (1, 'E00001', 'n', 'd', '2026-10', 'sales',"
                " '2026.1', '96.00', 'meets', 'final', 1, true, 'x', '2026-11-01 00:00:00',"
                " 'r')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO score_components (score_id, position, kpi_code, actual, target,"
                " attainment, weight, points, fact_ids) VALUES (1, 0, 'contract_amount',"
                " '288000', '300000', '0.96', '1', '96.00', '[7]')"
            )
        )
    upgrade_stores(store_url, store_url)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT target_source, direction, cap, weight_used, status FROM score_components")
        ).one()
        score = conn.execute(text("SELECT grade, hold_reasons, subtotal FROM scores")).one()
    engine.dispose()
    assert (row.target_source, row.direction, row.status) == ("template", "higher", "scored")
    assert Decimal(str(row.cap)) == Decimal("1.2")
    assert Decimal(str(row.weight_used)) == 1
    assert score.grade == "meets" and score.subtotal is None
    assert score.hold_reasons in ([], "[]")
