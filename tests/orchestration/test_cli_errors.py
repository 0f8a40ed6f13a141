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


def test_scores_of_a_month_nobody_was_scored_in_is_a_one_line_error() -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["scores", "--period", "2026-10", "--json"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: no published scores for 2026-10: none are published yet (run kpihub demo, or "
        "score_period in the Dagster UI)"
    )


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


@pytest.mark.parametrize(
    "command",
    [
        ["scores", "--period", "2026-10"],
        ["trace", "E00001", "--period", "2026-10"],
        ["facts", "--period", "2026-10"],
    ],
)
def test_reading_a_home_never_set_up_is_one_line_and_creates_nothing(
    command: list[str], _isolated_home: Path
) -> None:
    result = runner.invoke(app, command)
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: no store at {_isolated_home / 'hub.db'} (KPIHUB_HOME={_isolated_home}); "
        "run `kpihub db upgrade` (or `make demo`) first"
    )
    assert not _isolated_home.exists()


def test_an_unreachable_store_is_named_without_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from schemas.settings import get_settings

    monkeypatch.setenv("KPIHUB_DATABASE_URL", "postgresql+psycopg://hub:s3cret@127.0.0.1:1/hub")
    get_settings.cache_clear()
    result = runner.invoke(app, ["scores", "--period", "2026-10"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: cannot reach the store at postgresql+psycopg://hub:***@127.0.0.1:1/hub: "
        "OperationalError"
    )


def test_a_sandbox_now_that_is_no_instant_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPIHUB_SANDBOX_NOW", "noon")
    result = runner.invoke(app, ["demo", "--employees", "5", "--periods", "1"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: KPIHUB_SANDBOX_NOW='noon' is not an ISO 8601 instant"


def test_an_unknown_kpi_code_is_an_error_naming_the_known_ones() -> None:
    from schemas.catalog import load_catalog

    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["facts", "--period", "2026-10", "--kpi", "nosuch"])
    assert result.exit_code == 2
    known = ", ".join(sorted(load_catalog().codes))
    assert result.output.strip() == f"error: unknown KPI code 'nosuch'; known: {known}"
    assert "contract_amount" in known


def test_a_known_kpi_code_with_no_facts_is_an_empty_table() -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["facts", "--period", "2026-10", "--kpi", "late_count", "--json"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "[]"


def test_without_period_the_last_closed_month_in_shanghai_is_read() -> None:
    from schemas.periods import last_closed_period

    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["facts"])
    assert result.exit_code == 0, result.output
    assert f"KPI facts {last_closed_period()} (0)" in result.output
    pool = runner.invoke(app, ["talent-pool"])
    assert pool.exit_code == 0, pool.output
    assert f"Core talent pool {last_closed_period()} (0)" in pool.output


@pytest.mark.parametrize("command", ["scores", "facts", "trace", "talent-pool"])
def test_the_help_says_which_month_is_the_default(command: str) -> None:
    import typer.main

    click_command = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    (period,) = [p for p in click_command.params if p.name == "period"]
    assert not period.required
    assert period.help == "Month, YYYY-MM; by default the last closed month (Asia/Shanghai)."


def test_a_store_file_with_no_tables_is_one_line_and_stays_as_it_was(_isolated_home: Path) -> None:
    _isolated_home.mkdir()
    (_isolated_home / "hub.db").touch()
    result = runner.invoke(app, ["facts", "--period", "2026-10"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: the hr and hub stores have no tables yet; run `kpihub db upgrade` (or `make demo`) "
        "first"
    )
    assert (_isolated_home / "hub.db").stat().st_size == 0
