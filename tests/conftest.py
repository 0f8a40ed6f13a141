"""Shared fixtures: stores on SQLite and on PostgreSQL (a fresh schema per test), and the hub's
settings pointed at a temporary home so no test touches a developer's ``.kpihub``."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from pipelines.stores import Stores
from schemas.migrations.apply import upgrade_stores

POSTGRES_URL = os.environ.get(
    "KPIHUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _postgres_available() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # any failure means "not reachable"
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[str]:
    problem = _postgres_available()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL must be reachable under CI at {POSTGRES_URL}: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {problem}")
    yield POSTGRES_URL


def _fresh_postgres_schema(admin_url: str) -> tuple[str, str]:
    schema = f"kpihub_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    separator = "&" if "?" in admin_url else "?"
    return schema, f"{admin_url}{separator}options=-csearch_path%3D{schema}"


def _drop_postgres_schema(admin_url: str, schema: str) -> None:
    engine = create_engine(admin_url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database URL on each backend the hub supports."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hub.db'}"
        upgrade_stores(url, url)
        yield url
        return
    admin = request.getfixturevalue("postgres_admin")
    schema, url = _fresh_postgres_schema(admin)
    try:
        upgrade_stores(url, url)
        yield url
    finally:
        _drop_postgres_schema(admin, schema)


@pytest.fixture
def stores(store_url: str) -> Iterator[Stores]:
    connected = Stores.connect(store_url, store_url)
    yield connected
    connected.dispose()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own KPIHUB_HOME and Dagster home."""
    from schemas.settings import get_settings

    # Code under test may export variables (the demo exports its sandbox's endpoints and
    # history): whatever a test leaves in the environment is undone, so no later test on the
    # same worker depends on which tests ran before it.
    saved = dict(os.environ)
    home = tmp_path / "kpihub-home"
    monkeypatch.setenv("KPIHUB_HOME", str(home))
    for name in ("KPIHUB_DATABASE_URL", "KPIHUB_HR_STORE_URL", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield home
    os.environ.clear()
    os.environ.update(saved)
    get_settings.cache_clear()
