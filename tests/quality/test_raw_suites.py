"""The raw streams' suites, declared in each source's folder: run on what a pull landed, one
Dagster check per family with counts and the failing records by key; clean sandbox data passes
them all."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from connectors.registry import discover, get
from orchestration.raw_checks import raw_check_specs, run_raw_checks
from pipelines.landing import land_records
from pipelines.stores import Stores
from quality.raw_suites import source_suites, suite_columns
from schemas.envelope import RawRecord

AT = datetime(2026, 10, 5, 9, tzinfo=UTC)


def _receipt(fid: int, **changes: Any) -> RawRecord:
    payload = {
        "FID": fid, "FEMPNO": f"E{fid:05d}", "FMATERIAL": "M-1001", "FQTY": "120.0000",
        "FDATE": "2026-10-05 17:03:00", "FDOCUMENTSTATUS": "C",
        "FMODIFYDATE": "2026-10-05 17:03:00", **changes,
    }  # fmt: skip
    return RawRecord.wrap(
        source="erp", stream="prd_instock", record_key=str(fid), payload=payload,
        source_updated_at=AT, extracted_at=AT,
    )  # fmt: skip


def test_every_source_but_the_file_import_declares_its_streams_suites() -> None:
    for name, connector in discover().items():
        declared = set(source_suites(name))
        assert declared <= {s.name for s in connector.streams}, name
        if name != "evaluations":  # rows are checked by the file template itself
            assert declared == {s.name for s in connector.streams}, name
    assert suite_columns(source_suites("erp")["prd_instock"]) == (
        "record_key", "FID", "FEMPNO", "FMATERIAL", "FQTY", "FDATE", "FDOCUMENTSTATUS"
    )  # fmt: skip


def test_bad_receipts_fail_their_families_with_the_record_keys(stores: Stores) -> None:
    records = [
        _receipt(1),
        _receipt(2, FQTY="-5.0000"),
        _receipt(3, FDOCUMENTSTATUS="X"),
        _receipt(4, FMATERIAL=None),
        _receipt(5, FQTY="-0.5000", FDOCUMENTSTATUS="A"),
    ]
    with Session(stores.hub) as session, session.begin():
        land_records(session, records, "run-1", AT)
    connector = get("erp")
    key = dg.AssetKey(["erp", "prd_instock"])
    specs = raw_check_specs(connector, "prd_instock", key)
    assert [(s.name, s.blocking) for s in specs] == [
        ("complete", True), ("allowed_values", True), ("values_in_range", True)
    ]  # fmt: skip
    results = {
        r.check_name: r for r in run_raw_checks(stores.hub, connector, "prd_instock", key, "run-1")
    }
    assert {n: (r.passed, r.metadata["evaluated"].value, r.metadata["failed"].value)
            for n, r in results.items()} == {
        "complete": (False, 5, 1),
        "allowed_values": (False, 5, 1),
        "values_in_range": (False, 5, 2),
    }  # fmt: skip
    rows = {
        name: [(r.data["record_key"], r.data["expectation"]) for r in
               result.metadata["failing_rows"].value.records]
        for name, result in results.items()
    }  # fmt: skip
    assert rows == {
        "complete": [("4", "not_null(FMATERIAL)")],
        "allowed_values": [("3", "in_set(FDOCUMENTSTATUS)")],
        "values_in_range": [("2", "between(FQTY) in [0, ]"), ("5", "between(FQTY) in [0, ]")],
    }
    assert all(r.severity == dg.AssetCheckSeverity.ERROR for r in results.values())
    # Another run landed nothing: nothing to judge, every check passes on no rows.
    again = run_raw_checks(stores.hub, connector, "prd_instock", key, "run-2")
    assert [(r.passed, r.metadata["evaluated"].value) for r in again] == [(True, 0)] * 3


def test_a_demo_sync_records_each_raw_check_in_the_instance(_isolated_home: Path) -> None:
    from orchestration.cli.main import app

    result = CliRunner().invoke(app, ["demo", "--employees", "10", "--periods", "1"])
    assert result.exit_code == 0, result.output
    instance = dg.DagsterInstance.from_config(str(_isolated_home / "dagster"))
    for name, connector in discover().items():
        for declared, suite in source_suites(name).items():
            key = dg.AssetKey([name, declared])
            event = instance.get_latest_materialization_event(key)
            assert event is not None and event.asset_materialization is not None, key
            landed = event.asset_materialization.metadata["new_versions"].value
            for check in {e.check for e in suite}:
                record = instance.get_latest_asset_check_evaluation_record(
                    dg.AssetCheckKey(key, check)
                )
                assert record is not None, (key, check)
                evaluation = record.event.dagster_event.asset_check_evaluation_data
                failing = evaluation.metadata["failing_rows"].value.records
                assert evaluation.passed, (key, check, failing[:3])
                assert evaluation.metadata["evaluated"].value == landed, (key, check)
                assert evaluation.metadata["failed"].value == 0, (key, check)
            assert connector.stream(declared).name == declared
