"""``kpihub review``, ``kpihub appeals`` and ``kpihub audit``: the review cycle from HR's shell.
HR acts with its own job number (``--by``); the employee's steps (confirm, appeal) are theirs and
are taken in the portal."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from orchestration.cli.inspect import open_stores
from orchestration.cli.options import check_period, fail, out

if TYPE_CHECKING:
    from pipelines.review import Actor

app = typer.Typer(help="The review cycle of published scores.", no_args_is_help=True)
appeals_app = typer.Typer(help="Appeals against reviewed scores.", no_args_is_help=True)

JobArgument = Annotated[str, typer.Argument(help="The employee's job number (工号).")]
PeriodOption = Annotated[str, typer.Option("--period", help="Month, YYYY-MM.")]
ByOption = Annotated[str, typer.Option("--by", help="Your job number, for the audit log.")]
CommentOption = Annotated[str | None, typer.Option("--comment", help="Why, for the audit log.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _take(step: Any, *args: Any, **kwargs: Any) -> str:
    from pipelines.review import ReviewError

    try:
        return str(step(open_stores(), *args, **kwargs))
    except ReviewError as exc:
        raise fail(str(exc)) from None


def _said(job_number: str, period: str, state: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"job_number": job_number, "period": period, "state": state}))
    else:
        out.print(f"{job_number} {period}: {state}")


def _hr(by: str) -> Actor:
    from pipelines.review import Actor

    return Actor(by.strip(), "hr")


@app.command("approve")
def approve_command(
    job_number: JobArgument,
    period: PeriodOption,
    by: ByOption,
    comment: CommentOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve a final score: the employee then confirms it or appeals."""
    from pipelines import review
    from schemas.settings import get_settings

    check_period(period)
    days = get_settings().confirm_working_days
    state = _take(review.approve, _hr(by), job_number, period, comment, days)
    _said(job_number, period, state, as_json)


@app.command("return")
def return_command(
    job_number: JobArgument,
    period: PeriodOption,
    by: ByOption,
    comment: Annotated[str, typer.Option("--comment", help="Why it goes back to HR.")],
    as_json: JsonOption = False,
) -> None:
    """Return a final score to HR with a comment, instead of approving it."""
    from pipelines import review

    check_period(period)
    state = _take(review.send_back, _hr(by), job_number, period, comment)
    _said(job_number, period, state, as_json)


@app.command("reopen")
def reopen_command(
    job_number: JobArgument,
    period: PeriodOption,
    by: ByOption,
    comment: Annotated[str, typer.Option("--comment", help="What was done about it.")],
    as_json: JsonOption = False,
) -> None:
    """Put a returned score back for review."""
    from pipelines import review

    check_period(period)
    state = _take(review.reopen, _hr(by), job_number, period, comment)
    _said(job_number, period, state, as_json)


@app.command("archive")
def archive_command(
    job_number: JobArgument, period: PeriodOption, by: ByOption, as_json: JsonOption = False
) -> None:
    """Archive a confirmed score."""
    from pipelines import review

    check_period(period)
    state = _take(review.archive, _hr(by), job_number, period)
    _said(job_number, period, state, as_json)


@app.command("deadlines")
def deadlines_command(as_json: JsonOption = False) -> None:
    """Confirm every reviewed score whose confirmation deadline has passed."""
    from pipelines import review

    confirmed = review.confirm_overdue(open_stores())
    if as_json:
        print(json.dumps([{"job_number": j, "period": p} for j, p in confirmed]))
        return
    out.print(f"{len(confirmed)} score(s) confirmed by their deadline")
    for job_number, period in confirmed:
        out.print(f"  {job_number} {period}")


@app.command("show")
def show_command(
    job_number: JobArgument, period: PeriodOption, as_json: JsonOption = False
) -> None:
    """Where a score stands in the review cycle, and its appeals."""
    from pipelines import review

    check_period(period)
    view = review.review_view(open_stores(), job_number, period)
    if as_json:
        print(json.dumps(view, ensure_ascii=False, indent=2))
        return
    due = f" (confirm by {view['confirm_by']})" if view["confirm_by"] else ""
    out.print(f"{job_number} {period}: {view['state']}{due}")
    for appeal in view["appeals"]:
        out.print(
            f"  appeal {appeal['id']} [{appeal['status']}] {appeal['reason']}"
            + (f" -> {appeal['answer']}" if appeal["answer"] else "")
        )


@appeals_app.command("list")
def appeals_list(
    period: Annotated[str | None, typer.Option("--period", help="Month, YYYY-MM.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="open | upheld | amended.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The appeals filed, newest first."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from pipelines import review
    from pipelines.review import OUTCOMES
    from schemas.tables import Appeal

    if period is not None:
        check_period(period)
    if status is not None and status not in (review.OPEN, *OUTCOMES):
        raise fail(f"--status is one of open, {', '.join(OUTCOMES)}, not {status!r}")
    stores = open_stores()
    query = select(Appeal).order_by(Appeal.id.desc())
    if period is not None:
        query = query.where(Appeal.period == period)
    if status is not None:
        query = query.where(Appeal.status == status)
    with Session(stores.hr) as hr:
        rows = [
            {
                "id": a.id,
                "job_number": a.job_number,
                "period": a.period,
                "status": a.status,
                "kpi_code": a.kpi_code,
                "record_key": a.record_key,
                "reason": a.reason,
                "answer": a.answer,
                "answered_by": a.answered_by,
            }
            for a in hr.scalars(query)
        ]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Appeals ({len(rows)})")
    for column in ("id", "job number", "period", "status", "component", "reason", "answer"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r["id"]), r["job_number"], r["period"], r["status"], r["kpi_code"] or "",
            r["reason"], r["answer"] or "",
        )  # fmt: skip
    out.print(table)


@appeals_app.command("answer")
def appeals_answer(
    job_number: JobArgument,
    period: PeriodOption,
    by: ByOption,
    outcome: Annotated[str, typer.Option("--outcome", help="upheld | amended.")],
    answer: Annotated[str, typer.Option("--answer", help="The answer the employee reads.")],
    change: Annotated[
        int | None,
        typer.Option("--change", help="With amended: the target change or adjustment id it makes."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Answer the open appeal on a score: upheld, or amended by a target change or adjustment."""
    from pipelines import review
    from schemas.settings import get_settings

    check_period(period)
    days = get_settings().confirm_working_days
    state = _take(review.answer_appeal, _hr(by), job_number, period, outcome, answer, days, change)
    _said(job_number, period, state, as_json)


def audit_command(
    period: PeriodOption,
    job_number: Annotated[
        str | None, typer.Option("--job-number", help="One person's entries only.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The audit log of a month: review steps, score publications, views, imports."""
    from pipelines import review

    check_period(period)
    rows = review.audit_entries(open_stores(), period, job_number)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Audit log {period}" + (f" · {job_number}" if job_number else ""))
    for column in ("at", "action", "subject", "actor", "before", "after", "reason"):
        table.add_column(column)
    for r in rows:
        detail = r["detail"] or {}
        table.add_row(
            r["at"], r["action"], r["subject"], str(r["actor"] or ""),
            str(detail.get("before") or ""), str(detail.get("after") or ""),
            str(detail.get("reason") or ""),
        )  # fmt: skip
    out.print(table)
