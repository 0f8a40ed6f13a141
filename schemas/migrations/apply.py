"""Bring both stores to the latest schema; used by ``kpihub db upgrade``, the demo and the tests."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent
STORES = ("hub", "hr")


def alembic_config(store: str, url: str) -> Config:
    if store not in STORES:
        raise ValueError(f"unknown store {store!r}; expected one of {', '.join(STORES)}")
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS / store))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


# Any fixed number: the PostgreSQL advisory lock every migrating process of the hub takes.
ADVISORY_LOCK = 5_448_531_771


def upgrade_stores(hub_url: str, hr_url: str, revision: str = "head") -> None:
    for store, url in (("hub", hub_url), ("hr", hr_url)):
        upgrade_store(store, url, revision)


def upgrade_store(store: str, url: str, revision: str = "head") -> None:
    """Migrate one store, one process at a time: two processes setting up a fresh home at once
    would otherwise both create the same tables. PostgreSQL serialises them with an advisory
    lock held on the migrating connection, SQLite with a lock file beside the database."""
    from alembic import command
    from sqlalchemy import create_engine, pool, text

    config = alembic_config(store, url)
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn, _file_lock(url):
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK})
                conn.commit()
            config.attributes["connection"] = conn
            try:
                command.upgrade(config, revision)
                conn.commit()
            finally:
                if conn.dialect.name == "postgresql":
                    conn.rollback()
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK})
                    conn.commit()
    finally:
        engine.dispose()


@contextmanager
def _file_lock(url: str) -> Iterator[None]:
    """An exclusive lock on ``<database>.migrate.lock`` for a SQLite file; nothing otherwise."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        yield
        return
    lock_path = Path(f"{parsed.database}.migrate.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_revisions(hub_url: str, hr_url: str) -> dict[str, str | None]:
    """The revision each store is at, for ``kpihub db status`` and every command that reads
    the stores: read from the version table with one query, without loading the migrations."""
    from sqlalchemy import create_engine, inspect, text

    result: dict[str, str | None] = {}
    for store, url in (("hub", hub_url), ("hr", hr_url)):
        table = f"alembic_version_{store}"  # a name of ours, never from input
        engine = create_engine(url)
        with engine.connect() as conn:
            result[store] = (
                conn.scalar(text(f"SELECT version_num FROM {table}"))
                if inspect(conn).has_table(table)
                else None
            )
        engine.dispose()
    return result


def missing_sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL when it does not exist (connecting would create it empty)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    return None if path.exists() else path
