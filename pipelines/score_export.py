"""Published scores as a spreadsheet for HR, whose next step is Excel: one row per person with
every component's actual, target, attainment and points, the adjustments applied, the total,
grade and status. Two header rows, Chinese then English, so either team reads the same file.

The numbers are the published ones, read from the HR store, never recomputed. A period mixes
templates, so the component columns are the union of the KPIs of the exported scores, in the order
the templates list them; a person whose template has no such KPI leaves those cells empty.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines.stores import Stores
from schemas.catalog import load_catalog
from schemas.tables import Score, ScoreAdjustment, ScoreComponent

Cell = str | int | Decimal | None

LEADING = (
    ("工号", "job_number"),
    ("姓名", "name"),
    ("部门", "department"),
    ("模板", "template"),
    ("版本", "version"),
)
PER_COMPONENT = (
    ("实际值", "actual"),
    ("目标值", "target"),
    ("达成率", "attainment"),
    ("得分", "points"),
)
KIND_ZH = {"multiply": "乘", "subtract": "减"}
TRAILING = (
    ("小计", "subtotal"),
    ("总分", "total"),
    ("等级", "grade"),
    ("状态", "status"),
    ("暂缓原因", "hold_reasons"),
)


@dataclass(frozen=True)
class Sheet:
    headers_zh: list[str]
    headers_en: list[str]
    rows: list[list[Cell]]
    attainment_columns: list[int]
    """0-based columns holding attainments, shown as percentages."""


def _names(kpi_code: str) -> tuple[str, str]:
    catalog = load_catalog()
    if kpi_code in catalog:
        kpi = catalog.get(kpi_code)
        return kpi.name_zh, kpi_code
    return kpi_code, kpi_code


def score_sheet(stores: Stores, scores: Sequence[Score]) -> Sheet:
    """The sheet of the given score versions, in the order given."""
    ids = [s.id for s in scores]
    components: dict[int, list[ScoreComponent]] = defaultdict(list)
    adjustments: dict[int, list[ScoreAdjustment]] = defaultdict(list)
    with Session(stores.hr) as hr:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for c in hr.scalars(
                select(ScoreComponent)
                .where(ScoreComponent.score_id.in_(chunk))
                .order_by(ScoreComponent.score_id, ScoreComponent.position)
            ):
                components[c.score_id].append(c)
            for a in hr.scalars(
                select(ScoreAdjustment)
                .where(ScoreAdjustment.score_id.in_(chunk))
                .order_by(ScoreAdjustment.score_id, ScoreAdjustment.position)
            ):
                adjustments[a.score_id].append(a)
    kpis = list(dict.fromkeys(c.kpi_code for s in scores for c in components[s.id]))
    rules = list(
        dict.fromkeys((a.rule, a.kind, a.kpi_code) for s in scores for a in adjustments[s.id])
    )
    headers_zh = [zh for zh, _ in LEADING]
    headers_en = [en for _, en in LEADING]
    for kpi_code in kpis:
        name_zh, name_en = _names(kpi_code)
        headers_zh += [f"{name_zh} {zh}" for zh, _ in PER_COMPONENT]
        headers_en += [f"{name_en} {en}" for _, en in PER_COMPONENT]
    for rule, kind, kpi_code in rules:
        headers_zh.append(f"调整 {_names(kpi_code)[0]} ({KIND_ZH.get(kind, kind)})")
        headers_en.append(f"adjustment {rule} ({kind})")
    headers_zh += [zh for zh, _ in TRAILING]
    headers_en += [en for _, en in TRAILING]
    attainment_columns = [len(LEADING) + i * len(PER_COMPONENT) + 2 for i in range(len(kpis))]

    rows: list[list[Cell]] = []
    for s in scores:
        row: list[Cell] = [s.job_number, s.employee_name, s.department, s.template, s.version]
        by_kpi = {c.kpi_code: c for c in components[s.id]}
        for kpi_code in kpis:
            c = by_kpi.get(kpi_code)
            row += [None] * 4 if c is None else [c.actual, c.target, c.attainment, c.points]
        applied = {(a.rule, a.kind, a.kpi_code): a.amount for a in adjustments[s.id] if a.applied}
        row += [applied.get(key) for key in rules]
        row += [s.subtotal, s.total, s.grade, s.status, "; ".join(s.hold_reasons or []) or None]
        rows.append(row)
    return Sheet(headers_zh, headers_en, rows, attainment_columns)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_text(cell: Cell) -> Cell:
    """A text cell that a spreadsheet would read as a formula (a name typed as ``=cmd|...``)
    is written with a leading apostrophe, so Excel and WPS show it as the text it is."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def write_xlsx(sheet: Sheet, path: Path, title: str) -> None:
    """Write the sheet with its two header rows frozen; attainments as percentages."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    book = openpyxl.Workbook()
    ws: Any = book.active
    ws.title = title
    ws.append(sheet.headers_zh)
    ws.append(sheet.headers_en)
    for row in sheet.rows:
        ws.append([as_text(cell) for cell in row])
    for column in sheet.attainment_columns:
        letter = get_column_letter(column + 1)
        for cell in ws[letter][2:]:
            cell.number_format = "0.00%"
    ws.freeze_panes = "A3"
    book.save(path)
