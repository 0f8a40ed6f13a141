"""The contract kit for the ERP connector on the databases the target companies run, each read
through its own ODBC driver: PostgreSQL (psqlODBC) and MariaDB. The SQLite copy is the sandbox
twin the main kit run uses; these are the same tables loaded into real servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.registry import discover
from connectors.testing.checks import all_checks
from connectors.testing.results import Status
from connectors.testing.run import ContractRun
from sandbox.model import World
from tests.connectors.erp_databases import ErpDatabase, open_database

pytest_plugins = ["tests.connectors.erp_fixtures"]


@pytest.fixture(params=["postgresql", "mariadb"])
def server_erp(
    request: pytest.FixtureRequest, erp_world: World, tmp_path: Path
) -> Iterator[ErpDatabase]:
    yield from open_database(request.param, erp_world, tmp_path, request)


def test_the_erp_connector_passes_the_kit_on_each_database_server(
    server_erp: ErpDatabase, erp_world: World
) -> None:
    erp = discover()["erp"]
    run = ContractRun(
        erp,
        {"KPIHUB_ERP_ODBC": server_erp.odbc},
        today=erp_world.as_of,
        faulty_missing="a database server has no fault profile",
    )
    results = {(r.check, r.stream): r for r in all_checks(run)}
    failures = [r.describe() for r in results.values() if r.status is Status.FAIL]
    assert failures == []
    skipped = sorted(
        (check, stream) for (check, stream), r in results.items() if r.status is Status.SKIP
    )
    # Out of reach here: faults (nothing makes a database server misbehave) and bad credentials
    # (the test servers trust loopback: there is no password to get wrong).
    assert skipped == sorted([("bad_credentials", "-")] + [("faults", s.name) for s in erp.streams])
    assert results[("bad_credentials", "-")].detail == (
        "the source has no credential and no local endpoint to spoil"
    )
    assert results[("read", "ar_receipt")].detail.startswith(
        f"{server_erp.counts['AR_RECEIPT']} records"
    )
