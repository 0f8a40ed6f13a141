"""The bad-input corpus: what a person may hand the hub, each case with the exact message it gets,
its exit code, and the proof that nothing good was lost.

Every evaluation case starts from a home holding an employee directory and one good file already
imported; the bad file is then refused (exit 2), and every store the good import wrote (raw
versions, heads, the stream's state, quarantine, the audit log) is exactly as it was. Files are
real: CSV as Excel writes it, XLSX written by openpyxl, a zip with a broken sheet inside. The
command line is the real one (typer's runner, or a process where what Dagster or Python print
themselves matters).
"""

from __future__ import annotations

import getpass
import hashlib
import io
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from connectors.sdk.errors import AuthError, StreamError
from orchestration.cli.main import app
from pipelines.landing import load_state
from schemas.settings import get_settings
from schemas.tables import AuditEntry, QuarantineEntry, RawRecordVersion, RecordHead

# The evaluations CLI tests' home (KPIHUB_TODAY 2026-12-01, no drop folder, a directory of
# E00001..E00005) and helpers; importing the autouse fixtures makes them apply here too.
from tests.orchestration.test_evaluations_cli import (  # noqa: F401
    HEADER,
    ROWS,
    _directory,
    _no_folder,
    gbk_csv,
    land_directory,
    landed,
    table_rows,
)
from tests.orchestration.test_scores_cli import published  # noqa: F401

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
CMD = "=cmd|' /C calc'!A0"
"""A job number as an attacker types it: Excel would run it if a sheet held it as a formula."""


def xlsx(path: Path | io.BytesIO, rows: list[list[Any]]) -> Path | io.BytesIO:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [HEADER, *rows]:
        sheet.append(row)
    book.save(path)
    return path


def xlsx_number(path: Path, cells: list[str], number: str) -> Path:
    """A row whose value is a number cell holding ``number`` digit for digit, as a program that
    writes exact decimals leaves it (openpyxl itself would write a float)."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    sheet.append(cells)
    cell = sheet.cell(row=2, column=len(cells) + 1)
    cell.value = number
    cell.data_type = "n"
    book.save(path)
    return path


BROKEN_SHEET = (
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    '<row r="1"><c r="A1" t="inlineStr"><is><t>工号</t></is></c></row><row r="2"><c r="A2"'
)
"""A worksheet cut off inside its second row, as a download that stopped would leave it."""


def broken_xml(path: Path) -> Path:
    """A valid zip, every part in place, whose worksheet XML stops halfway."""
    good = io.BytesIO()
    xlsx(good, [ROWS[0]])
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = BROKEN_SHEET.encode()
            target.writestr(item, data)
    return path


def snapshot() -> dict[str, Any]:
    """Everything an import writes, as comparable values."""
    engine = create_engine(get_settings().hub_url)
    with Session(engine) as session:
        found = {
            "versions": session.execute(
                select(
                    RawRecordVersion.id,
                    RawRecordVersion.source,
                    RawRecordVersion.record_key,
                    RawRecordVersion.payload_sha256,
                ).order_by(RawRecordVersion.id)
            ).all(),
            "heads": session.execute(
                select(RecordHead.source, RecordHead.record_key, RecordHead.version_id).order_by(
                    RecordHead.source, RecordHead.record_key
                )
            ).all(),
            "state": load_state(session, "evaluations", "evaluations"),
            "quarantined": session.scalar(select(func.count()).select_from(QuarantineEntry)),
            "audit": session.execute(
                select(AuditEntry.id, AuditEntry.action, AuditEntry.subject).order_by(AuditEntry.id)
            ).all(),
        }
    engine.dispose()
    return found


GOOD_ROWS = [
    ("E00001/2026-10/manager_evaluation", "90"),
    ("E00002/2026-10/manager_evaluation", "85.5"),
    ("E00003/2026-10/innovation_contribution", "70"),
]


@pytest.fixture
def imported(tmp_path: Path) -> dict[str, Any]:
    """A good file imported first: what every bad file after it must leave alone."""
    good = gbk_csv(tmp_path / "good.csv", ROWS)
    result = runner.invoke(app, ["evaluations", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert landed() == GOOD_ROWS
    return snapshot()


def row(job: str = "E00004", period: str = "2026-10", value: str = "80") -> list[str]:
    return [job, "陈静", period, "上级评价", value, "", "李强"]


NOT_CLOSED = "period {} is not closed yet (the current month is 2026-12)"
REFUSED = "nothing imported from it (fix them, or pass --valid-only to import the valid rows)"
NOT_COMPUTED = (
    "value is a formula not computed (=1+2): open the file in Excel or WPS and save it, so that "
    "its result is stored"
)

# (case, file name, writer of the file, the rows of the problems table)
ROW_CASES: list[tuple[str, str, Callable[[Path], object], list[list[str]]]] = [
    (
        "a month far ahead",
        "future.csv",
        lambda p: gbk_csv(p, [row(period="2027-06")]),
        [["future.csv", "2", "期间",
          "period 2027-06 is not closed yet (the current month is 2026-12)"]],
    ),
    (
        "a month of another century",
        "far.csv",
        lambda p: gbk_csv(p, [row(period="2099-12")]),
        [["far.csv", "2", "期间", NOT_CLOSED.format("2099-12")]],
    ),
    (
        "the month still open",
        "open.csv",
        lambda p: gbk_csv(p, [row(period="2026-12")]),
        [["open.csv", "2", "期间", NOT_CLOSED.format("2026-12")]],
    ),
    (
        "a job number not in the directory",
        "stranger.csv",
        lambda p: gbk_csv(p, [row(), row(job="E99999")]),
        [["stranger.csv", "3", "工号", "job number E99999 is not in the directory"]],
    ),
    (
        "a job number that is a formula",
        "cmd.csv",
        lambda p: gbk_csv(p, [row(job=CMD)]),
        [["cmd.csv", "2", "工号", f"job number {CMD} is not in the directory"]],
    ),
    (
        "a cell that reads as markup",
        "markup.csv",
        lambda p: gbk_csv(p, [row(job="[/red]E1")]),
        [["markup.csv", "2", "工号", "job number [/red]E1 is not in the directory"]],
    ),
    (
        "29 digits",
        "digits.csv",
        lambda p: gbk_csv(p, [row(value="1" * 29)]),
        [["digits.csv", "2", "分值", f"value {'1' * 29} has more than 6 digits before the point"]],
    ),
    (
        "40 nines after the point",
        "nines.csv",
        lambda p: gbk_csv(p, [row(value="99." + "9" * 40)]),
        [["nines.csv", "2", "分值",
          f"value 99.{'9' * 40} has 40 decimals; at most 2 are kept"]],
    ),
    (
        "40 nines after the point as XLSX text",
        "nines.xlsx",
        lambda p: xlsx(p, [row(value="99." + "9" * 40)]),
        [["nines.xlsx", "2", "分值",
          f"value 99.{'9' * 40} has 40 decimals; at most 2 are kept"]],
    ),
    (
        "40 nines after the point as an XLSX number",
        "nines-number.xlsx",
        lambda p: xlsx_number(p, row()[:4], "99." + "9" * 40),
        [["nines-number.xlsx", "2", "分值",
          f"value 99.{'9' * 40} has 40 decimals; at most 2 are kept"]],
    ),
    (
        "a formula saved without its result",
        "formula.xlsx",
        lambda p: xlsx(p, [row(value="=1+2")]),
        [["formula.xlsx", "2", "分值", NOT_COMPUTED]],
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "writer", "problems"),
    [pytest.param(n, w, p, id=case) for case, n, w, p in ROW_CASES],
)
def test_a_bad_row_is_refused_with_its_row_and_nothing_good_is_lost(
    imported: dict[str, Any],
    tmp_path: Path,
    name: str,
    writer: Callable[[Path], object],
    problems: list[list[str]],
) -> None:
    path = tmp_path / name
    writer(path)
    result = runner.invoke(app, ["evaluations", "import", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert table_rows(result.output) == problems
    assert result.output.strip().splitlines()[-1] == (
        f"error: {len(problems)} problem(s) in {name}; {REFUSED}"
    )
    assert snapshot() == imported
    assert landed() == GOOD_ROWS


FILE_CASES: list[tuple[str, str, Callable[[Path], object], str]] = [
    (
        "a valid zip with broken XML",
        "broken.xlsx",
        broken_xml,
        "error: broken.xlsx: not a readable XLSX workbook (ParseError: unclosed token: line 1, "
        "column 162); nothing imported from it",
    ),
    (
        "a header and no rows",
        "header.csv",
        lambda p: gbk_csv(p, []),
        "error: header.csv: the file has a header and no rows; nothing imported from it",
    ),
    (
        "a header-only workbook",
        "header.xlsx",
        lambda p: xlsx(p, []),
        "error: header.xlsx: the file has a header and no rows; nothing imported from it",
    ),
]


@pytest.mark.parametrize(
    ("name", "writer", "message"),
    [pytest.param(n, w, m, id=case) for case, n, w, m in FILE_CASES],
)
def test_a_bad_file_is_one_line_naming_it_and_nothing_good_is_lost(
    imported: dict[str, Any],
    tmp_path: Path,
    name: str,
    writer: Callable[[Path], object],
    message: str,
) -> None:
    path = tmp_path / name
    writer(path)
    for options in ([], ["--valid-only"]):
        result = runner.invoke(app, ["evaluations", "import", str(path), *options])
        assert result.exit_code == 2
        assert result.output.strip() == message
    assert snapshot() == imported


def test_valid_only_quarantines_the_unknown_job_number_and_lands_the_rest(
    imported: dict[str, Any], tmp_path: Path
) -> None:
    path = gbk_csv(tmp_path / "mixed.csv", [row(), row(job=CMD)])
    result = runner.invoke(app, ["evaluations", "import", str(path), "--valid-only"])
    assert result.exit_code == 0, result.output
    assert table_rows(result.output) == [
        ["mixed.csv", "2", "1", "0", "1"],
        ["mixed.csv", "3", "工号", f"job number {CMD} is not in the directory"],
    ]
    assert landed() == [*GOOD_ROWS, ("E00004/2026-10/manager_evaluation", "80")]
    after = snapshot()
    assert after["quarantined"] == imported["quarantined"] + 1
    assert after["versions"][: len(imported["versions"])] == imported["versions"]


def test_an_allowed_month_goes_in_by_name_only(imported: dict[str, Any], tmp_path: Path) -> None:
    path = gbk_csv(tmp_path / "open.csv", [row(period="2026-12")])
    result = runner.invoke(app, ["evaluations", "import", str(path), "--allow-period", "2026-12"])
    assert result.exit_code == 0, result.output
    assert landed() == [*GOOD_ROWS, ("E00004/2026-12/manager_evaluation", "80")]
    typo = runner.invoke(app, ["evaluations", "import", str(path), "--allow-period", "2026-13"])
    assert typo.exit_code == 2
    assert typo.output.strip() == (
        "error: --allow-period '2026-13' is not a month in the form YYYY-MM"
    )


def test_text_that_looks_like_a_formula_is_stored_as_the_text_it_is(
    imported: dict[str, Any], tmp_path: Path
) -> None:
    cells = ["E00004", '=HYPERLINK("http://x")', "2026-10", "上级评价", "80", "@SUM(A1)", "+李强"]
    path = gbk_csv(tmp_path / "text.csv", [cells])
    result = runner.invoke(app, ["evaluations", "import", str(path)])
    assert result.exit_code == 0, result.output
    engine = create_engine(get_settings().hub_url)
    with Session(engine) as session:
        payload = session.scalars(
            select(RawRecordVersion.payload).where(
                RawRecordVersion.record_key == "E00004/2026-10/manager_evaluation"
            )
        ).one()
    engine.dispose()
    assert (payload["name"], payload["comment"], payload["evaluator"]) == (
        '=HYPERLINK("http://x")',
        "@SUM(A1)",
        "+李强",
    )


def test_every_import_is_in_the_audit_log_and_a_refused_one_adds_nothing(
    imported: dict[str, Any], tmp_path: Path
) -> None:
    refused = gbk_csv(tmp_path / "refused.csv", [row(job="E99999")])
    assert runner.invoke(app, ["evaluations", "import", str(refused)]).exit_code == 2
    second = gbk_csv(tmp_path / "second.csv", [row()])
    assert runner.invoke(app, ["evaluations", "import", str(second)]).exit_code == 0
    engine = create_engine(get_settings().hub_url)
    with Session(engine) as session:
        audit = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "evaluations.import")
            .order_by(AuditEntry.id)
        ).all()
    engine.dispose()
    good = tmp_path / "good.csv"
    assert [
        (a.subject, a.detail["file_sha256"], a.detail["rows_pulled"], a.detail["new_versions"],
         a.detail["by"])
        for a in audit
    ] == [
        ("good.csv", hashlib.sha256(good.read_bytes()).hexdigest(), 3, 3, getpass.getuser()),
        ("second.csv", hashlib.sha256(second.read_bytes()).hexdigest(), 1, 1, getpass.getuser()),
    ]  # fmt: skip
    assert all(a.run_id.startswith("import-") for a in audit)


def test_a_home_with_no_directory_refuses_an_import_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "no-directory"
    monkeypatch.setenv("KPIHUB_HOME", str(home))
    get_settings.cache_clear()
    path = gbk_csv(tmp_path / "oct.csv", ROWS)
    result = runner.invoke(app, ["evaluations", "import", str(path)])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: no employee directory has been landed in {home} yet, so no job number can be "
        "checked; sync the sources first (kpihub demo, or sync_sources in the Dagster UI)"
    )
    assert landed() == []
    land_directory()
    again = runner.invoke(app, ["evaluations", "import", str(path)])
    assert again.exit_code == 0, again.output
    assert landed() == GOOD_ROWS


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("missing.csv", "error: no such file: {tmp}/missing.csv"),
        (".", "error: {tmp} is not a file; give one CSV or XLSX file"),
    ],
)
def test_a_path_that_is_no_file_is_one_line(tmp_path: Path, target: str, message: str) -> None:
    path = tmp_path / target if target != "." else tmp_path
    result = runner.invoke(app, ["evaluations", "import", str(path)])
    assert result.exit_code == 2
    assert result.output.strip() == message.format(tmp=tmp_path)


# --- configuration that cannot work ------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("KPIHUB_CLOSE_DAY", "40", "KPIHUB_CLOSE_DAY: Input should be less than or equal to 28"),
        (
            "KPIHUB_DATABASE_URL",
            "hub:pa55word-never-shown",
            "KPIHUB_DATABASE_URL: not a database URL (dialect+driver://user@host/database or "
            "sqlite:///path)",
        ),
        (
            "KPIHUB_TODAY",
            "tomorrow",
            "KPIHUB_TODAY='tomorrow' is not a date in the form YYYY-MM-DD",
        ),
        (
            "KPIHUB_HISTORY_MONTHS",
            "six",
            "KPIHUB_HISTORY_MONTHS='six' is not a whole number of months",
        ),
    ],
)
@pytest.mark.parametrize("command", [["facts"], ["evaluations", "import", "{file}"]])
def test_a_setting_that_cannot_work_stops_every_command_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    variable: str,
    value: str,
    message: str,
    command: list[str],
) -> None:
    before = snapshot()
    path = gbk_csv(tmp_path / "oct.csv", ROWS)
    monkeypatch.setenv(variable, value)
    get_settings.cache_clear()
    result = runner.invoke(app, [c.format(file=path) for c in command])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {message}"
    assert "pa55word" not in result.output
    monkeypatch.delenv(variable)
    get_settings.cache_clear()
    assert snapshot() == before


def test_a_store_out_of_reach_is_named_without_its_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KPIHUB_DATABASE_URL", f"sqlite:///{tmp_path}/no/such/folder/hub.db")
    get_settings.cache_clear()
    path = gbk_csv(tmp_path / "oct.csv", ROWS)
    result = runner.invoke(app, ["evaluations", "import", str(path)])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: cannot use the store at sqlite:///{tmp_path}/no/such/folder/hub.db: "
        "unable to open database file"
    )


def test_an_empty_templates_folder_stops_the_demo_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "templates"
    empty.mkdir()
    home = tmp_path / "demo-home"
    monkeypatch.setenv("KPIHUB_HOME", str(home))
    monkeypatch.setenv("KPIHUB_TEMPLATES_DIR", str(empty))
    get_settings.cache_clear()
    result = runner.invoke(app, ["demo", "--employees", "5", "--periods", "1"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: {empty}: no scoring template (*.yaml) found (KPIHUB_TEMPLATES_DIR)"
    )
    assert not home.exists()


# --- one line, or the traceback with --debug ---------------------------------------------------


def kpihub(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real command in its own process: what Python and Dagster print is on its stderr."""
    return subprocess.run(
        [sys.executable, "-c", "from orchestration.cli.main import app; app()", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_debug_shows_the_traceback_that_is_otherwise_one_line(tmp_path: Path) -> None:
    env = {"KPIHUB_DATABASE_URL": f"sqlite:///{tmp_path}/no/such/folder/hub.db"}
    path = gbk_csv(tmp_path / "oct.csv", ROWS)
    plain = kpihub("evaluations", "import", str(path), env=env)
    assert plain.returncode == 2
    assert plain.stdout == ""
    assert plain.stderr.strip() == (
        f"error: cannot use the store at sqlite:///{tmp_path}/no/such/folder/hub.db: "
        "unable to open database file"
    )
    debug = kpihub("--debug", "evaluations", "import", str(path), env=env)
    assert debug.returncode == 1
    assert debug.stderr.startswith("Traceback (most recent call last):")
    assert (
        "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) unable to open database file"
        in debug.stderr.splitlines()
    )


def test_an_unexpected_error_is_one_line_that_points_to_debug(
    imported: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("cells")

    monkeypatch.setattr("pipelines.evaluation_import.land_stream", broken)
    path = gbk_csv(tmp_path / "oct.csv", ROWS)
    result = runner.invoke(app, ["evaluations", "import", str(path)])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: unexpected KeyError: 'cells' (run the command again with --debug for the traceback)"
    )
    debug = runner.invoke(app, ["--debug", "evaluations", "import", str(path)])
    assert isinstance(debug.exception, KeyError)
    assert snapshot() == imported


# --- what the hub reads back and writes out ----------------------------------------------------


@pytest.mark.usefixtures("published")
def test_scores_of_a_month_nobody_was_scored_in_exits_2_naming_the_published_ones() -> None:
    result = runner.invoke(app, ["scores", "--period", "2025-01"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: no published scores for 2025-01; published: 2026-10"
    # Filters that match nobody in a published month are an empty list, not an error.
    held_a = runner.invoke(
        app, ["scores", "--period", "2026-10", "--held", "--grade", "A", "--json"]
    )
    assert held_a.exit_code == 0, held_a.output
    assert held_a.output.strip() == "[]"


def test_the_scores_xlsx_writes_formula_looking_text_as_text(tmp_path: Path) -> None:
    from orchestration.cli.inspect import open_stores
    from pipelines.publishing import draft_scores, publish
    from schemas.settings import DEFAULT_TEMPLATES_DIR
    from schemas.templates import load_templates
    from tests.orchestration.test_scores_cli import ACTUALS, PEOPLE, PERIOD, save

    # A name as the directory may hold it: typed by someone who knows what Excel does with it.
    people = [replace(p, name=CMD) if p.job_number == "E00101" else p for p in PEOPLE]
    stores = open_stores()
    for (source, kpi), values in ACTUALS.items():
        save(stores, source, kpi, values, "actual")
    with Session(stores.hub) as session:
        drafts = draft_scores(session, PERIOD, load_templates(DEFAULT_TEMPLATES_DIR), people)
    publish(stores, drafts, PERIOD, "run-1")
    stores.dispose()
    target = tmp_path / "scores.xlsx"
    result = runner.invoke(app, ["scores", "--period", PERIOD, "--xlsx", str(target), "--json"])
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(target).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    names = {row[0].value: row[1] for row in sheet.iter_rows(min_row=3)}
    assert (names["E00101"].data_type, names["E00101"].value) == ("s", "'" + CMD)
    assert names["E00001"].value == "销售1"


# --- through Dagster ---------------------------------------------------------------------------


def test_through_dagster_a_failure_is_one_line_naming_the_stream_and_why(tmp_path: Path) -> None:
    """A demo whose crm/orders is held by another run: its stderr is the demo's own line, with
    the stream and why first, and Dagster's stack trace is in the run's event log only."""
    import re

    import dagster as dg

    from pipelines.leases import acquire

    settings = get_settings()
    engine = create_engine(settings.hub_url)
    acquire(engine, "crm", "orders", "another-run")
    engine.dispose()
    demo = kpihub(
        "demo", "--employees", "5", "--periods", "1",
        env={"KPIHUB_LEASE_WAIT_SECONDS": "0", "KPIHUB_HISTORY_MONTHS": "1"},
    )  # fmt: skip
    assert demo.returncode == 1, demo.stderr
    assert "Traceback" not in demo.stdout + demo.stderr
    (line,) = demo.stderr.strip().splitlines()
    match = re.fullmatch(
        r"error: sync_sources run (?P<run>[0-9a-f-]{36}) failed; step crm__orders failed: "
        r"crm/orders is being synced by run another-run \(since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d "
        r"Asia/Shanghai\); try again when it has finished",
        line,
    )
    assert match is not None, line
    assert settings.dagster_home is not None
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        records = instance.get_records_for_run(
            match["run"], of_type=dg.DagsterEventType.STEP_FAILURE
        ).records
    (failure,) = [r.event_log_entry.dagster_event for r in records]
    assert failure is not None
    error = failure.step_failure_data.error
    assert error is not None and error.cause is not None
    assert error.cause.cls_name == "LeaseHeld"
    assert any("pipelines/leases.py" in frame for frame in error.cause.stack)


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (
            lambda: AuthError(
                "crm", "token endpoint answered HTTP 401; check KPIHUB_CRM_CLIENT_SECRET"
            ),
            "step crm__orders failed: crm: authentication failed: token endpoint answered HTTP "
            "401; check KPIHUB_CRM_CLIENT_SECRET",
        ),
        (
            lambda: StreamError(
                "crm", "orders", 1, "connection to http://127.0.0.1:9/oauth/token failed"
            ),
            "step crm__orders failed: crm/orders page 1: connection to "
            "http://127.0.0.1:9/oauth/token failed",
        ),
    ],
    ids=["refused credential", "closed port"],
)
def test_a_run_failure_is_the_assets_own_error_and_dagster_prints_nothing(
    capfd: pytest.CaptureFixture[str], error: Callable[[], Exception], line: str
) -> None:
    """The demo runs its jobs with Dagster's console logger at CRITICAL: a failed step's stack
    trace stays in the event log, and the one line says what the asset raised, not Dagster's
    wrapper ("Error occurred while executing op")."""
    import dagster as dg

    from orchestration.demo import QUIET, run_failure

    @dg.asset(key=["crm", "orders"])
    def orders() -> None:
        raise error()

    job = dg.Definitions(assets=[orders]).resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, run_config=QUIET, raise_on_error=False)
    assert not result.success
    assert run_failure(result, "sync_sources") == (
        f"sync_sources run {result.run_id} failed; {line}"
    )
    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("", "")
