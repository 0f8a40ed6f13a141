"""``kpihub findings``: the review queue. HR lists and reads findings, and acknowledges, dismisses
or confirms them; a dismissed or confirmed ERROR finding releases the scores it held on the next
scoring run."""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from orchestration.cli.inspect import open_stores
from orchestration.cli.options import check_period, fail, out
from quality.findings import (
    ACKNOWLEDGED,
    CONFIRMED,
    DISMISSED,
    ERROR,
    KINDS,
    SEVERITIES,
    STATUSES,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from schemas.tables import Finding

app = typer.Typer(help="Data-quality findings and their review.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
NoteOption = Annotated[str | None, typer.Option("--note", help="Why; required to dismiss.")]
ByOption = Annotated[
    str | None, typer.Option("--by", help="Who decides; $USER (or 'hr') by default.")
]


def finding_row(f: Finding) -> dict[str, Any]:
    return {
        "id": f.id,
        "kind": f.kind,
        "severity": f.severity,
        "status": f.status,
        "source": f.source,
        "stream": f.stream,
        "job_number": f.job_number,
        "kpi_code": f.kpi_code,
        "period": f.period,
        "detail": f.detail,
    }


def finding_view(session: Session, f: Finding) -> dict[str, Any]:
    """Everything about one finding: where it points, what it saw, who decided what and when."""
    from quality.findings import history

    return {
        **finding_row(f),
        "check_name": f.check_name,
        "subject": f.subject,
        "count": f.count,
        "note": f.note,
        "changed_by": f.changed_by,
        "changed_at": None if f.changed_at is None else f.changed_at.isoformat(),
        "created_at": f.created_at.isoformat(),
        "updated_at": f.updated_at.isoformat(),
        "history": [
            {
                "at": e.at.isoformat(),
                "by": e.detail.get("by"),
                "old_status": e.detail.get("old_status"),
                "new_status": e.detail.get("new_status"),
                "note": e.detail.get("note"),
            }
            for e in history(session, f.id)
        ],
    }


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts by kind, severity and status, every known value listed even when it is 0."""

    def counts(key: str, known: tuple[str, ...]) -> dict[str, int]:
        found = Counter(r[key] for r in rows)
        return {value: found.get(value, 0) for value in (*known, *sorted(set(found) - set(known)))}

    return {
        "total": len(rows),
        "by_kind": counts("kind", KINDS),
        "by_severity": counts("severity", SEVERITIES),
        "by_status": counts("status", STATUSES),
    }


def list_command(
    period: Annotated[str | None, typer.Option("--period", help="Month, YYYY-MM.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help=f"One of {', '.join(STATUSES)}.")
    ] = None,
    as_json: JsonOption = False,
    as_summary: Annotated[
        bool, typer.Option("--summary", help="Counts by kind, severity and status instead.")
    ] = False,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed", help="Sandbox company's seed: with --summary, recall and precision too."
        ),
    ] = None,
    employees: Annotated[
        int, typer.Option("--employees", help="Sandbox company's size, with --seed.")
    ] = 200,
) -> None:
    """List the findings, newest period first, narrowed by period and status."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from schemas.tables import Finding

    if period is not None:
        check_period(period)
    if status is not None and status not in STATUSES:
        raise fail(f"--status must be one of {', '.join(STATUSES)}, not {status!r}")
    query = select(Finding).order_by(Finding.period.desc(), Finding.id)
    if period is not None:
        query = query.where(Finding.period == period)
    if status is not None:
        query = query.where(Finding.status == status)
    stores = open_stores()
    with Session(stores.hub) as session:
        found = list(session.scalars(query))
        rows = [finding_row(f) for f in found]
        checks = {f.id: (f.check_name, f.count) for f in found}
    stores.dispose()
    if as_summary:
        counted = summary(rows)
        if seed is not None:
            counted["anomaly_detection"] = sandbox_recall(rows, seed, employees)
        _print_summary(counted, as_json)
        return
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Findings ({len(rows)})")
    for column in ("id", "period", "kind", "severity", "status", "check", "where", "count"):
        table.add_column(column, justify="right" if column in ("id", "count") else "left")
    for r in rows:
        check, count = checks[r["id"]]
        where = "/".join(str(r[k]) for k in ("source", "stream", "job_number", "kpi_code") if r[k])
        cells = (str(r["id"]), r["period"], r["kind"], r["severity"], r["status"], check, where)
        table.add_row(*(Text(c) for c in (*cells, str(count))))
    out.print(table)


def sandbox_recall(rows: list[dict[str, Any]], seed: int, employees: int) -> dict[str, Any]:
    """Recall and precision of the anomaly findings against the anomalies planted in the sandbox
    company ``seed``/``employees``, over the months the hub has findings for. Planted faults that
    other parts of the hub handle (the sandbox names them) are listed, not counted."""
    from quality.anomalies_recall import recall_precision
    from sandbox.model import HANDLED_ELSEWHERE, generate_world

    planted = [a.as_dict() for a in generate_world(seed=seed, employees=employees).anomalies]
    checked = {r["period"] for r in rows}
    shown = [r for r in rows if r["status"] != "resolved"]
    counted = [p for p in planted if p["kind"] not in HANDLED_ELSEWHERE]
    result = recall_precision(shown, counted, checked).as_dict()
    result["seed"], result["employees"] = seed, employees
    result["handled_elsewhere"] = sorted(
        {p["kind"] for p in planted if p["kind"] in HANDLED_ELSEWHERE and p["period"] in checked}
    )
    return result


def _print_summary(counted: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(counted, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Findings ({counted['total']})")
    for column in ("by", "value", "findings"):
        table.add_column(column, justify="right" if column == "findings" else "left")
    for by in ("kind", "severity", "status"):
        for value, n in counted[f"by_{by}"].items():
            table.add_row(by, value, str(n))
    out.print(table)
    scored = counted.get("anomaly_detection")
    if scored is not None:
        out.print(
            Text(
                f"anomaly detection against the sandbox (seed {scored['seed']}, "
                f"{scored['employees']} employees): recall {scored['recall']:.1%} "
                f"({scored['found']} of {scored['planted']} planted), precision "
                f"{scored['precision']:.1%} ({scored['true_findings']} of {scored['findings']} "
                "anomaly findings)"
            )
        )
        for key in scored["missed"]:
            out.print(Text(f"  missed: {'/'.join(str(k) for k in key)}"))
        for key in scored["unexpected"]:
            out.print(Text(f"  not planted: {'/'.join(str(k) for k in key)}"))


def show_command(
    finding_id: Annotated[int, typer.Argument(help="The finding's id.")],
    as_json: JsonOption = False,
) -> None:
    """Show one finding: what it saw, where, and every status change with who and why."""
    from sqlalchemy.orm import Session

    from schemas.tables import Finding

    stores = open_stores()
    with Session(stores.hub) as session:
        found = session.get(Finding, finding_id)
        view = None if found is None else finding_view(session, found)
    stores.dispose()
    if view is None:
        raise fail(f"finding {finding_id} does not exist")
    if as_json:
        print(json.dumps(view, ensure_ascii=False, indent=2))
        return
    where = "/".join(str(view[k]) for k in ("source", "stream") if view[k])
    lines = [
        f"finding {view['id']}: {view['severity']} {view['kind']} {view['check_name']} "
        f"[{view['status']}] {view['period']}, {where or view['subject']}"
        + "".join(f", {view[k]}" for k in ("job_number", "kpi_code") if view[k]),
        f"count: {view['count']}",
        f"detail: {json.dumps(view['detail'], ensure_ascii=False)}",
    ]
    if view["changed_by"]:
        lines.append(f"last changed by {view['changed_by']} at {view['changed_at']}")
    if view["note"]:
        lines.append(f"note: {view['note']}")
    for h in view["history"]:
        note = f": {h['note']}" if h["note"] else ""
        lines.append(f"{h['at']} {h['by']}: {h['old_status']} -> {h['new_status']}{note}")
    for line in lines:
        # Notes and details are HR's and the sources' words: printed as they are, never markup.
        out.print(Text(line))


def _decide(finding_id: int, status: str, note: str | None, by: str | None) -> None:
    from sqlalchemy.orm import Session

    from quality.findings import FindingError, change_status

    who = by or os.environ.get("USER") or "hr"
    stores = open_stores()
    try:
        with Session(stores.hub) as session, session.begin():
            finding = change_status(session, finding_id, status, by=who, note=note)
            line = f"finding {finding.id} ({finding.severity} {finding.check_name}) {status}"
            line += f" by {who}"
            if status != ACKNOWLEDGED and finding.severity == ERROR:
                line += "; the scores it held are released on the next scoring run"
    except FindingError as exc:
        raise fail(str(exc)) from None
    finally:
        stores.dispose()
    out.print(Text(line))


def ack_command(
    finding_id: Annotated[int, typer.Argument(help="The finding's id.")],
    note: NoteOption = None,
    by: ByOption = None,
) -> None:
    """Acknowledge a finding: someone is looking at it; its scores stay held."""
    _decide(finding_id, ACKNOWLEDGED, note, by)


def dismiss_command(
    finding_id: Annotated[int, typer.Argument(help="The finding's id.")],
    note: NoteOption = None,
    by: ByOption = None,
) -> None:
    """Dismiss a finding as not a problem (a note says why)."""
    _decide(finding_id, DISMISSED, note, by)


def confirm_command(
    finding_id: Annotated[int, typer.Argument(help="The finding's id.")],
    note: NoteOption = None,
    by: ByOption = None,
) -> None:
    """Confirm a finding as a real problem that has been dealt with."""
    _decide(finding_id, CONFIRMED, note, by)


app.command("list")(list_command)
app.command("show")(show_command)
app.command("ack")(ack_command)
app.command("dismiss")(dismiss_command)
app.command("confirm")(confirm_command)
