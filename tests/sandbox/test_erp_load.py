"""The ERP loader puts exactly the sandbox's ERP rows into PostgreSQL and MariaDB, with the
portable column types the ERP spec names."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text

from sandbox.erp_data import erp_metadata
from sandbox.erp_load import drop_schema, load_erp_into, schema_engine
from sandbox.model import World
from tests.connectors.erp_databases import expected_rows

pytest_plugins = ["tests.connectors.erp_fixtures"]


@pytest.fixture(params=["postgresql", "mariadb"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    url = request.getfixturevalue("postgres_admin" if request.param == "postgresql" else
                                  "mariadb_admin")  # fmt: skip
    schema = f"kpihub_load_{uuid.uuid4().hex[:12]}"
    try:
        yield url, schema
    finally:
        drop_schema(url, schema)


def test_the_loaded_tables_hold_exactly_the_sandbox_rows(
    server: tuple[str, str], erp_world: World
) -> None:
    url, schema = server
    expected = expected_rows(erp_world)
    counts = load_erp_into(erp_world.erp, url, schema, erp_world.end)
    assert counts == {name: len(rows) for name, rows in expected.items()}
    again = load_erp_into(erp_world.erp, url, schema, erp_world.end)  # a reload replaces
    assert again == counts
    engine = schema_engine(url, schema)
    try:
        with engine.connect() as conn:
            for table in erp_metadata.sorted_tables:
                key = list(table.primary_key.columns)
                got = [dict(r._mapping) for r in conn.execute(select(table).order_by(*key))]
                want = sorted(expected[table.name], key=lambda r: [r[c.name] for c in key])
                assert got == want, table.name
    finally:
        engine.dispose()


def test_columns_have_the_spec_s_portable_types(server: tuple[str, str], erp_world: World) -> None:
    url, schema = server
    load_erp_into(erp_world.erp, url, schema, erp_world.end)
    engine = schema_engine(url, schema)
    try:
        with engine.connect() as conn:
            found = {
                (t, c): (kind.lower(), precision, scale)
                for t, c, kind, precision, scale in conn.execute(
                    text(
                        "SELECT table_name, column_name, data_type, numeric_precision, "
                        "numeric_scale FROM information_schema.columns WHERE table_schema = :s"
                    ),
                    {"s": schema},
                )
            }
    finally:
        engine.dispose()
    assert found[("AR_RECEIPT", "FRECAMOUNT")] == (_decimal(url), 18, 2)
    assert found[("SAL_TARGET", "FTARGET")] == (_decimal(url), 18, 4)
    assert found[("CB_COST", "FACTUALCOST")] == (_decimal(url), 18, 2)
    assert found[("HR_EMP", "FNAME")][0] in {"character varying", "varchar"}
    stamp = found[("AR_RECEIPT", "FMODIFYDATE")][0]
    assert stamp == ("timestamp without time zone" if url.startswith("postgresql") else "datetime")


def _decimal(url: str) -> str:
    return "numeric" if url.startswith("postgresql") else "decimal"


def test_sqlite_and_odd_schema_names_are_refused(erp_world: World) -> None:
    with pytest.raises(ValueError, match="write_erp_sqlite"):
        load_erp_into(erp_world.erp, "sqlite:///x.db", "erp", erp_world.end)
    with pytest.raises(ValueError, match="plain schema name"):
        load_erp_into(erp_world.erp, "postgresql+psycopg://h/db", 'erp"; drop', erp_world.end)
