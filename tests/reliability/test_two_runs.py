"""Two demos started together on one fresh home: both finish without a crash, Dagster's instance
stays usable, and the stores hold exactly what one clean run leaves, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import _drop_postgres_schema, _fresh_postgres_schema

KPIHUB = str(Path(sys.executable).with_name("kpihub"))
DEMO = ["demo", "--employees", "8", "--periods", "1"]
TABLES = ("raw_record_versions", "record_heads", "stream_states", "kpi_facts", "fact_inputs",
          "quarantine", "scores", "score_components")  # fmt: skip


# Every demo of a test sees the sandbox at the same instant: records of today appear as the day
# goes on, and the clean run starts a minute after the two others.
NOW = datetime.now(UTC).isoformat()


def _demo(home: Path, url: str | None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KPIHUB_", "DAGSTER_"))}
    env["KPIHUB_HOME"] = str(home)
    env["KPIHUB_SANDBOX_NOW"] = NOW
    if url:
        env["KPIHUB_DATABASE_URL"] = url
    return subprocess.Popen(
        [KPIHUB, *DEMO], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_demos_at_once_end_as_one_clean_run(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    schemas: list[str] = []
    urls: dict[str, str | None] = {"together": None, "clean": None}
    if backend == "postgresql":
        admin = request.getfixturevalue("postgres_admin")
        for name in urls:
            schema, urls[name] = _fresh_postgres_schema(admin)
            schemas.append(schema)
    try:
        together = [_demo(tmp_path / "together", urls["together"]) for _ in range(2)]
        outputs = [p.communicate(timeout=600)[0] for p in together]
        clean = _demo(tmp_path / "clean", urls["clean"])
        clean_output = clean.communicate(timeout=600)[0]
        for process, output in zip(together, outputs, strict=True):
            assert process.returncode == 0, output[-3000:]
            assert "Traceback" not in output and "IntegrityError" not in output
        assert clean.returncode == 0, clean_output[-3000:]
        published = sorted("Published 8 new score version(s)." in o for o in outputs)
        assert published == [False, True]  # one run published the month, the other found it done

        def url_of(name: str) -> str:
            return urls[name] or f"sqlite:///{tmp_path / name / 'hub.db'}"

        assert _counts(url_of("together")) == _counts(url_of("clean"))
        # Dagster's instance of the shared home still works: a third run goes through.
        third = _demo(tmp_path / "together", urls["together"])
        third_output = third.communicate(timeout=600)[0]
        assert third.returncode == 0, third_output[-3000:]
        assert "Nothing new to publish" in third_output
    finally:
        if backend == "postgresql":
            admin = request.getfixturevalue("postgres_admin")
            for schema in schemas:
                _drop_postgres_schema(admin, schema)
