"""Two demos started together on one home, fresh or landed already: both finish without a crash
and without a driver's error, bound parameters or payloads in their output, Dagster's instance
stays usable, and the stores hold exactly what one clean run leaves, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import _drop_postgres_schema, _fresh_postgres_schema
from tests.reliability.figures import note
from tests.reliability.snapshot import differences, snapshot

KPIHUB = str(Path(sys.executable).with_name("kpihub"))
DEMO = ["demo", "--employees", "8", "--periods", "1"]
# What a person must never be shown: a driver's error, the SQL and its bound parameters.
LEAKS = ("Traceback", "IntegrityError", "UniqueViolation", "[SQL:", "[parameters:")


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


def _finish(process: subprocess.Popen[str]) -> str:
    output = process.communicate(timeout=600)[0]
    assert process.returncode == 0, output[-3000:]
    assert not [leak for leak in LEAKS if leak in output], output[-3000:]
    return output


# Each backend with each kind of home; `make test` runs one of each (a fresh home here, a landed
# one in test_two_runs_landed.py, so the two run on different workers), `make heavy` and `make
# reliability` the other two as well.
FRESH = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.heavy),
]


@pytest.mark.parametrize("backend", FRESH)
def test_two_demos_at_once_on_a_fresh_home_end_as_one_clean_run(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    two_runs_at_once(tmp_path, backend, "fresh", request)


def two_runs_at_once(
    tmp_path: Path, backend: str, home: str, request: pytest.FixtureRequest
) -> None:
    """Two demos started together on a ``fresh`` or ``landed`` home, then a clean one on its
    own: the stores of the two equal the clean one's, and neither shows a driver error."""
    schemas: list[str] = []
    urls: dict[str, str | None] = {"together": None, "clean": None}
    if backend == "postgresql":
        admin = request.getfixturevalue("postgres_admin")
        for name in urls:
            schema, urls[name] = _fresh_postgres_schema(admin)
            schemas.append(schema)
    try:
        if home == "landed":
            _finish(_demo(tmp_path / "together", urls["together"]))
        together = [_demo(tmp_path / "together", urls["together"]) for _ in range(2)]
        outputs = [_finish(p) for p in together]
        _finish(_demo(tmp_path / "clean", urls["clean"]))
        published = sorted("Published 8 new score version(s)." in o for o in outputs)
        if home == "fresh":
            # One run published the month, the other found it done.
            assert published == [False, True]
        else:
            assert published == [False, False]
            assert all("Nothing new to publish" in o for o in outputs)

        def url_of(name: str) -> str:
            return urls[name] or f"sqlite:///{tmp_path / name / 'hub.db'}"

        together_now = snapshot(url_of("together"), url_of("together"))
        assert differences(together_now, snapshot(url_of("clean"), url_of("clean"))) == []
        assert together_now["stream_leases"] == []
        if home == "fresh":
            # Dagster's instance of the shared home still works: a third run goes through.
            third = _finish(_demo(tmp_path / "together", urls["together"]))
            assert "Nothing new to publish" in third
        note(f"two runs at once: {backend}, {home} home; stores equal to one clean run's")
    finally:
        if backend == "postgresql":
            admin = request.getfixturevalue("postgres_admin")
            for schema in schemas:
                _drop_postgres_schema(admin, schema)
