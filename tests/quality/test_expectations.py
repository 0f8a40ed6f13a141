"""Expectations on small row lists give exact counts and name the failing rows by their keys; the
fact suite follows the catalog's units; a demo month's checks are readable from Dagster."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from typer.testing import CliRunner

from quality.expectations import Expectation, validate_rows
from quality.fact_suites import FACT_COLUMNS, FACT_KEY, fact_suite
from schemas.catalog import load_catalog

COLUMNS = ("job_number", "kpi_code", "kind", "value")
KEY = ("job_number", "kpi_code", "kind")


def _fact(job: str | None, code: str, value: str | None, kind: str = "actual") -> dict[str, Any]:
    return {
        "job_number": job,
        "kpi_code": code,
        "kind": kind,
        "value": None if value is None else Decimal(value),
    }


ROWS = [
    _fact("E001", "semi_finished_yield_rate", "97.5"),
    _fact("E002", "semi_finished_yield_rate", "130"),
    _fact("E003", "customer_satisfaction", "4.2"),
    _fact("E003", "customer_satisfaction", "4.4"),
    _fact(None, "semi_finished_yield_rate", "88"),
]


def _one(rows: list[dict[str, Any]], expectation: Expectation) -> Any:
    [result] = validate_rows(rows, [expectation], columns=COLUMNS, key=KEY)
    return result


def test_a_rate_above_100_fails_and_is_named_by_its_key() -> None:
    rule = Expectation(
        "between",
        "value",
        where={"kpi_code": ("semi_finished_yield_rate",)},
        args={"min_value": 0, "max_value": 100},
    )
    result = _one(ROWS, rule)
    assert (result.passed, result.evaluated, result.failed) == (False, 3, 1)
    assert result.failing_rows == (
        {"job_number": "E002", "kpi_code": "semi_finished_yield_rate", "kind": "actual",
         "value": 130.0},
    )  # fmt: skip
    assert result.name == "between(value) in [0, 100] where kpi_code in [semi_finished_yield_rate]"


def test_a_duplicate_key_fails_uniqueness_with_both_rows() -> None:
    result = _one(ROWS, Expectation("unique", args={"columns": KEY}))
    assert (result.passed, result.evaluated, result.failed) == (False, 5, 2)
    assert [r["job_number"] for r in result.failing_rows] == ["E003", "E003"]
    assert _one(ROWS[:3], Expectation("unique", args={"columns": KEY})).passed is True


def test_a_missing_job_number_fails_not_null() -> None:
    result = _one(ROWS, Expectation("not_null", "job_number", "ERROR"))
    assert (result.passed, result.evaluated, result.failed) == (False, 5, 1)
    assert result.failing_rows == (
        {"job_number": None, "kpi_code": "semi_finished_yield_rate", "kind": "actual"},
    )


def test_allowed_values_and_single_column_uniqueness() -> None:
    in_set = _one(ROWS, Expectation("in_set", "kind", args={"value_set": ("actual", "target")}))
    assert (in_set.passed, in_set.evaluated, in_set.failed) == (True, 5, 0)
    unique = _one(ROWS, Expectation("unique", "job_number"))
    # Nulls are not compared: the two E003 rows fail, the unnamed row is not evaluated.
    assert (unique.passed, unique.evaluated, unique.failed) == (False, 5, 2)


@pytest.mark.parametrize(
    ("bounds", "passed"),
    [({"min_value": 1}, True), ({"min_value": 6}, False), ({"max_value": 4}, False)],
)
def test_row_count_bounds(bounds: dict[str, int], passed: bool) -> None:
    result = _one(ROWS, Expectation("row_count", severity="WARN", args=bounds))
    assert (result.passed, result.evaluated, result.failed) == (passed, 5, 0 if passed else 1)
    assert result.failing_rows == ()


def test_an_empty_table_fails_only_its_row_count() -> None:
    suite = fact_suite(load_catalog(), ("semi_finished_yield_rate",))
    results = validate_rows([], suite, columns=FACT_COLUMNS, key=FACT_KEY)
    assert [(r.expectation.check, r.passed, r.evaluated) for r in results] == [
        ("values_in_range", True, 0),
        ("values_in_range", True, 0),
        ("keys_unique", True, 0),
        ("job_number_present", True, 0),
        ("has_facts", False, 0),
    ]


def test_the_fact_suite_takes_ranges_from_the_catalog_units() -> None:
    codes = ("customer_satisfaction", "lead_conversion_rate", "repurchase_rate", "contract_amount")
    ranges = {
        e.where["kpi_code"]: dict(e.args)
        for e in fact_suite(load_catalog(), codes)
        if e.kind == "between"
    }
    assert ranges == {
        ("contract_amount",): {"min_value": 0.0},
        ("customer_satisfaction",): {"min_value": 1.0, "max_value": 5.0},
        ("lead_conversion_rate", "repurchase_rate"): {"min_value": 0.0, "max_value": 100.0},
    }
    evaluations = fact_suite(load_catalog(), ("manager_evaluation", "project_progress_rate"))
    assert {e.where["kpi_code"]: e.args["max_value"] for e in evaluations if e.where} == {
        ("manager_evaluation",): 100.0,
        ("project_progress_rate",): 120.0,
    }


def test_a_demo_month_records_each_fact_check_in_the_instance(_isolated_home: Path) -> None:
    from orchestration.cli.main import app
    from orchestration.partitions import closed_periods

    result = CliRunner().invoke(app, ["demo", "--employees", "10", "--periods", "1"])
    assert result.exit_code == 0, result.output
    instance = dg.DagsterInstance.from_config(str(_isolated_home / "dagster"))
    key = dg.AssetKey(["facts", "qms"])
    event = instance.get_latest_materialization_event(key)
    assert event is not None and event.asset_materialization is not None
    assert event.asset_materialization.partition == closed_periods(1)[0]
    facts = event.asset_materialization.metadata["facts"].value
    seen = {}
    for name in ("values_in_range", "keys_unique", "job_number_present", "has_facts"):
        record = instance.get_latest_asset_check_evaluation_record(dg.AssetCheckKey(key, name))
        assert record is not None, name
        evaluation = record.event.dagster_event.asset_check_evaluation_data
        seen[name] = (evaluation.passed, evaluation.metadata["evaluated"].value)
        assert evaluation.partition == closed_periods(1)[0], name
        assert evaluation.metadata["failed"].value == 0, name
        assert evaluation.metadata["failing_rows"].value.records == [], name
    assert seen == {
        "values_in_range": (True, facts),
        "keys_unique": (True, facts),
        "job_number_present": (True, facts),
        "has_facts": (True, facts),
    }


def test_a_stored_rate_of_130_fails_the_blocking_range_check(stores: Any) -> None:
    from sqlalchemy.orm import Session

    from connectors.registry import get
    from orchestration.checks import fact_check_specs, run_fact_checks
    from pipelines.facts import save_facts
    from schemas.facts import Fact

    qms = get("qms")
    key = dg.AssetKey(["facts", "qms"])
    facts = [
        Fact("E001", "2026-10", "semi_finished_yield_rate", Decimal("96.5"), "%", "qms", ()),
        Fact("E002", "2026-10", "semi_finished_yield_rate", Decimal("130"), "%", "qms", ()),
    ]
    with Session(stores.hub) as session, session.begin():
        save_facts(
            session,
            source="qms",
            period="2026-10",
            kpi_codes=qms.mapping.kpi_codes,
            facts=facts,
            run_id="r1",
        )
    specs = {s.name: s.blocking for s in fact_check_specs(qms, key)}
    assert specs == {
        "values_in_range": True,
        "keys_unique": True,
        "job_number_present": True,
        "has_facts": False,
    }
    results = {r.check_name: r for r in run_fact_checks(stores.hub, qms, key, "2026-10")}
    assert {name: r.passed for name, r in results.items()} == {
        "values_in_range": False,
        "keys_unique": True,
        "job_number_present": True,
        "has_facts": True,
    }
    in_range = results["values_in_range"]
    assert in_range.severity == dg.AssetCheckSeverity.ERROR
    assert in_range.metadata["evaluated"].value == 2
    assert in_range.metadata["failed"].value == 1
    assert [r.data for r in in_range.metadata["failing_rows"].value.records] == [
        {
            "expectation": "between(value) in [0, 100] where kpi_code in "
            "[semi_finished_yield_rate]",
            "job_number": "E002",
            "kind": "actual",
            "kpi_code": "semi_finished_yield_rate",
            "value": "130.0",
        }
    ]
    assert results["has_facts"].severity == dg.AssetCheckSeverity.WARN
