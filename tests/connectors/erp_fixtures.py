"""Fixtures for the sandbox ERP on SQLite, PostgreSQL and MariaDB (see erp_databases.py). Like the
stores in tests/conftest.py, a server that is not reachable skips its tests locally and fails
them under CI=true."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.erp_load import mariadb_url
from sandbox.model import World, generate_world
from tests.conftest import IN_CI
from tests.connectors.erp_databases import (
    AS_OF,
    BACKENDS,
    MARIADB_HOST,
    MARIADB_PORT,
    ErpDatabase,
    mariadb_problem,
    open_database,
)


@pytest.fixture(scope="session")
def mariadb_admin() -> str:
    problem = mariadb_problem()
    if problem is not None:
        where = f"{MARIADB_HOST}:{MARIADB_PORT}"
        if IN_CI:
            pytest.fail(f"MariaDB must be reachable under CI at {where}: {problem}")
        pytest.skip(f"MariaDB not reachable at {where}: {problem}")
    return mariadb_url(MARIADB_HOST, MARIADB_PORT, database="test")


@pytest.fixture(scope="session")
def erp_world() -> World:
    """A 40-person company as of mid-March 2026: seven months of ERP rows."""
    return generate_world(3, 40, AS_OF)


@pytest.fixture(params=BACKENDS)
def erp_db(
    request: pytest.FixtureRequest, erp_world: World, tmp_path: Path
) -> Iterator[ErpDatabase]:
    """The sandbox ERP on each database, read through that database's ODBC driver."""
    yield from open_database(request.param, erp_world, tmp_path, request)


@pytest.fixture
def sqlite_erp(
    erp_world: World, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[ErpDatabase]:
    """The demo's ERP: the SQLite file through the SQLite ODBC driver (the reference copy)."""
    yield from open_database("sqlite", erp_world, tmp_path / "reference", request)
