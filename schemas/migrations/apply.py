"""Bring both stores to the latest schema; used by ``kpihub db upgrade``, the demo and the tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent
STORES = ("hub", "hr")


def alembic_config(store: str, url: str) -> Config:
    if store not in STORES:
        raise ValueError(f"unknown store {store!r}; expected one of {', '.join(STORES)}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS / store))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_stores(hub_url: str, hr_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config("hub", hub_url), revision)
    command.upgrade(alembic_config("hr", hr_url), revision)


def current_revisions(hub_url: str, hr_url: str) -> dict[str, str | None]:
    """The revision each store is at, for ``kpihub db status``."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    result: dict[str, str | None] = {}
    for store, url in (("hub", hub_url), ("hr", hr_url)):
        engine = create_engine(url)
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"version_table": f"alembic_version_{store}"}
            )
            result[store] = ctx.get_current_revision()
        engine.dispose()
    return result
