"""The evaluation template HR fills in, and what makes a row of it acceptable.

Columns are bilingual; a file may use either language (or ``工号/job_number`` as the template
prints them). Only the KPIs that come from managers' evaluations are accepted: a code outside
``EVALUATION_KPIS`` is a typo or belongs to a system of record, and importing it from a spreadsheet
would let a file overwrite what a source system measured.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connectors.sdk.files import (
    Cell,
    FileIssue,
    UncomputedFormula,
    cell_at,
    column_label,
    decimal_text,
    not_computed,
    parse_decimal,
    parse_month,
    text_of,
)

COLUMNS: Mapping[str, tuple[str, ...]] = {
    "job_number": ("工号", "job_number"),
    "name": ("姓名", "name"),
    "period": ("期间", "period"),
    "kpi": ("指标", "kpi"),
    "value": ("分值", "value"),
    "comment": ("评语", "comment"),
    "evaluator": ("评价人", "evaluator"),
}
REQUIRED = ("job_number", "period", "kpi", "value")
KEY_COLUMNS = ("job_number", "period", "kpi")


@dataclass(frozen=True)
class KpiRule:
    """An accepted KPI: its Chinese name (accepted in place of the code) and its value range."""

    code: str
    name_zh: str
    low: Decimal
    high: Decimal


EVALUATION_KPIS: Mapping[str, KpiRule] = {
    rule.code: rule
    for rule in (
        # The manager's work-attitude score, 0..100 points.
        KpiRule("manager_evaluation", "上级评价", Decimal(0), Decimal(100)),
        # Milestones reached / planned, in %; a project ahead of plan may exceed 100, up to the
        # 120 % cap that attainment has everywhere in the scoring templates.
        KpiRule("project_progress_rate", "项目进度达成率", Decimal(0), Decimal(120)),
        # The review board's innovation score, 0..100 points.
        KpiRule("innovation_contribution", "创新贡献", Decimal(0), Decimal(100)),
    )
}
_KPI_NAMES = {
    **{code.casefold(): code for code in EVALUATION_KPIS},
    **{rule.name_zh: rule.code for rule in EVALUATION_KPIS.values()},
}


@dataclass(frozen=True)
class ParsedRow:
    """A valid row: its record key and the values that make up its content."""

    row: int
    key: str
    values: dict[str, Any]


def _optional(cells: Sequence[Cell], columns: Mapping[str, int], name: str) -> str | None:
    if name not in columns:
        return None
    return text_of(cell_at(cells, columns[name])) or None


# An evaluation is a score with at most two decimals and a handful of digits: anything longer
# is a typo or a pasted cell, refused rather than rounded into a believable number.
MAX_DECIMALS = 2
MAX_DIGITS = 6


@dataclass(frozen=True)
class Periods:
    """The months a file may evaluate: closed (before ``current``) and not older than
    ``first_kept``, the start of the history the hub keeps; ``allowed`` are let in anyway."""

    current: str
    first_kept: str
    allowed: frozenset[str] = frozenset()

    def problem(self, period: str) -> str | None:
        if period in self.allowed:
            return None
        if period >= self.current:
            return f"period {period} is not closed yet (the current month is {self.current})"
        if period < self.first_kept:
            return (
                f"period {period} is older than the history the hub keeps (from {self.first_kept})"
            )
        return None


def _digits_problem(value: Decimal) -> str | None:
    exponent = value.as_tuple().exponent
    decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if decimals > MAX_DECIMALS:
        return f"value {value} has {decimals} decimals; at most {MAX_DECIMALS} are kept"
    if value.adjusted() + 1 > MAX_DIGITS:
        return f"value {value} has more than {MAX_DIGITS} digits before the point"
    return None


def parse_row(
    file: str,
    row: int,
    cells: Sequence[Cell],
    header: Sequence[Cell],
    columns: Mapping[str, int],
    others: Mapping[int, str],
    periods: Periods | None = None,
    employees: Collection[str] | None = None,
) -> ParsedRow | list[FileIssue]:
    """Check every field of one row and report every problem found, not just the first.

    ``employees``: the job numbers of the landed directory. A row for anyone else would land
    and only be quarantined at the next normalisation, long after HR closed the file; given
    the directory, it is refused here, with its row."""
    issues: list[FileIssue] = []

    def issue(column: str, reason: str, message: str) -> None:
        label = column_label(header, columns[column])
        issues.append(FileIssue(file, reason, message, row=row, column=label))

    for column in ("job_number", "kpi", "name", "comment", "evaluator"):
        cell = cell_at(cells, columns[column]) if column in columns else None
        if isinstance(cell, UncomputedFormula):
            issue(column, "formula_not_computed", not_computed(column.replace("_", " "), cell))
    if issues:
        return issues
    job_number = text_of(cell_at(cells, columns["job_number"]))
    if not job_number:
        issue("job_number", "missing_job_number", "job number is empty")
    elif employees is not None and job_number not in employees:
        unknown = f"job number {job_number} is not in the directory"
        issue("job_number", "unknown_job_number", unknown)
    period = ""
    try:
        period = parse_month(cell_at(cells, columns["period"]))
    except ValueError as exc:
        issue("period", "bad_period", str(exc))
    not_open = periods.problem(period) if period and periods is not None else None
    if not_open:
        issue("period", "period_not_importable", not_open)
    kpi_text = text_of(cell_at(cells, columns["kpi"]))
    kpi = _KPI_NAMES.get(kpi_text.casefold())
    if kpi is None:
        accepted = ", ".join(sorted(EVALUATION_KPIS))
        message = "KPI is empty" if not kpi_text else f"KPI {kpi_text!r} is not one of {accepted}"
        issue("kpi", "unknown_kpi", message)
    value_cell = cell_at(cells, columns["value"])
    if isinstance(value_cell, str):  # "85%" in a progress column means 85
        value_cell = value_cell.strip().rstrip("%％")
    value: Decimal | None = None
    try:
        value = parse_decimal(value_cell)
    except ValueError as exc:
        issue("value", "bad_value", str(exc))
    if value is not None and (too_long := _digits_problem(value)):
        issue("value", "bad_value", too_long)
        value = None
    if value is not None and kpi is not None:
        rule = EVALUATION_KPIS[kpi]
        if not rule.low <= value <= rule.high:
            issue(
                "value",
                "value_out_of_range",
                f"value {decimal_text(value)} is outside {rule.low}..{rule.high} for {kpi}",
            )
    if issues or value is None or kpi is None:
        return issues
    values: dict[str, Any] = {
        "key": f"{job_number}/{period}/{kpi}",
        "job_number": job_number,
        "name": _optional(cells, columns, "name"),
        "period": period,
        "kpi": kpi,
        "value": decimal_text(value),
        "comment": _comment(cells, columns),
        "evaluator": _optional(cells, columns, "evaluator"),
    }
    extra = {name: text_of(cell_at(cells, i)) for i, name in others.items()}
    if any(extra.values()):
        values["extra"] = extra
    return ParsedRow(row, values["key"], values)


def _comment(cells: Sequence[Cell], columns: Mapping[str, int]) -> str | None:
    """Free text is kept as the manager wrote it (full-width punctuation included), trimmed."""
    if "comment" not in columns:
        return None
    cell = cell_at(cells, columns["comment"])
    text = "" if cell is None else str(cell).strip()
    return text or None
