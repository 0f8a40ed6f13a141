"""The sandbox ERP on every database the ODBC engine is tested against, each behind its real ODBC
driver: SQLite (the demo's), PostgreSQL (psqlODBC) and MariaDB (MariaDB Connector/ODBC).

PostgreSQL and MariaDB get a fresh schema (a database, on MariaDB) per test. The fixtures are in
tests/connectors/erp_fixtures.py (a test module names it in ``pytest_plugins``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyodbc
import pytest
from sqlalchemy import Engine, create_engine

from sandbox.erp_data import write_erp_sqlite
from sandbox.erp_load import drop_schema, load_erp_into, schema_engine
from sandbox.model import World

AS_OF = date(2026, 3, 15)
POSTGRES_ODBC = os.environ.get(
    "KPIHUB_TEST_POSTGRES_ODBC",
    "DRIVER={PostgreSQL Unicode};Server=127.0.0.1;Port=5432;Database=test;Uid=postgres;",
)
MARIADB_HOST = os.environ.get("KPIHUB_TEST_MARIADB_HOST", "127.0.0.1")
MARIADB_PORT = int(os.environ.get("KPIHUB_TEST_MARIADB_PORT", "3306"))
MARIADB_ODBC = f"DRIVER={{MariaDB Unicode}};Server={MARIADB_HOST};Port={MARIADB_PORT};Uid=root;"
BACKENDS = ("sqlite", "postgresql", "mariadb")


@dataclass(frozen=True)
class ErpDatabase:
    """One loaded copy of the sandbox ERP: how the connector reaches it (``odbc``) and how a test
    changes a row in it (``engine``, with the ERP tables unqualified)."""

    backend: str
    odbc: str
    engine: Engine
    counts: dict[str, int]


def mariadb_problem() -> str | None:
    try:
        pyodbc.connect(f"{MARIADB_ODBC}Database=test;", timeout=3).close()
    except pyodbc.Error as exc:
        return str(exc)
    return None


def expected_rows(world: World) -> dict[str, list[dict[str, Any]]]:
    """The sandbox's own rows per table, as the databases were loaded with them."""
    return {table.name: rows for table, rows in world.erp.rows(world.end)}


def open_database(
    backend: str, world: World, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[ErpDatabase]:
    if backend == "sqlite":
        tmp_path.mkdir(parents=True, exist_ok=True)
        path = tmp_path / "erp.db"
        counts = write_erp_sqlite(world.erp, str(path), world.end)
        engine = create_engine(f"sqlite:///{path}")
        yield ErpDatabase(backend, f"DRIVER=SQLite3;Database={path}", engine, counts)
        engine.dispose()
        return
    schema = f"kpihub_erp_{uuid.uuid4().hex[:12]}"
    if backend == "postgresql":
        url = request.getfixturevalue("postgres_admin")
        odbc = f"{POSTGRES_ODBC.rstrip(';')};pqopt={{options=-csearch_path={schema}}};"
    else:
        url = request.getfixturevalue("mariadb_admin")
        odbc = f"{MARIADB_ODBC}Database={schema};"
    try:
        counts = load_erp_into(world.erp, url, schema, world.end)
        engine = schema_engine(url, schema)
        yield ErpDatabase(backend, odbc, engine, counts)
        engine.dispose()
    finally:
        drop_schema(url, schema)
