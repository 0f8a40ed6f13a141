"""User errors get one line and exit code 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestration.cli.main import app

runner = CliRunner()


def test_bad_period_is_a_one_line_error() -> None:
    result = runner.invoke(app, ["scores", "--period", "2026-13"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: period '2026-13' is not a month in the form YYYY-MM"


def test_trace_of_unknown_job_number_is_a_one_line_error() -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["trace", "E99999", "--period", "2026-10"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: no published score for job number E99999"


def test_scores_of_an_empty_period_is_an_empty_json_array() -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["scores", "--period", "2026-10", "--json"])
    assert result.exit_code == 0
    assert result.output.strip() == "[]"


def test_a_missing_templates_folder_stops_the_demo_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _isolated_home: Path
) -> None:
    from schemas.settings import get_settings

    missing = tmp_path / "no-such-templates"
    monkeypatch.setenv("KPIHUB_TEMPLATES_DIR", str(missing))
    get_settings.cache_clear()
    result = runner.invoke(app, ["demo", "--employees", "5", "--periods", "1"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: {missing}: the templates folder does not exist (KPIHUB_TEMPLATES_DIR)"
    )
    assert not _isolated_home.exists()
