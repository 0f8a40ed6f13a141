"""The evaluations file source: real files in every encoding and format HR sends, real parsing,
and landing on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.evaluations import EvaluationsSource
from connectors.evaluations.streams import EVALUATIONS
from connectors.registry import get
from connectors.sdk.files import FileImportError
from pipelines.landing import land_stream, load_state
from pipelines.stores import Stores
from sandbox.evaluations_data import write_evaluation_files
from sandbox.ground_truth import EVALUATION_KPI_CODES, truth
from sandbox.model import generate_world
from schemas.tables import QuarantineEntry, RawRecordVersion, RecordHead


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hub's calendar, pinned: which months a file may evaluate depends on today."""
    monkeypatch.setenv("KPIHUB_TODAY", "2026-12-01")


EN = ["job_number", "name", "period", "kpi", "value", "comment", "evaluator"]
ZH = ["工号", "姓名", "期间", "指标", "分值", "评语", "评价人"]
BILINGUAL = [f"{zh}/{en}" for zh, en in zip(ZH, EN, strict=True)]
KPIS = "innovation_contribution, manager_evaluation, project_progress_rate"
PERIOD_HINT = "is not a month (YYYY-MM, a date or an Excel date serial)"
HINT = PERIOD_HINT


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def write(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def payloads(source: EvaluationsSource, state: dict[str, Any] | None = None) -> list[dict]:
    return [r.payload for page in source.read(EVALUATIONS, state) for r in page.records]


def row(
    job: str,
    period: str,
    kpi: str,
    value: str,
    *,
    name: str | None,
    comment: str | None = None,
    evaluator: str | None = None,
    file: Path,
    number: int,
) -> dict[str, Any]:
    return {
        "key": f"{job}/{period}/{kpi}",
        "job_number": job,
        "name": name,
        "period": period,
        "kpi": kpi,
        "value": value,
        "comment": comment,
        "evaluator": evaluator,
        "file": file.name,
        "file_sha256": sha(file),
        "row": number,
    }


def issues_of(folder: Path, **options: Any) -> list[str]:
    with pytest.raises(FileImportError) as caught:
        payloads(EvaluationsSource(folder, **options))
    return [str(i) for i in caught.value.issues]


# --- every encoding and format -------------------------------------------------------------------


def test_utf8_without_bom_english_headers_whitespace_and_trailing_blank_rows(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "plain.csv",
        csv_bytes(
            [
                EN,
                [
                    "  E00001 ",
                    " 王伟 ",
                    " 2026-10 ",
                    " manager_evaluation ",
                    " 92.50 ",
                    " 好 ",
                    "李强",
                ],
                ["E00002", "", "2026-10", "MANAGER_EVALUATION", "100", "", ""],
                ["", "", "", "", "", "", ""],
                ["   ", "", "", "", "", "", ""],
            ]
        )
        + b"\r\n\r\n",
    )
    assert payloads(EvaluationsSource(tmp_path)) == [
        row("E00001", "2026-10", "manager_evaluation", "92.5", name="王伟", comment="好",
            evaluator="李强", file=path, number=2),
        row("E00002", "2026-10", "manager_evaluation", "100", name=None, file=path, number=3),
    ]  # fmt: skip


def test_utf8_with_bom_bilingual_headers_and_full_width_digits(tmp_path: Path) -> None:
    data = csv_bytes(
        [
            BILINGUAL,
            [
                "Ｅ００００３",
                "张敏",
                "２０２６－１０",
                "project_progress_rate",
                "１１５．５",
                "",
                "",
            ],
            ["E00003", "张敏", "2026年9月", "创新贡献", "85%", "有创意，值得推广！", "评审会"],
        ],
        "utf-8-sig",
    )
    assert data.startswith(b"\xef\xbb\xbf")
    path = write(tmp_path, "bom.csv", data)
    assert payloads(EvaluationsSource(tmp_path)) == [
        row("E00003", "2026-10", "project_progress_rate", "115.5", name="张敏", file=path,
            number=2),
        row("E00003", "2026-09", "innovation_contribution", "85", name="张敏",
            comment="有创意，值得推广！", evaluator="评审会", file=path, number=3),
    ]  # fmt: skip


def test_gbk_chinese_headers_slash_dates_and_text_serials(tmp_path: Path) -> None:
    data = csv_bytes(
        [
            ZH,
            ["E00004", "刘洋", "2026/10/1", "上级评价", "88", "沟通顺畅，按时交付。", "王芳"],
            ["E00005", "陈静", "2026-10-31", "上级评价", "0", "", "王芳"],
            ["E00006", "黄磊", "46296", "上级评价", "60.0", "", "王芳"],
            ["E00007", "赵军", "202610", "上级评价", "75.25", "", "王芳"],
        ],
        "gbk",
    )
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    path = write(tmp_path, "gbk.csv", data)
    assert payloads(EvaluationsSource(tmp_path)) == [
        row("E00004", "2026-10", "manager_evaluation", "88", name="刘洋",
            comment="沟通顺畅，按时交付。", evaluator="王芳", file=path, number=2),
        row("E00005", "2026-10", "manager_evaluation", "0", name="陈静", evaluator="王芳",
            file=path, number=3),
        row("E00006", "2026-10", "manager_evaluation", "60", name="黄磊", evaluator="王芳",
            file=path, number=4),
        row("E00007", "2026-10", "manager_evaluation", "75.25", name="赵军", evaluator="王芳",
            file=path, number=5),
    ]  # fmt: skip


def test_xlsx_serials_date_cells_numbers_and_full_width_text(tmp_path: Path) -> None:
    data = xlsx_bytes(
        [
            ["工号", "name", "期间/period", "kpi", "分值/value", "evaluator", "备注"],
            ["E00008", "孙宇", 46296, "innovation_contribution", 0.1 + 0.2, "评审会", None],
            ["Ｅ００００９", "马超", datetime(2026, 9, 15), "project_progress_rate", "９９．５",
             None, "补录"],
            [10010, "朱红", 46022.75, "manager_evaluation", 77, None, None],
            [None, None, None, None, None, None, None],
            [None, None, None, None, None, None, None],
        ]
    )  # fmt: skip
    path = write(tmp_path, "book.xlsx", data)
    first, second, third = payloads(EvaluationsSource(tmp_path))
    assert first == row("E00008", "2026-10", "innovation_contribution", "0.3", name="孙宇",
                        evaluator="评审会", file=path, number=2)  # fmt: skip
    assert second == {
        **row("E00009", "2026-09", "project_progress_rate", "99.5", name="马超", file=path,
              number=3),
        "extra": {"备注": "补录"},
    }  # fmt: skip
    assert third == row("10010", "2025-12", "manager_evaluation", "77", name="朱红", file=path,
                        number=4)  # fmt: skip


def test_files_that_are_not_data_are_left_alone(tmp_path: Path) -> None:
    write(tmp_path, "a.csv", csv_bytes([EN[:5], ["E1", "", "2026-10", "manager_evaluation", "1"]]))
    write(tmp_path, "~$a.xlsx", b"lock")
    write(tmp_path, ".hidden.csv", b"junk")
    write(tmp_path, "notes.txt", b"junk")
    assert [p["key"] for p in payloads(EvaluationsSource(tmp_path))] == [
        "E1/2026-10/manager_evaluation"
    ]


# --- row and file errors -------------------------------------------------------------------------

ROW_ERRORS = [
    (["E1", "2026-10", "bonus", "80"], f"column kpi: KPI 'bonus' is not one of {KPIS}"),
    (["E1", "2026-10", "", "80"], "column kpi: KPI is empty"),
    (["E1", "2026-10", "manager_evaluation", "八十"], "column value: value '八十' is not a number"),
    (["E1", "2026-10", "manager_evaluation", "1e2"], "column value: value '1e2' is not a number"),
    (["E1", "2026-10", "manager_evaluation", " "], "column value: value is empty"),
    (
        ["E1", "2026-10", "manager_evaluation", "100.5"],
        "column value: value 100.5 is outside 0..100 for manager_evaluation",
    ),
    (
        ["E1", "2026-10", "project_progress_rate", "120.01"],
        "column value: value 120.01 is outside 0..120 for project_progress_rate",
    ),
    (
        ["E1", "2026-10", "innovation_contribution", "-1"],
        "column value: value -1 is outside 0..100 for innovation_contribution",
    ),
    (["E1", "2026-13", "manager_evaluation", "80"], f"column period: period '2026-13' {HINT}"),
    (["E1", "2026/2/30", "manager_evaluation", "80"], f"column period: period '2026/2/30' {HINT}"),
    (["E1", "Oct 2026", "manager_evaluation", "80"], f"column period: period 'Oct 2026' {HINT}"),
    (["E1", "", "manager_evaluation", "80"], "column period: period is empty"),
    (
        ["E1", "1999-12", "manager_evaluation", "80"],
        "column period: period '1999-12' is outside the years 2000..2099",
    ),
    (
        ["E1", "10", "manager_evaluation", "80"],
        "column period: period '10' is outside the years 2000..2099",
    ),
    (["  ", "2026-10", "manager_evaluation", "80"], "column job_number: job number is empty"),
]  # fmt: skip


@pytest.mark.parametrize(("cells", "expected"), ROW_ERRORS)
def test_each_row_error_names_file_row_column_and_why(
    tmp_path: Path, cells: list[str], expected: str
) -> None:
    good = ["E0", "2026-10", "manager_evaluation", "80"]
    write(tmp_path, "bad.csv", csv_bytes([["job_number", "period", "kpi", "value"], good, cells]))
    assert issues_of(tmp_path) == [f"bad.csv row 3, {expected}"]


def test_every_problem_of_every_row_is_listed_with_rows_as_excel_numbers_them(
    tmp_path: Path,
) -> None:
    data = csv_bytes(
        [
            ZH,
            ["", "张三", "2026-13", "奖金", "abc", "", ""],
            [],
            ["E2", "", "2026-10", "manager_evaluation", "70", "", ""],
            ["E2", "", "2026/10/9", "上级评价", "71", "", ""],
        ]
    )
    write(tmp_path, "many.csv", data)
    with pytest.raises(FileImportError) as caught:
        payloads(EvaluationsSource(tmp_path))
    dup = "rows 4, 5 have the same job number, period and KPI (E2/2026-10/manager_evaluation)"
    assert str(caught.value) == "\n".join(
        [
            "evaluations/evaluations: 6 problem(s) in many.csv; nothing imported from it",
            "  many.csv row 2, column 工号: job number is empty",
            f"  many.csv row 2, column 期间: period '2026-13' {PERIOD_HINT}",
            f"  many.csv row 2, column 指标: KPI '奖金' is not one of {KPIS}",
            "  many.csv row 2, column 分值: value 'abc' is not a number",
            f"  many.csv row 4, column 工号, 期间, 指标: {dup}",
            f"  many.csv row 5, column 工号, 期间, 指标: {dup}",
        ]
    )
    assert [(i.reason, i.row) for i in caught.value.issues] == [
        ("missing_job_number", 2),
        ("bad_period", 2),
        ("unknown_kpi", 2),
        ("bad_value", 2),
        ("duplicate_row", 4),
        ("duplicate_row", 5),
    ]


def test_xlsx_errors_name_the_header_as_written(tmp_path: Path) -> None:
    data = xlsx_bytes(
        [
            BILINGUAL,
            ["E1", None, 46296, "manager_evaluation", 80],
            ["E2", None, 46296, "manager_evaluation", True],
            [None, None, None, None, None],
            ["E3", None, 46296, "manager_evaluation", 101.5],
        ]
    )
    write(tmp_path, "book.xlsx", data)
    assert issues_of(tmp_path) == [
        "book.xlsx row 3, column 分值/value: value 'TRUE' is not a number",
        "book.xlsx row 5, column 分值/value: value 101.5 is outside 0..100 for manager_evaluation",
    ]


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        (
            "short.csv",
            csv_bytes([["工号", "期间", "name"], ["E1", "2026-10", "x"]]),
            [
                "short.csv row 1: no column 指标/kpi in the header",
                "short.csv row 1: no column 分值/value in the header",
            ],
        ),
        (
            "twice.csv",
            csv_bytes([["工号", "job_number", "期间", "指标", "分值"]]),
            ["twice.csv row 1: column job_number appears twice (A and B)"],
        ),
        ("empty.csv", b"\r\n,,,\r\n", ["empty.csv: no header row"]),
        ("binary.csv", b"\x81\x30\xff\xff", ["binary.csv: not UTF-8 or GBK text"]),
        (
            "fake.xlsx",
            b"not a zip",
            ["fake.xlsx: not a readable XLSX workbook (BadZipFile: File is not a zip file)"],
        ),
    ],
)
def test_file_level_problems(tmp_path: Path, name: str, data: bytes, expected: list[str]) -> None:
    write(tmp_path, name, data)
    assert issues_of(tmp_path) == expected
    assert issues_of(tmp_path, valid_only=True) == expected, "valid-only cannot rescue a file"


def test_a_missing_folder_is_a_stream_error(tmp_path: Path) -> None:
    source = get("evaluations").connect({"KPIHUB_EVALUATIONS_DIR": str(tmp_path / "nowhere")})
    with pytest.raises(Exception, match=r"^evaluations/evaluations page 1: folder .* not exist$"):
        payloads(source)  # type: ignore[arg-type]


# --- landing -------------------------------------------------------------------------------------


def count(stores: Stores, table: type) -> int:
    with Session(stores.hub) as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def land(stores: Stores, source: EvaluationsSource, run: str = "r1") -> tuple[int, int, int]:
    stats = land_stream(stores.hub, source, EVALUATIONS, run)
    return stats.pulled, stats.landed, stats.rejected


def state(stores: Stores) -> dict[str, Any] | None:
    with Session(stores.hub) as session:
        return load_state(session, "evaluations", "evaluations")


GOOD = [
    ["job_number", "period", "kpi", "value"],
    ["E1", "2026-10", "manager_evaluation", "80"],
    ["E2", "2026-10", "manager_evaluation", "90"],
    ["E3", "2026-10", "innovation_contribution", "70"],
]


def test_a_file_with_errors_lands_nothing_and_advances_no_state(
    stores: Stores, tmp_path: Path
) -> None:
    write(tmp_path, "bad.csv", csv_bytes([*GOOD, ["E4", "2026-10", "manager_evaluation", "x"]]))
    with pytest.raises(FileImportError, match="1 problem"):
        land(stores, EvaluationsSource(tmp_path))
    assert count(stores, RawRecordVersion) == 0
    assert count(stores, QuarantineEntry) == 0
    assert state(stores) is None


def test_good_files_land_beside_a_bad_one_but_state_waits_for_the_fix(
    stores: Stores, tmp_path: Path
) -> None:
    write(tmp_path, "a-good.csv", csv_bytes(GOOD))
    bad = write(tmp_path, "b-bad.csv", csv_bytes([GOOD[0], ["E9", "2026-10", "nope", "1"]]))
    with pytest.raises(FileImportError, match=r"in b-bad.csv; nothing imported from it"):
        land(stores, EvaluationsSource(tmp_path))
    assert count(stores, RawRecordVersion) == 3
    assert state(stores) is None
    bad.write_bytes(csv_bytes([GOOD[0], ["E9", "2026-10", "manager_evaluation", "1"]]))
    assert land(stores, EvaluationsSource(tmp_path), "r2") == (4, 1, 0)
    assert [name for _, name in state(stores)["files"]] == ["a-good.csv", "b-bad.csv"]  # type: ignore[index]


def test_valid_only_lands_the_good_rows_and_quarantines_the_bad(
    stores: Stores, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "mixed.csv",
        csv_bytes(
            [*GOOD, ["E4", "2026-10", "manager_evaluation", "x"], ["", "2026-10", "kpi", ""]]
        ),
    )
    source = EvaluationsSource(tmp_path, valid_only=True)
    assert land(stores, source) == (5, 3, 2)
    assert [str(i) for i in source.issues] == [
        "mixed.csv row 5, column value: value 'x' is not a number",
        "mixed.csv row 6, column job_number: job number is empty",
        f"mixed.csv row 6, column kpi: KPI 'kpi' is not one of {KPIS}",
        "mixed.csv row 6, column value: value is empty",
    ]
    with Session(stores.hub) as session:
        quarantined = session.execute(
            select(QuarantineEntry.reason, QuarantineEntry.detail).order_by(QuarantineEntry.id)
        ).all()
    digest = sha(path)
    assert quarantined == [
        (
            "bad_value",
            "mixed.csv row 5, column value: value 'x' is not a number; payload "
            '{"cells":{"job_number":"E4","kpi":"manager_evaluation","period":"2026-10",'
            f'"value":"x"}},"file":"mixed.csv","file_sha256":"{digest}","row":5}}',
        ),
        (
            "missing_job_number",
            "mixed.csv row 6, column job_number: job number is empty; "
            f"mixed.csv row 6, column kpi: KPI 'kpi' is not one of {KPIS}; "
            "mixed.csv row 6, column value: value is empty; payload "
            '{"cells":{"job_number":"","kpi":"kpi","period":"2026-10","value":""},'
            f'"file":"mixed.csv","file_sha256":"{digest}","row":6}}',
        ),
    ]
    assert state(stores)["files"] == [[digest, "mixed.csv"]]  # type: ignore[index]
    again = EvaluationsSource(tmp_path, valid_only=True)
    assert land(stores, again, "r2") == (0, 0, 0)
    assert again.skipped == ["mixed.csv"]
    assert count(stores, QuarantineEntry) == 2


def test_reimporting_the_same_file_lands_nothing(stores: Stores, tmp_path: Path) -> None:
    path = write(tmp_path, "same.csv", csv_bytes(GOOD, "utf-8-sig"))
    assert land(stores, EvaluationsSource(tmp_path)) == (3, 3, 0)
    folder_again = EvaluationsSource(tmp_path)
    assert land(stores, folder_again, "r2") == (0, 0, 0)
    assert folder_again.skipped == ["same.csv"]
    explicit = EvaluationsSource(None, files=[path])
    assert land(stores, explicit, "r3") == (3, 0, 0), "read again, the same versions"
    assert count(stores, RawRecordVersion) == 3


def test_the_same_bytes_give_the_same_payload_hashes_without_any_state(tmp_path: Path) -> None:
    write(tmp_path, "x.xlsx", xlsx_bytes([EN, ["E1", "甲", 46296, "manager_evaluation", 80.5]]))

    def hashes() -> list[str]:
        pages = EvaluationsSource(tmp_path).read(EVALUATIONS, None)
        return [r.payload_sha256 for p in pages for r in p.records]

    assert hashes() == hashes()
    assert len(hashes()) == 1


def test_a_corrected_file_lands_new_versions_of_the_changed_rows_only(
    stores: Stores, tmp_path: Path
) -> None:
    first = write(tmp_path, "october.csv", csv_bytes(GOOD))
    first_sha = sha(first)
    assert land(stores, EvaluationsSource(tmp_path)) == (3, 3, 0)
    corrected = [
        GOOD[0],
        ["E0", "2026-10", "manager_evaluation", "65"],  # new row, shifts the others down
        GOOD[1],
        ["E2", "2026-10", "manager_evaluation", "95"],  # changed
        GOOD[3],
    ]
    first.write_bytes(csv_bytes(corrected))
    source = EvaluationsSource(tmp_path)
    stats = land_stream(stores.hub, source, EVALUATIONS, "r2")
    assert (stats.pulled, stats.landed, stats.changed) == (4, 2, 1)
    with Session(stores.hub) as session:
        heads = {
            key: (payload["value"], payload["file_sha256"], payload["row"])
            for key, payload in session.execute(
                select(RecordHead.record_key, RawRecordVersion.payload).join(
                    RawRecordVersion, RawRecordVersion.id == RecordHead.version_id
                )
            )
        }
        versions = session.scalars(
            select(RawRecordVersion.record_key).order_by(RawRecordVersion.id)
        ).all()
    new_sha = sha(first)
    assert heads == {
        "E0/2026-10/manager_evaluation": ("65", new_sha, 2),
        "E1/2026-10/manager_evaluation": ("80", first_sha, 2),
        "E2/2026-10/manager_evaluation": ("95", new_sha, 4),
        "E3/2026-10/innovation_contribution": ("70", first_sha, 4),
    }
    assert versions == [
        "E1/2026-10/manager_evaluation",
        "E2/2026-10/manager_evaluation",
        "E3/2026-10/innovation_contribution",
        "E0/2026-10/manager_evaluation",
        "E2/2026-10/manager_evaluation",
    ]
    assert land(stores, EvaluationsSource(None, files=[first]), "r3") == (4, 0, 0)


def test_the_connector_is_registered_as_a_folder_source() -> None:
    connector = get("evaluations")
    assert connector.env.names() == ("KPIHUB_EVALUATIONS_DIR",)
    assert [s.name for s in connector.streams] == ["evaluations"]
    assert connector.mapping is not None and connector.mapping.streams == ("evaluations",)


# --- the sandbox twin ----------------------------------------------------------------------------


def test_the_sandbox_files_read_back_as_exactly_the_ground_truth(tmp_path: Path) -> None:
    world = generate_world(7, 60, date(2026, 11, 15))
    periods = world.closed_periods[-2:]
    written = write_evaluation_files(world, tmp_path / "a", periods)
    again = write_evaluation_files(world, tmp_path / "b", periods)
    assert [p.read_bytes() for p in written] == [p.read_bytes() for p in again]
    assert [p.name for p in written] == [
        "2026-09-sales-ops-evaluations.csv",
        "2026-09-上级评价-gbk.csv",
        "2026-09-rnd-projects.xlsx",
        "2026-10-sales-ops-evaluations.csv",
        "2026-10-上级评价-gbk.csv",
        "2026-10-rnd-projects.xlsx",
    ]
    bom, gbk, book = (p.read_bytes() for p in written[:3])
    assert bom.startswith(b"\xef\xbb\xbfjob_number,")
    assert gbk.startswith("工号,姓名,期间".encode("gbk"))
    assert book.startswith(b"PK")
    got = {
        (p["job_number"], p["kpi"], p["period"]): Decimal(p["value"])
        for p in payloads(EvaluationsSource(tmp_path / "a"))
    }
    expected = {
        (r.job_number, r.kpi_code, r.period): r.value
        for period in periods
        for r in truth(world, period, EVALUATION_KPI_CODES)
    }
    assert got == expected
    rnd = {e.job_number for e in world.employees if e.role == "rnd"}
    kinds = {(k[0] in rnd, k[1]) for k in expected}
    assert kinds == {
        (False, "manager_evaluation"),
        (True, "manager_evaluation"),
        (True, "project_progress_rate"),
        (True, "innovation_contribution"),
    }
    leaders = {e.job_number for e in world.employees if e.leader}
    assert {k[0] for k in expected if k[1] == "manager_evaluation"}.isdisjoint(leaders)
    assert truth(world, world.periods[-1], EVALUATION_KPI_CODES) == [], "the open month has none"


# --- what cannot be an evaluation of a month the hub scores -------------------------------------


def test_open_future_and_forgotten_months_and_overlong_numbers_are_row_errors(
    tmp_path: Path,
) -> None:
    header = ["工号", "期间", "指标", "分值"]
    rows = [
        ["E1", "2026-12", "manager_evaluation", "80"],
        ["E2", "2027-06", "manager_evaluation", "80"],
        ["E3", "2026-01", "manager_evaluation", "80"],
        ["E4", "2026-10", "manager_evaluation", "1" * 29],
        ["E5", "2026-10", "manager_evaluation", "99." + "9" * 40],
        ["E6", "2026-10", "manager_evaluation", "88.5"],
    ]
    path = write(tmp_path, "odd.csv", csv_bytes([header, *rows]))
    with pytest.raises(FileImportError) as caught:
        payloads(EvaluationsSource(None, files=[path]))
    assert [str(i) for i in caught.value.issues] == [
        "odd.csv row 2, column 期间: period 2026-12 is not closed yet (the current month is "
        "2026-12)",
        "odd.csv row 3, column 期间: period 2027-06 is not closed yet (the current month is "
        "2026-12)",
        "odd.csv row 4, column 期间: period 2026-01 is older than the history the hub keeps "
        "(from 2026-06)",
        f"odd.csv row 5, column 分值: value {'1' * 29} has more than 6 digits before the point",
        f"odd.csv row 6, column 分值: value 99.{'9' * 40} has 40 decimals; at most 2 are kept",
    ]
    # Allowed by name, an old month goes in; nothing is ever rounded. The drop folder is HR's
    # archive too: there an old month is read as it always was, an open one is still refused.
    path = write(tmp_path, "odd.csv", csv_bytes([header, rows[2], rows[5]]))
    landed = payloads(EvaluationsSource(None, files=[path], allow_periods=["2026-01"]))
    assert [(p["job_number"], p["period"], p["value"]) for p in landed] == [
        ("E3", "2026-01", "80"),
        ("E6", "2026-10", "88.5"),
    ]
    assert [p["period"] for p in payloads(EvaluationsSource(tmp_path))] == ["2026-01", "2026-10"]


def test_a_file_with_a_header_and_no_rows_is_an_error_when_imported_by_hand(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "empty.csv", csv_bytes([["工号", "期间", "指标", "分值"]]))
    with pytest.raises(FileImportError) as caught:
        payloads(EvaluationsSource(None, files=[path]))
    assert [str(i) for i in caught.value.issues] == ["empty.csv: the file has a header and no rows"]
    # In the drop folder it is a team's month with nobody to evaluate: nothing to land.
    assert payloads(EvaluationsSource(tmp_path)) == []


# --- what the workbook holds, read as written ---------------------------------------------------


def xlsx_with_numbers(*numbers: str) -> bytes:
    """One row of number cells holding each text digit for digit, as Excel or a program that
    writes exact decimals leaves them."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for column, number in enumerate(numbers, start=1):
        cell = sheet.cell(row=1, column=column)
        cell.value = number
        cell.data_type = "n"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_numbers_are_read_as_excel_shows_them_unless_written_with_more_digits_than_a_double() -> (
    None
):
    from connectors.sdk.files import parse_decimal, read_xlsx

    data = xlsx_with_numbers("0.30000000000000004", "1" * 29, "99." + "9" * 40, "85.5")
    ((_, cells),) = read_xlsx("n.xlsx", data).rows
    assert [parse_decimal(c) for c in cells] == [
        Decimal("0.3"),  # 0.1 + 0.2 as Excel stores it
        Decimal("1" * 29),
        Decimal("99." + "9" * 40),  # a float would have made it 100
        Decimal("85.5"),
    ]


def test_a_formula_without_its_result_is_read_as_that_formula(tmp_path: Path) -> None:
    from connectors.sdk.files import UncomputedFormula, read_xlsx

    data = xlsx_bytes([["工号", "期间", "指标", "分值"], ["E1", "2026-10", "=C1", "=1+2"]])
    assert read_xlsx("f.xlsx", data).rows[1][1][2:] == [
        UncomputedFormula("=C1"),
        UncomputedFormula("=1+2"),
    ]
    write(tmp_path, "f.xlsx", data)
    assert issues_of(tmp_path) == [
        "f.xlsx row 2, column 指标: kpi is a formula not computed (=C1): open the file in Excel "
        "or WPS and save it, so that its result is stored",
    ]


def test_a_job_number_outside_the_directory_is_a_row_error_when_the_directory_is_given(
    tmp_path: Path,
) -> None:
    header = ["工号", "期间", "指标", "分值"]
    rows = [["E1", "2026-10", "manager_evaluation", "80"], ["E9", "2026-10", "上级评价", "70"]]
    path = write(tmp_path, "who.csv", csv_bytes([header, *rows]))
    assert [p["job_number"] for p in payloads(EvaluationsSource(None, files=[path]))] == [
        "E1",
        "E9",
    ]
    with pytest.raises(FileImportError) as caught:
        payloads(EvaluationsSource(None, files=[path], employees={"E1"}))
    assert [str(i) for i in caught.value.issues] == [
        "who.csv row 3, column 工号: job number E9 is not in the directory"
    ]
