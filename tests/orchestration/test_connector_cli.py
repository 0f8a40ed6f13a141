"""``kpihub connector check`` prints the kit's table and exits 1 on any failure; ``connector new``
refuses a bad or taken name with exit code 2 and one line."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.registry import get
from sandbox.model import generate_world
from sandbox.twins import start_twin

runner = CliRunner()
AS_OF = date(2026, 11, 22)


def invoke(*args: str) -> tuple[int, str]:
    from orchestration.cli.main import app

    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def rows(output: str) -> dict[tuple[str, str], str]:
    """(stream, check) -> result, from the first line of each table row."""
    found: dict[tuple[str, str], str] = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if len(cells) == 4 and cells[0] and cells[2] in {"pass", "fail", "skip"}:
            found[(cells[0], cells[1])] = cells[2]
    return found


@pytest.fixture
def crm_twin(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mapping[str, str]]:
    monkeypatch.setenv("KPIHUB_TODAY", AS_OF.isoformat())
    with start_twin("crm", generate_world(7, 12, AS_OF)) as environ:
        yield environ
    # ``check`` exports sources.env into the environment, as the Dagster resources need.
    for name in environ:
        os.environ.pop(name, None)


def write_sources_env(home: Path, environ: Mapping[str, str]) -> None:
    home.mkdir(parents=True, exist_ok=True)
    lines = [f"{k}={v}" for k, v in environ.items()]
    (home / "sources.env").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_check_against_the_configured_endpoint_passes_with_a_table(
    crm_twin: Mapping[str, str], _isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in crm_twin:
        monkeypatch.delenv(name, raising=False)
    write_sources_env(_isolated_home, crm_twin)
    code, output = invoke("connector", "check", "crm")
    assert code == 0, output
    streams = [s.name for s in get("crm").streams]
    table = rows(output)
    expected = {("(connector)", "connect"): "pass", ("(connector)", "bad_credentials"): "pass"}
    for stream in streams:
        for check in ("read", "schema", "keys", "repeatable", "incremental", "future_state"):
            expected[(stream, check)] = "pass"
        expected[(stream, "faults")] = "skip"
    assert table == expected
    n = len(streams)
    assert f"{2 + 6 * n} passed, 0 failed, {n} skipped" in output
    assert crm_twin["KPIHUB_CRM_CLIENT_SECRET"] not in output


def test_check_fails_with_exit_code_1_and_never_prints_the_secret(
    crm_twin: Mapping[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "not-the-crm-secret-4711"
    for name, value in crm_twin.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KPIHUB_CRM_CLIENT_SECRET", wrong)
    code, output = invoke("connector", "check", "crm")
    assert code == 1
    table = rows(output)
    assert table[("(connector)", "connect")] == "fail"
    assert table[("orders", "read")] == "fail"
    assert re.search(r"connect\s+│ fail\s+│ AuthError: crm: authentication failed", output)
    assert wrong not in output
    assert crm_twin["KPIHUB_CRM_CLIENT_SECRET"] not in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("check", "nosuch"), "error: no connector named 'nosuch'; known: "),
        (("check", "crm", "--faults", "hostile"), "error: --faults needs --sandbox"),
        (("check", "crm"), "error: crm is not configured: KPIHUB_CRM_BASE_URL, "),
    ],
)
def test_check_usage_errors_are_one_line(args: tuple[str, ...], message: str) -> None:
    code, output = invoke("connector", *args)
    assert code == 2
    assert len(output.strip().splitlines()) == 1
    assert output.startswith(message)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "Bad-Name",
            "error: connector name 'Bad-Name' must be a lower-case Python identifier (letters, "
            "digits, underscores; starting with a letter)",
        ),
        ("class", "error: connector name 'class' must be a lower-case Python identifier"),
        ("crm", "error: a connector named 'crm' already exists"),
        ("sdk", "error: connector name 'sdk' is reserved"),
    ],
)
def test_new_refuses_a_bad_or_taken_name(name: str, message: str, tmp_path: Path) -> None:
    code, output = invoke("connector", "new", name, "--root", str(tmp_path))
    assert code == 2
    assert output.strip().splitlines() == [output.strip()]
    assert output.strip().startswith(message)
    assert list(tmp_path.iterdir()) == []


def test_new_refuses_a_name_whose_folder_exists(tmp_path: Path) -> None:
    (tmp_path / "connectors" / "lms").mkdir(parents=True)
    code, output = invoke("connector", "new", "lms", "--root", str(tmp_path))
    assert code == 2
    assert output.strip() == f"error: {tmp_path / 'connectors' / 'lms'} already exists"


def test_new_creates_the_files(tmp_path: Path) -> None:
    code, output = invoke("connector", "new", "lms", "--root", str(tmp_path))
    assert code == 0, output
    assert (tmp_path / "connectors" / "lms" / "streams.py").is_file()
    assert (tmp_path / "sandbox" / "twins" / "lms.py").is_file()
    assert (tmp_path / "tests" / "connectors" / "test_lms.py").is_file()
    assert "created " in output
