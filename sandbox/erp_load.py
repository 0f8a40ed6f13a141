"""Load the sandbox ERP into PostgreSQL or MariaDB, so the ODBC tests read the very rows the demo
serves from SQLite through each database's own ODBC driver.

The tables and rows are sandbox/erp_data.py's (``erp_metadata``, ``Erp.rows`` via ``load_erp``):
nothing is rebuilt here. Its column types are portable (DECIMAL(18,2)/(18,4), VARCHAR, and
TIMESTAMP on PostgreSQL or DATETIME on MariaDB); this module only supplies the database-specific
part, a schema to load into: a PostgreSQL schema, or a MariaDB database (created as utf8mb4 so the
Chinese names survive).

MariaDB is reached through the MariaDB ODBC driver (``mysql+pyodbc``), so no further Python
database driver is needed; ``mariadb_url`` builds that URL.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote_plus

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from sandbox.erp_data import Erp, load_erp

MARIADB_DRIVER = "MariaDB Unicode"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def mariadb_url(
    host: str = "127.0.0.1",
    port: int = 3306,
    user: str = "root",
    password: str = "",
    database: str = "test",
    driver: str = MARIADB_DRIVER,
) -> str:
    """A SQLAlchemy URL for MariaDB through its ODBC driver."""
    odbc = (
        f"DRIVER={{{driver}}};Server={host};Port={port};Database={database};"
        f"Uid={user};Pwd={{{password}}};CHARSET=utf8mb4"
    )
    return f"mysql+pyodbc:///?odbc_connect={quote_plus(odbc)}"


def _checked(schema: str) -> str:
    if not _NAME.match(schema):
        raise ValueError(f"{schema!r} is not a plain schema name (letters, digits, underscore)")
    return schema


def create_schema(url: str, schema: str) -> None:
    """Create ``schema`` (a MariaDB database) if it is missing."""
    name = _checked(schema)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{name}"'))
            elif engine.dialect.name in {"mysql", "mariadb"}:
                conn.execute(text(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4"))
            else:
                raise ValueError(f"no schemas to create on {engine.dialect.name}")
    finally:
        engine.dispose()


def drop_schema(url: str, schema: str) -> None:
    """Drop ``schema`` and everything in it (the end of a test)."""
    name = _checked(schema)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            else:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    finally:
        engine.dispose()


def schema_engine(url: str, schema: str) -> Engine:
    """An engine whose unqualified ERP tables live in ``schema``."""
    engine = create_engine(url)
    return engine.execution_options(schema_translate_map={None: _checked(schema)})


def load_erp_into(erp: Erp, url: str, schema: str, at: datetime) -> dict[str, int]:
    """(Re)create the ERP tables in ``schema`` at ``url`` and fill them as they stood at ``at``;
    returns the row count of each table. Loading again replaces what was there."""
    if make_url(url).get_backend_name() == "sqlite":
        raise ValueError("SQLite has no schemas; use sandbox.erp_data.write_erp_sqlite")
    create_schema(url, schema)
    engine = schema_engine(url, schema)
    try:
        return load_erp(erp, engine, at)
    finally:
        engine.dispose()


__all__ = [
    "MARIADB_DRIVER",
    "create_schema",
    "drop_schema",
    "load_erp_into",
    "mariadb_url",
    "schema_engine",
]
