"""The ERP connector against the sandbox ERP on SQLite, PostgreSQL and MariaDB, each through its
own ODBC driver: identical payloads and hashes, exact row counts, incremental landing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update

from connectors.erp import CONNECTOR, open_erp
from connectors.registry import discover
from connectors.sdk import RetryPolicy, Stream
from pipelines.landing import land_stream
from pipelines.stores import Stores
from sandbox.erp_data import AR_RECEIPT
from sandbox.model import World
from schemas.tables import RawRecordVersion
from tests.connectors.erp_databases import ErpDatabase, expected_rows

pytest_plugins = ["tests.connectors.erp_fixtures"]
KEYS = {
    "HR_EMP": ("FEMPNO",),
    "HR_EMP_BADGE": ("FID",),
    "AR_RECEIPT": ("FID",),
    "SAL_TARGET": ("FEMPNO", "FPERIOD", "FKPI"),
    "PRD_INSTOCK": ("FID",),
    "CB_COST": ("FCOSTCENTER", "FPERIOD"),
}


def _key(row: dict[str, Any], table: str) -> str:
    return "|".join(str(row[c]) for c in KEYS[table])


def _read_all(odbc: str) -> dict[str, dict[str, tuple[dict[str, Any], str]]]:
    source = open_erp(odbc, retry=RetryPolicy(attempts=1))
    try:
        return {
            stream.name: {
                r.record_key: (r.payload, r.payload_sha256)
                for page in source.read(stream)
                for r in page.records
            }
            for stream in CONNECTOR.streams
        }
    finally:
        source.close()


def test_the_erp_registers_its_six_tables() -> None:
    assert discover()["erp"] is CONNECTOR
    assert [s.name for s in CONNECTOR.streams] == [
        "hr_emp", "hr_emp_badge", "ar_receipt", "sal_target", "prd_instock", "cb_cost",
    ]  # fmt: skip
    assert all(s.table == s.name.upper() and s.incremental for s in CONNECTOR.streams)
    assert CONNECTOR.identity_streams == ("hr_emp", "hr_emp_badge")
    assert CONNECTOR.env.names() == ("KPIHUB_ERP_ODBC",)


def test_every_stream_reads_the_sandbox_rows_exactly(erp_db: ErpDatabase, erp_world: World) -> None:
    read = _read_all(erp_db.odbc)
    for table, rows in expected_rows(erp_world).items():
        if table not in KEYS:
            continue
        got = read[table.lower()]
        assert len(got) == len(rows) == erp_db.counts[table], table
        assert sorted(got) == sorted(_key(r, table) for r in rows), table
    receipt = expected_rows(erp_world)["AR_RECEIPT"][0]
    payload, _ = read["ar_receipt"][str(receipt["FID"])]
    assert payload == {
        "FID": receipt["FID"],
        "FBILLNO": receipt["FBILLNO"],
        "FSALERNO": receipt["FSALERNO"],
        "FRECAMOUNT": format(receipt["FRECAMOUNT"].quantize(Decimal("0.01")), "f"),
        "FDATE": receipt["FDATE"].isoformat(),
        "FDOCUMENTSTATUS": receipt["FDOCUMENTSTATUS"],
        "FMODIFYDATE": receipt["FMODIFYDATE"].isoformat(),
    }


@pytest.mark.parametrize("erp_db", ["postgresql", "mariadb"], indirect=True)
def test_every_driver_gives_the_demo_driver_s_payloads_and_hashes(
    erp_db: ErpDatabase, sqlite_erp: ErpDatabase
) -> None:
    reference = _read_all(sqlite_erp.odbc)
    other = _read_all(erp_db.odbc)
    for stream in CONNECTOR.streams:
        assert other[stream.name] == reference[stream.name], stream.name
    names = {payload["FNAME"] for payload, _ in other["hr_emp"].values()}
    assert names == {payload["FNAME"] for payload, _ in reference["hr_emp"].values()}
    assert all(len(name) >= 2 for name in names)


def _versions(stores: Stores, stream: Stream) -> int:
    with stores.hub.connect() as conn:
        return (
            conn.scalar(
                select(func.count())
                .select_from(RawRecordVersion)
                .where(RawRecordVersion.source == "erp", RawRecordVersion.stream == stream.name)
            )
            or 0
        )


def test_incremental_landing_lands_nothing_twice_and_a_changed_row_once(
    erp_db: ErpDatabase, erp_world: World, stores: Stores
) -> None:
    receipts = CONNECTOR.stream("ar_receipt")
    rows = expected_rows(erp_world)["AR_RECEIPT"]
    source = open_erp(erp_db.odbc, retry=RetryPolicy(attempts=1))
    try:
        first = land_stream(stores.hub, source, receipts, "run-1")
        newest = max(r["FMODIFYDATE"] for r in rows)
        assert (first.pulled, first.landed, first.changed) == (len(rows), len(rows), 0)
        assert first.watermark == newest.isoformat() + "+08:00"

        second = land_stream(stores.hub, source, receipts, "run-2")
        since = newest - receipts.lookback
        window = [r for r in rows if r["FMODIFYDATE"] >= since]
        assert second.pulled == len(window) > 0
        assert (second.landed, second.changed) == (0, 0)
        assert len(window) < len(rows)

        changed = min(rows, key=lambda r: r["FMODIFYDATE"])
        later = newest + timedelta(minutes=5)
        with erp_db.engine.begin() as conn:
            conn.execute(
                update(AR_RECEIPT)
                .filter_by(FID=changed["FID"])
                .values(FRECAMOUNT=Decimal("12345.60"), FMODIFYDATE=later)
            )
        third = land_stream(stores.hub, source, receipts, "run-3")
    finally:
        source.close()
    assert third.pulled == len(window) + 1
    assert (third.landed, third.changed) == (1, 1)
    assert third.watermark == later.isoformat() + "+08:00"
    assert _versions(stores, receipts) == len(rows) + 1
    with stores.hub.connect() as conn:
        payloads = conn.scalars(
            select(RawRecordVersion.payload)
            .where(RawRecordVersion.record_key == str(changed["FID"]))
            .order_by(RawRecordVersion.id)
        ).all()
    assert [p["FRECAMOUNT"] for p in payloads] == [
        format(changed["FRECAMOUNT"].quantize(Decimal("0.01")), "f"),
        "12345.60",
    ]
    assert payloads[1]["FMODIFYDATE"] == later.isoformat()
