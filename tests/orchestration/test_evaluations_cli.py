"""``kpihub evaluations import``: what lands, what HR reads on screen and the exit codes.

Every test's home holds an employee directory (HR_EMP rows of the ERP, as a sync lands them),
which the import checks job numbers against. ``tests/reliability/test_bad_inputs.py`` reuses
these helpers for its corpus of bad files."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from connectors.sdk.timeparse import now_utc
from orchestration.cli.main import app
from pipelines.landing import land_records
from schemas.envelope import RawRecord
from schemas.settings import get_settings
from schemas.tables import AuditEntry, QuarantineEntry, RawRecordVersion

runner = CliRunner()
HEADER = ["工号", "姓名", "期间", "指标", "分值", "评语", "评价人"]
ROWS = [
    ["E00001", "王伟", "2026/10/1", "上级评价", "90", "工作认真，积极主动。", "李强"],
    ["E00002", "张敏", "46296", "manager_evaluation", "85.5", "", "李强"],
    ["E00003", "刘洋", "２０２６－１０", "innovation_contribution", "７０", "", "评审会"],
]


def gbk_csv(path: Path, rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([HEADER, *rows])
    path.write_bytes(buffer.getvalue().encode("gbk"))
    return path


def table_rows(output: str) -> list[list[str]]:
    """The body rows of the rich tables in ``output``, wrapped cells joined again."""
    rows: list[list[str]] = []
    for line in output.splitlines():
        if not line.startswith("│"):
            continue
        cells = [c.strip() for c in line.strip("│").split("│")]
        if rows and cells[0] == "" and len(cells) == len(rows[-1]):
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=True)]
        else:
            rows.append(cells)
    return rows


def landed() -> list[tuple[str, str]]:
    engine = create_engine(get_settings().hub_url)
    with Session(engine) as session:
        rows = session.execute(
            select(RawRecordVersion.record_key, RawRecordVersion.payload["value"].as_string())
            .where(RawRecordVersion.source == "evaluations")
            .order_by(RawRecordVersion.id)
        ).all()  # fmt: skip
    engine.dispose()
    return [(key, value) for key, value in rows]


def quarantined() -> int:
    engine = create_engine(get_settings().hub_url)
    with Session(engine) as session:
        found = int(session.scalar(select(func.count()).select_from(QuarantineEntry)) or 0)
    engine.dispose()
    return found


DIRECTORY = ("E00001", "E00002", "E00003", "E00004", "E00005")


def land_directory(job_numbers: tuple[str, ...] = DIRECTORY) -> None:
    """The employee master as a sync lands it: one HR_EMP row of the ERP per job number."""
    from orchestration.home import prepare_home, upgrade

    settings = get_settings()
    prepare_home(settings)
    upgrade(settings)
    records = [
        RawRecord.wrap(
            source="erp",
            stream="hr_emp",
            record_key=job_number,
            payload={"FEMPNO": job_number, "FNAME": f"员工{job_number[-1]}", "FDEPTNAME": "研发部"},
            source_updated_at=None,
            extracted_at=now_utc(),
        )
        for job_number in job_numbers
    ]
    engine = create_engine(settings.hub_url)
    with Session(engine) as session, session.begin():
        land_records(session, records, "sync-directory", now_utc())
    engine.dispose()


@pytest.fixture(autouse=True)
def _no_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KPIHUB_EVALUATIONS_DIR", raising=False)
    monkeypatch.setenv("KPIHUB_TODAY", "2026-12-01")  # 2026-10 is closed and kept


@pytest.fixture(autouse=True)
def _directory(_no_folder: None) -> None:
    land_directory()


def test_import_lands_the_file_and_a_second_import_changes_nothing(tmp_path: Path) -> None:
    path = gbk_csv(tmp_path / "十月评价.csv", ROWS)
    result = runner.invoke(app, ["evaluations", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert table_rows(result.output) == [["十月评价.csv", "3", "3", "0", "0"]]
    assert "Imported 十月评价.csv" in result.output
    assert landed() == [
        ("E00001/2026-10/manager_evaluation", "90"),
        ("E00002/2026-10/manager_evaluation", "85.5"),
        ("E00003/2026-10/innovation_contribution", "70"),
    ]
    again = runner.invoke(app, ["evaluations", "import", str(path)])
    assert again.exit_code == 0, again.output
    assert table_rows(again.output) == [["十月评价.csv", "3", "0", "3", "0"]]
    assert len(landed()) == 3
    # Both imports are on record, with the file's hash and what each landed.
    engine = create_engine(get_settings().hub_url)
    with Session(engine) as session:
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "evaluations.import")
        ).all()
    engine.dispose()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert [(a.subject, a.detail["file_sha256"], a.detail["new_versions"]) for a in audit] == [
        ("十月评价.csv", digest, 3),
        ("十月评价.csv", digest, 0),
    ]


def test_a_file_with_errors_prints_every_row_error_exits_2_and_lands_nothing(
    tmp_path: Path,
) -> None:
    bad = [*ROWS, ["E00004", "陈静", "2026-13", "上级评价", "120", "", ""], ["", "", "", "", ""]]
    path = gbk_csv(tmp_path / "bad.csv", [*bad, ["", "黄磊", "2026-10", "bonus", "1", "", ""]])
    result = runner.invoke(app, ["evaluations", "import", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert table_rows(result.output) == [
        ["bad.csv", "5", "期间",
         "period '2026-13' is not a month (YYYY-MM, a date or an Excel date serial)"],
        ["bad.csv", "5", "分值", "value 120 is outside 0..100 for manager_evaluation"],
        ["bad.csv", "7", "工号", "job number is empty"],
        ["bad.csv", "7", "指标",
         "KPI 'bonus' is not one of innovation_contribution, manager_evaluation, "
         "project_progress_rate"],
    ]  # fmt: skip
    assert result.output.strip().splitlines()[-1] == (
        "error: 4 problem(s) in bad.csv; nothing imported from it (fix them, or pass "
        "--valid-only to import the valid rows)"
    )
    assert landed() == []
    assert quarantined() == 0


def test_valid_only_lands_the_good_rows_and_reports_the_rejected(tmp_path: Path) -> None:
    path = gbk_csv(tmp_path / "mixed.csv", [*ROWS, ["E00004", "陈静", "2026-10", "上级评价", "x"]])
    result = runner.invoke(app, ["evaluations", "import", str(path), "--valid-only"])
    assert result.exit_code == 0, result.output
    assert table_rows(result.output) == [
        ["mixed.csv", "4", "3", "0", "1"],
        ["mixed.csv", "5", "分值", "value 'x' is not a number"],
    ]
    assert "Rejected rows, quarantined (1)" in result.output
    assert len(landed()) == 3
    assert quarantined() == 1


def test_an_unreadable_file_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "scan.xlsx"
    path.write_bytes(b"%PDF-1.4")
    result = runner.invoke(app, ["evaluations", "import", str(path), "--valid-only"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: scan.xlsx: not a readable XLSX workbook (BadZipFile: File is not a zip file); "
        "nothing imported from it"
    )


def test_a_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluations", "import", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: no such file: {tmp_path / 'nope.csv'}"


def test_the_imported_file_is_kept_in_the_folder_and_the_sync_skips_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "drop"
    monkeypatch.setenv("KPIHUB_EVALUATIONS_DIR", str(folder))
    path = gbk_csv(tmp_path / "oct.csv", ROWS)
    result = runner.invoke(app, ["evaluations", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == f"copied to {folder / 'oct.csv'}"
    assert (folder / "oct.csv").read_bytes() == path.read_bytes()
    gbk_csv(path, [*ROWS, ["E00005", "", "2026-10", "上级评价", "66"]])
    changed = runner.invoke(app, ["evaluations", "import", str(path)])
    assert changed.exit_code == 0, changed.output
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert (
        changed.output.strip().splitlines()[-1] == f"copied to {folder / f'oct-{digest[:8]}.csv'}"
    )
    assert table_rows(changed.output) == [["oct.csv", "4", "1", "3", "0"]]

    from connectors.registry import get
    from pipelines.landing import land_stream
    from pipelines.stores import Stores

    stores = Stores.connect(get_settings().hub_url, get_settings().hub_url)
    source = get("evaluations").connect({"KPIHUB_EVALUATIONS_DIR": str(folder)})
    stats = land_stream(stores.hub, source, get("evaluations").stream("evaluations"), "sync")
    stores.dispose()
    assert (stats.pulled, stats.landed) == (0, 0)
    assert source.skipped == ["oct-" + digest[:8] + ".csv", "oct.csv"]  # type: ignore[attr-defined]
