"""The ODBC engine on real drivers: pages and watermark, the lookback query, exact decimals,
composite keys, rejected rows, and clear errors that never show the password."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyodbc
import pytest
from sqlalchemy import update

from connectors.erp.streams import STREAMS
from connectors.sdk import AuthError, OdbcSource, RetryPolicy, Stream, StreamError
from connectors.sdk.odbc import (
    connection_string,
    exact_decimal,
    json_value,
    scrub,
    streaming_connection_string,
)
from sandbox.erp_data import AR_RECEIPT
from sandbox.model import World
from tests.connectors.erp_databases import ErpDatabase, expected_rows

pytest_plugins = ["tests.connectors.erp_fixtures"]
RECEIPTS = next(s for s in STREAMS if s.name == "ar_receipt")
PASSWORD = "Pa55;w{rd}-never-shown"


def _no_retry() -> RetryPolicy:
    return RetryPolicy(attempts=1, sleep=lambda _: None)


def test_connection_string_keeps_the_secret_in_its_own_variable() -> None:
    assert connection_string("DRIVER=SQLite3;Database=/x.db;", "", "") == (
        "DRIVER=SQLite3;Database=/x.db"
    )
    assert connection_string("DRIVER={MariaDB Unicode};Server=h", "hr", PASSWORD) == (
        "DRIVER={MariaDB Unicode};Server=h;UID=hr;PWD={Pa55;w{rd}}-never-shown}"
    )
    # a user or password already in the endpoint is not doubled
    assert connection_string("DRIVER=x;Uid=a;Pwd=b", "hr", "s") == "DRIVER=x;Uid=a;Pwd=b"


def test_known_drivers_stream_instead_of_caching_the_result() -> None:
    assert streaming_connection_string("DRIVER={PostgreSQL Unicode};Server=h;") == (
        "DRIVER={PostgreSQL Unicode};Server=h;UseDeclareFetch=1;Fetch=1000"
    )
    assert streaming_connection_string("DRIVER={MariaDB Unicode};Server=h") == (
        "DRIVER={MariaDB Unicode};Server=h;NO_CACHE=1;CHARSET=utf8mb4"
    )
    explicit = "DRIVER={PostgreSQL Unicode};UseDeclareFetch=0"
    assert streaming_connection_string(explicit) == explicit
    assert streaming_connection_string("DRIVER=SQLite3;Database=a") == "DRIVER=SQLite3;Database=a"


def test_values_have_one_json_form() -> None:
    assert exact_decimal("12345.6", 2) == "12345.60"
    assert exact_decimal(12345.6, 2) == "12345.60"
    assert exact_decimal(Decimal("12345.60"), 2) == "12345.60"
    assert exact_decimal(250000, 4) == "250000.0000"
    assert json_value(Decimal("0.10")) == "0.10"
    assert json_value(datetime(2026, 3, 2, 17, 59)) == "2026-03-02T17:59:00"
    assert json_value(b"\x01\xff") == "01ff"
    with pytest.raises(ValueError, match="not a decimal"):
        exact_decimal("12,5", 2)


def test_scrub_removes_passwords() -> None:
    text = f"failed: DRIVER=x;PWD={{{PASSWORD}}};Uid=hr and {PASSWORD}"
    cleaned = scrub(text, [PASSWORD])
    assert PASSWORD not in cleaned
    assert "Pa55" not in cleaned


def test_pages_stream_in_watermark_order_and_the_watermark_moves_on_the_final_page(
    erp_db: ErpDatabase, erp_world: World
) -> None:
    rows = expected_rows(erp_world)["AR_RECEIPT"]
    stream = replace(RECEIPTS, batch_size=50)
    source = OdbcSource("erp", erp_db.odbc, retry=_no_retry())
    try:
        pages = list(source.read(stream, None))
    finally:
        source.close()
    assert len(pages) == math.ceil(len(rows) / 50)
    assert [len(p.records) for p in pages[:-1]] == [50] * (len(pages) - 1)
    assert [p.final for p in pages] == [False] * (len(pages) - 1) + [True]
    assert all(p.state == {"watermark": None} for p in pages[:-1])
    newest = max(r["FMODIFYDATE"] for r in rows)
    assert pages[-1].state == {"watermark": newest.isoformat() + "+08:00"}
    read = [r.payload for p in pages for r in p.records]
    order = [(p["FMODIFYDATE"], p["FID"]) for p in read]
    assert order == sorted(order)
    assert sorted(int(r.record_key) for p in pages for r in p.records) == sorted(
        r["FID"] for r in rows
    )


def test_a_second_read_asks_only_for_the_lookback_window(
    erp_db: ErpDatabase, erp_world: World
) -> None:
    rows = expected_rows(erp_world)["AR_RECEIPT"]
    marks = sorted({r["FMODIFYDATE"] for r in rows})
    watermark = marks[len(marks) // 2]
    stream = replace(RECEIPTS, lookback=timedelta(hours=6))
    source = OdbcSource("erp", erp_db.odbc, retry=_no_retry())
    try:
        pages = list(source.read(stream, {"watermark": watermark.isoformat() + "+08:00"}))
        future = list(source.read(stream, {"watermark": "2099-01-01T00:00:00+08:00"}))
    finally:
        source.close()
    since = watermark - timedelta(hours=6)
    expected = sorted(str(r["FID"]) for r in rows if r["FMODIFYDATE"] >= since)
    assert sorted(r.record_key for p in pages for r in p.records) == expected
    assert 0 < len(expected) < len(rows)
    # a state in the future returns nothing and keeps its watermark
    assert [len(p.records) for p in future] == [0]
    assert future[-1].state == {"watermark": "2099-01-01T00:00:00+08:00"}


def test_amounts_stay_exact_decimals_on_every_driver(erp_db: ErpDatabase, erp_world: World) -> None:
    fid = expected_rows(erp_world)["AR_RECEIPT"][0]["FID"]
    with erp_db.engine.begin() as conn:
        conn.execute(update(AR_RECEIPT).filter_by(FID=fid).values(FRECAMOUNT=Decimal("12345.60")))
    source = OdbcSource("erp", erp_db.odbc, retry=_no_retry())
    try:
        found = {r.record_key: r.payload for p in source.read(RECEIPTS) for r in p.records}
    finally:
        source.close()
    assert found[str(fid)]["FRECAMOUNT"] == "12345.60"


def _tiny_sqlite(path: Path) -> str:
    odbc = f"DRIVER=SQLite3;Database={path}"
    conn = pyodbc.connect(odbc)
    conn.execute("CREATE TABLE T_TARGET (FEMPNO VARCHAR(20), FKPI VARCHAR(40), "
                 "FTARGET DECIMAL(18,4), FMODIFYDATE TIMESTAMP)")  # fmt: skip
    rows = [
        ("E1", "output_qty", "2000", "2026-03-01 08:00:00"),
        ("E1", "scrap|rate", "0.5", "2026-03-01 08:00:00"),
        (None, "output_qty", "1", "2026-03-01 08:00:00"),
        ("E2", "output_qty", "1800.5", "2026-03-02 08:00:00"),
    ]
    conn.cursor().executemany("INSERT INTO T_TARGET VALUES (?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()
    return odbc


def test_composite_keys_and_rows_set_aside(tmp_path: Path) -> None:
    stream = Stream(
        name="t_target",
        table="T_TARGET",
        key_columns=("FEMPNO", "FKPI"),
        cursor_field="FMODIFYDATE",
        decimals={"FTARGET": 4},
    )
    source = OdbcSource("erp", _tiny_sqlite(tmp_path / "t.db"), retry=_no_retry())
    try:
        (page,) = list(source.read(stream))
        # the watermark is exact at the boundary: a row stored without a fraction of a second
        # is found by a watermark equal to it
        (again,) = list(source.read(stream, {"watermark": "2026-03-02T08:00:00+08:00"}))
    finally:
        source.close()
    assert [(r.record_key, r.payload["FTARGET"]) for r in page.records] == [
        ("E1|output_qty", "2000.0000"),
        ("E2|output_qty", "1800.5000"),
    ]
    assert sorted((r.reason, r.detail) for r in page.rejected) == [
        ("ambiguous_record_key", "a key part contains '|': ['E1', 'scrap|rate']"),
        ("missing_record_key", "record has no FEMPNO"),
    ]
    assert page.state == {"watermark": "2026-03-02T08:00:00+08:00"}
    assert [r.record_key for r in again.records] == ["E2|output_qty"]


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_refused_credentials_fail_clearly_without_the_password(
    backend: str, request: pytest.FixtureRequest
) -> None:
    if backend == "postgresql":
        request.getfixturevalue("postgres_admin")
        endpoint = "DRIVER={PostgreSQL Unicode};Server=127.0.0.1;Port=5432;Database=test"
        user = "no_such_role"
    else:
        request.getfixturevalue("mariadb_admin")
        endpoint = "DRIVER={MariaDB Unicode};Server=127.0.0.1;Port=3306;Database=test"
        user = "root"
    attempts: list[float] = []
    source = OdbcSource(
        "erp",
        connection_string(endpoint, user, PASSWORD),
        secrets=[PASSWORD],
        retry=RetryPolicy(attempts=3, sleep=attempts.append),
    )
    with pytest.raises(AuthError) as caught:
        list(source.read(RECEIPTS))
    message = str(caught.value)
    assert message.startswith("erp: authentication failed: ")
    assert ("no_such_role" in message) if backend == "postgresql" else ("denied" in message)
    assert "Pa55" not in message and PASSWORD not in message
    assert attempts == []  # refused credentials are not retried


@pytest.mark.parametrize(
    "endpoint",
    [
        "DRIVER={PostgreSQL Unicode};Server=127.0.0.1;Port=1;Database=test;Uid=postgres",
        "DRIVER={MariaDB Unicode};Server=127.0.0.1;Port=1;Database=test;Uid=root",
    ],
)
def test_an_unreachable_server_is_retried_then_named(endpoint: str) -> None:
    waits: list[float] = []
    source = OdbcSource(
        "erp",
        connection_string(endpoint, "", PASSWORD),
        secrets=[PASSWORD],
        retry=RetryPolicy(attempts=3, initial_backoff=0.01, sleep=waits.append),
    )
    with pytest.raises(StreamError) as caught:
        list(source.read(RECEIPTS))
    message = str(caught.value)
    assert message.startswith("erp/ar_receipt page 0: gave up after retries: ")
    assert "connect" in message.lower()
    assert "Pa55" not in message
    assert len(waits) == 2  # three attempts, two waits between them


def test_a_missing_table_names_source_stream_and_why(tmp_path: Path) -> None:
    source = OdbcSource("erp", _tiny_sqlite(tmp_path / "t.db"), retry=_no_retry())
    stream = replace(RECEIPTS, table="NO_SUCH_TABLE")
    with pytest.raises(StreamError) as caught:
        list(source.read(stream))
    source.close()
    assert str(caught.value).startswith("erp/ar_receipt page 1: ")
    assert "NO_SUCH_TABLE" in str(caught.value)
