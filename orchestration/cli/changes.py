"""``kpihub targets`` and ``kpihub adjustments``: target changes and manual adjustments from HR's
shell. HR acts with its own job number (``--by``); managers propose in the portal. An approved
change restates the score on the next scoring run."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from orchestration.cli.inspect import open_stores
from orchestration.cli.options import check_period, fail, out

if TYPE_CHECKING:
    from pipelines.review import Actor

targets_app = typer.Typer(
    help="Target changes: proposed, then approved by HR.", no_args_is_help=True
)
adjustments_app = typer.Typer(
    help="Manual adjustments: bonus or deduction points, approved by HR.", no_args_is_help=True
)

JobArgument = Annotated[str, typer.Argument(help="The employee's job number (工号).")]
ChangeArgument = Annotated[int, typer.Argument(help="The change's id.")]
PeriodOption = Annotated[str, typer.Option("--period", help="Month, YYYY-MM.")]
ByOption = Annotated[str, typer.Option("--by", help="Your job number, for the audit log.")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why, for the employee and the audit.")]
NoteOption = Annotated[str | None, typer.Option("--note", help="A note on the decision.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _hr(by: str) -> Actor:
    from pipelines.review import Actor

    return Actor(by.strip(), "hr")


def _kind(target: bool) -> str:
    """The kind of change a command group decides on, read when a command runs: the amendments
    pipeline lands records and is far too heavy to import for ``--help``."""
    from pipelines import amendments

    return amendments.TARGET_CHANGE if target else amendments.ADJUSTMENT


def _run(step: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    from pipelines.review import ReviewError

    try:
        return step(open_stores(), *args, **kwargs)
    except ReviewError as exc:
        raise fail(str(exc)) from None


def _show(change: dict[str, Any], as_json: bool) -> None:
    from pipelines import amendments

    if as_json:
        print(json.dumps(change, ensure_ascii=False, indent=2))
        return
    what = (
        f"{change['kpi_code']} target {change['old_value'] or 'template'} -> {change['value']}"
        if change["kind"] == amendments.TARGET_CHANGE
        else f"{change['value']} points"
    )
    out.print(
        f"change {change['id']}: {change['job_number']} {change['period']} {what}: "
        f"{change['status']}"
    )


def _list(kind: str, period: str | None, status: str | None, as_json: bool) -> None:
    from pipelines import amendments

    if period is not None:
        check_period(period)
    if status is not None and status not in amendments.STATUSES:
        raise fail(f"--status is one of {', '.join(amendments.STATUSES)}, not {status!r}")
    rows = amendments.list_changes(open_stores(), period=period, status=status, kind=kind)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    title = "Target changes" if kind == amendments.TARGET_CHANGE else "Manual adjustments"
    table = Table(title=f"{title} ({len(rows)})")
    for column in ("id", "job number", "period", "kpi", "from", "to", "status", "by", "reason"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r["id"]), r["job_number"], r["period"], r["kpi_code"] or "",
            r["old_value"] or "", r["value"], r["status"],
            " / ".join(x for x in (r["proposed_by"], r["decided_by"]) if x), r["reason"],
        )  # fmt: skip
    out.print(table)


@targets_app.command("propose")
def targets_propose(
    job_number: JobArgument,
    period: PeriodOption,
    kpi: Annotated[str, typer.Option("--kpi", help="The KPI code whose target changes.")],
    target: Annotated[str, typer.Option("--target", help="The new target, in the KPI's unit.")],
    reason: ReasonOption,
    by: ByOption,
    as_json: JsonOption = False,
) -> None:
    """Propose a new target for one KPI of a person's month; another HR approves it."""
    from pipelines import amendments

    check_period(period)
    _show(
        _run(amendments.propose_target, _hr(by), job_number, period, kpi, target, reason), as_json
    )


@adjustments_app.command("add")
def adjustments_add(
    job_number: JobArgument,
    period: PeriodOption,
    points: Annotated[
        str, typer.Option("--points", help="Points added; negative for a deduction (e.g. -3).")
    ],
    reason: ReasonOption,
    by: ByOption,
    as_json: JsonOption = False,
) -> None:
    """Add a bonus or a deduction to a score (approved at once: HR adds it)."""
    from pipelines import amendments

    check_period(period)
    _show(_run(amendments.add_adjustment, _hr(by), job_number, period, points, reason), as_json)


def _decisions(app: typer.Typer, target: bool, what: str, approved: str) -> None:
    """``approve``, ``reject`` and ``list`` for one kind of change: the same steps, so the same
    code, with the kind checked so an id of the other kind is refused."""

    @app.command("approve", help=f"Approve a proposed {what}: {approved}")
    def approve(
        change_id: ChangeArgument,
        by: ByOption,
        note: NoteOption = None,
        as_json: JsonOption = False,
    ) -> None:
        from pipelines import amendments

        _show(_run(amendments.decide, _hr(by), change_id, True, note, _kind(target)), as_json)

    @app.command("reject", help=f"Reject a proposed {what}, saying why.")
    def reject(
        change_id: ChangeArgument,
        by: ByOption,
        note: Annotated[str, typer.Option("--note", help="Why it is rejected.")],
        as_json: JsonOption = False,
    ) -> None:
        from pipelines import amendments

        _show(_run(amendments.decide, _hr(by), change_id, False, note, _kind(target)), as_json)

    @app.command("list", help=f"The {what}s asked for, newest first.")
    def listed(
        period: Annotated[str | None, typer.Option("--period", help="Month, YYYY-MM.")] = None,
        status: Annotated[
            str | None, typer.Option("--status", help="proposed | approved | rejected.")
        ] = None,
        as_json: JsonOption = False,
    ) -> None:
        _list(_kind(target), period, status, as_json)


_decisions(targets_app, True, "target change", "the next scoring run restates the score.")
_decisions(adjustments_app, False, "manual adjustment", "the next scoring run applies it.")
