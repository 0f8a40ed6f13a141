"""The body of both stores' Alembic ``env.py``: online migrations against the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData, engine_from_config, pool


def run_migrations(target_metadata: MetaData, version_table: str) -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection, target_metadata, version_table)
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        _run(conn, target_metadata, version_table)


def _run(connection: object, target_metadata: MetaData, version_table: str) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        version_table=version_table,
        render_as_batch=True,
        compare_type=True,
        include_object=_own_tables_only,
    )
    with context.begin_transaction():
        context.run_migrations()


def _own_tables_only(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """The other store may share the database: never treat its tables as ours to drop."""
    return not (type_ == "table" and reflected and compare_to is None)
