"""Two demos started together on a home that has landed a month already end with the stores of
one clean run: the second half of test_two_runs.py, in a file of its own so that it runs on
another worker than the fresh-home case."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.test_two_runs import two_runs_at_once

LANDED = [
    pytest.param("postgresql", id="postgresql"),
    pytest.param("sqlite", id="sqlite", marks=pytest.mark.heavy),
]


@pytest.mark.parametrize("backend", LANDED)
def test_two_demos_at_once_on_a_landed_home_end_as_one_clean_run(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    two_runs_at_once(tmp_path, backend, "landed", request)
