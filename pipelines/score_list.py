"""The current scores of a month as HR and managers list them, narrowed by department, template,
grade or status. The CLI and the portal both list scores through here, so a filter means the
same thing in a shell and in a browser."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines.assignment import PATH_SEPARATOR
from pipelines.lineage import money_text
from pipelines.scoring import HELD
from pipelines.stores import Stores
from schemas.tables import Score


def in_department(department: str, wanted: str) -> bool:
    """The person's department is ``wanted`` or below it: the full path, or one of its parts."""
    path = [part.strip() for part in department.split(PATH_SEPARATOR)]
    return wanted in (department, *path)


def has_grade(grade: str | None, wanted: str) -> bool:
    """``A`` matches ``A 优秀``, as HR says it; the full grade matches too."""
    return grade is not None and wanted in (grade, grade.split(" ", 1)[0])


def matches(
    score: Score,
    *,
    department: str | None = None,
    template: str | None = None,
    grade: str | None = None,
    status: str | None = None,
) -> bool:
    """Whether one score passes every filter given, as :func:`current_scores` narrows them."""
    return (
        (department is None or in_department(score.department, department))
        and (template is None or score.template == template)
        and (grade is None or has_grade(score.grade, grade))
        and (status is None or score.status == status)
    )


def current_scores(
    stores: Stores,
    period: str,
    *,
    department: str | None = None,
    template: str | None = None,
    grade: str | None = None,
    held: bool = False,
    status: str | None = None,
) -> list[Score]:
    """The current score versions of a period by job number, narrowed by every filter given."""
    query = select(Score).where(Score.period == period, Score.is_current.is_(True))
    if template is not None:
        query = query.where(Score.template == template)
    if held:
        query = query.where(Score.status == HELD)
    if status is not None:
        query = query.where(Score.status == status)
    with Session(stores.hr, expire_on_commit=False) as session:
        found = list(session.scalars(query.order_by(Score.job_number)))
    return [s for s in found if matches(s, department=department, grade=grade)]


def score_row(s: Score) -> dict[str, Any]:
    return {
        "job_number": s.job_number,
        "name": s.employee_name,
        "template": s.template,
        "total": money_text(s.total),
        "grade": s.grade,
        "status": s.status,
        "version": s.version,
    }


def score_rows(stores: Stores, period: str, **filters: Any) -> list[dict[str, Any]]:
    return [score_row(s) for s in current_scores(stores, period, **filters)]


def scored_periods(stores: Stores) -> list[str]:
    """Every month with a published score, newest first."""
    with Session(stores.hr) as session:
        return list(session.scalars(select(Score.period).distinct().order_by(Score.period.desc())))
