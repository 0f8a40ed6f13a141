"""Managers' evaluations of the simulated company, and the files HR would drop for them.

Who is evaluated: everyone employed during a closed month whose home department has a leader
other than themselves gets a ``manager_evaluation`` from that leader; R&D people also get
``project_progress_rate`` and ``innovation_contribution`` from the project review board. Values
come from a generator seeded per (company, month), so they never depend on other months. Planted
on top of what it drew: an evaluator who gives everyone they evaluate 100 for one month
(``World.full_marks``).

The files are as messy as the ones HR sends: sales and customer operations in a UTF-8 CSV with a
BOM, English headers and trailing blank rows; everyone else's manager evaluation in a GBK CSV with
Chinese headers, KPI names in Chinese and dates like 2026/10/1; R&D projects in an XLSX workbook
with bilingual headers, Excel date serials (as numbers and as date cells) and full-width digits.
The ground truth reads ``evaluations`` (the model), never the files.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sandbox.clock import period_bounds, rng_for
from sandbox.company import Employee
from sandbox.model import World

REVIEW_BOARD = "项目评审委员会"
COMMENTS = (
    "工作认真，积极主动。",
    "沟通顺畅，按时交付。",
    "需加强团队协作。",
    "表现稳定，继续保持！",
    "",
)
EXCEL_EPOCH = date(1899, 12, 30)
FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")
ZIP_TIME = (2000, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Evaluation:
    job_number: str
    name: str
    period: str
    kpi_code: str
    value: Decimal
    comment: str
    evaluator: str


def _employed_during(person: Employee, period: str) -> bool:
    first, last = period_bounds(period)
    return person.hired_date <= last and (person.left_date is None or person.left_date > first)


def evaluations(world: World, period: str) -> list[Evaluation]:
    """The evaluations of one closed month, in job-number order; none for the open month."""
    if period not in world.closed_periods:
        return []
    rng = rng_for(world.seed, world.size, "evaluations", period)
    leaders = {e.home_dept: e for e in world.employees if e.leader}
    found: list[Evaluation] = []
    for person in world.employees:
        if not _employed_during(person, period):
            continue
        manager = leaders.get(person.home_dept)
        score = Decimal(rng.randint(120, 200)) / 2
        comment = rng.choice(COMMENTS)
        progress = Decimal(rng.randint(110, 230)) / 2
        innovation = Decimal(rng.randint(40, 98))
        if manager is not None and (manager.job_number, period) in world.full_marks:
            score = Decimal(100)  # planted: drawn as usual, then overwritten
        if manager is not None and manager is not person:
            found.append(
                Evaluation(
                    person.job_number, person.name, period, "manager_evaluation", score,
                    comment, manager.name,
                )
            )  # fmt: skip
        if person.role == "rnd":
            for code, value in (
                ("project_progress_rate", progress),
                ("innovation_contribution", innovation),
            ):
                found.append(
                    Evaluation(
                        person.job_number, person.name, period, code, value, "", REVIEW_BOARD
                    )
                )
    return found


def _serial(period: str) -> int:
    return (period_bounds(period)[0] - EXCEL_EPOCH).days


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _sales_ops_csv(items: list[Evaluation], period: str) -> bytes:
    header = ["job_number", "name", "period", "kpi", "value", "comment", "evaluator"]
    rows = [header] + [
        [f" {e.job_number} ", e.name, period, e.kpi_code, str(e.value), e.comment, e.evaluator]
        for e in items
    ]
    rows += [[""] * len(header), [""] * len(header)]  # Excel's trailing blank rows
    return _csv(rows).encode("utf-8-sig")


def _others_gbk_csv(items: list[Evaluation], period: str) -> bytes:
    header = ["工号", "姓名", "期间", "指标", "分值", "评语", "评价人"]
    first = period_bounds(period)[0]
    slash_date = f"{first.year}/{first.month}/1"
    rows = [header] + [
        [e.job_number, e.name, slash_date, "上级评价", f"{e.value}", e.comment, e.evaluator]
        for e in items
    ]
    return _csv(rows).encode("gbk")


def _rnd_xlsx(items: list[Evaluation], period: str) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "评价"
    sheet.append(
        [
            "工号/job_number",
            "姓名/name",
            "期间/period",
            "指标/kpi",
            "分值/value",
            "评价人/evaluator",
        ]
    )
    first = period_bounds(period)[0]
    for index, e in enumerate(items):
        odd = index % 2 == 1
        when: int | datetime = datetime(first.year, first.month, 1) if odd else _serial(period)
        value: str | float = str(e.value).translate(FULL_WIDTH) if odd else float(e.value)
        job = e.job_number.translate(FULL_WIDTH) if index % 3 == 0 else e.job_number
        sheet.append([job, e.name, when, e.kpi_code, value, e.evaluator])
    created = datetime(first.year, first.month, 1)
    book.properties.created = created
    buffer = io.BytesIO()
    book.save(buffer)
    return _repack(buffer.getvalue(), created)


def _repack(data: bytes, stamp: datetime) -> bytes:
    """The same workbook as the same bytes: fixed zip entry times and document time stamps."""
    text = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)",
                    rb"\g<1>" + text.encode() + rb"\g<2>",
                    content,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, content)
    return out.getvalue()


def evaluation_files(world: World, period: str) -> dict[str, bytes]:
    """File name -> bytes of one month's evaluation files."""
    items = evaluations(world, period)
    front_office = {p.job_number for p in world.employees if p.role in ("sales", "customer_ops")}
    managers = [e for e in items if e.kpi_code == "manager_evaluation"]
    front = [e for e in managers if e.job_number in front_office]
    rest = [e for e in managers if e.job_number not in front_office]
    projects = [e for e in items if e.kpi_code != "manager_evaluation"]
    return {
        f"{period}-sales-ops-evaluations.csv": _sales_ops_csv(front, period),
        f"{period}-上级评价-gbk.csv": _others_gbk_csv(rest, period),
        f"{period}-rnd-projects.xlsx": _rnd_xlsx(projects, period),
    }


def write_evaluation_files(world: World, folder: Path, periods: list[str]) -> list[Path]:
    """Write the evaluation files of ``periods`` (closed months of the world) into ``folder``."""
    unknown = [p for p in periods if p not in world.closed_periods]
    if unknown:
        raise ValueError(f"not closed months of this company: {', '.join(unknown)}")
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for period in periods:
        for name, data in evaluation_files(world, period).items():
            path = folder / name
            path.write_bytes(data)
            written.append(path)
    return written
