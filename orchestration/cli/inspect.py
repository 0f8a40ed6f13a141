"""Read-only views for managers and HR: scores, facts and the trace of one score.

The module is imported by every ``kpihub`` invocation, ``--help`` included, so what a view needs
(the ORM, the pipelines, the templates) is imported inside the function that reads it: a command
pays only for its own work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from orchestration.cli.options import (
    KNOWN_SHOWN,
    PeriodOption,
    check_known,
    err,
    fail,
    out,
    period_or_last_closed,
)

if TYPE_CHECKING:
    from pipelines.stores import Stores
    from schemas.templates import ScoringTemplate

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def open_stores() -> Stores:
    """The stores to read from, which must have been set up: reading an empty home would
    otherwise create an empty database and fail on its missing tables."""
    from sqlalchemy.engine import make_url

    from orchestration.home import prepare_home
    from pipelines.stores import Stores
    from schemas.migrations.apply import current_revisions, missing_sqlite_file
    from schemas.settings import get_settings

    settings = get_settings()
    hint = "run `kpihub db upgrade` (or `make demo`) first"
    for url in {settings.hub_url, settings.hr_url}:
        missing = missing_sqlite_file(url)
        if missing is not None:
            raise fail(f"no store at {missing} (KPIHUB_HOME={settings.home}); {hint}")
    try:
        revisions = current_revisions(settings.hub_url, settings.hr_url)
    except Exception as exc:  # an unreachable server: say which one, never how, nor a password
        shown = make_url(settings.hub_url).render_as_string(hide_password=True)
        raise fail(f"cannot reach the store at {shown}: {type(exc).__name__}") from None
    empty = sorted(store for store, revision in revisions.items() if revision is None)
    if empty:
        stores = "store has" if len(empty) == 1 else "stores have"
        raise fail(f"the {' and '.join(empty)} {stores} no tables yet; {hint}")
    prepare_home(settings)
    return Stores.connect(settings.hub_url, settings.hr_url)


def scores_table(rows: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title)
    for column in ("job number", "name", "template", "total", "grade", "status", "version"):
        table.add_column(
            column, justify="right" if column in ("total", "version") else "left", no_wrap=True
        )
    for row in rows:
        table.add_row(
            row["job_number"],
            row["name"],
            row["template"],
            row["total"],
            row["grade"] or "",
            row["status"],
            str(row["version"]),
        )
    return table


def grade_summary_table(rows: list[dict[str, Any]], title: str) -> Table:
    """People per template and grade (held scores have no grade yet): the month at a glance."""
    grades = sorted({r["grade"] for r in rows if r["grade"]})
    table = Table(title=title)
    table.add_column("template")
    for column in (*grades, "held", "people"):
        table.add_column(column, justify="right")
    for template in sorted({r["template"] for r in rows}):
        mine = [r for r in rows if r["template"] == template]
        counts = [sum(1 for r in mine if r["grade"] == g) for g in grades]
        held = sum(1 for r in mine if r["status"] == "held")
        table.add_row(template, *(str(n) for n in counts), str(held), str(len(mine)))
    return table


def current_templates() -> list[ScoringTemplate]:
    """The templates of the templates folder; a broken one is a one-line error."""
    from schemas.settings import get_settings
    from schemas.templates import TemplateError, load_templates

    templates_dir = get_settings().templates_dir
    assert templates_dir is not None
    try:
        return load_templates(templates_dir)
    except TemplateError as exc:
        raise fail(str(exc)) from None


def check_template(stores: Stores, code: str) -> None:
    """A template of the templates folder, or one a published score was made with (a template
    since removed still names its old scores)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from schemas.tables import Score

    with Session(stores.hr) as session:
        used = set(session.scalars(select(Score.template).distinct()))
    check_known("template", code, used | {t.code for t in current_templates()})


def check_department(stores: Stores, wanted: str) -> None:
    """A department some score was published for, by its full path or by one of its parts, as
    ``--department`` matches them; the error lists the parts, the names people type."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from pipelines.assignment import PATH_SEPARATOR
    from schemas.tables import Score

    with Session(stores.hr) as session:
        paths = set(session.scalars(select(Score.department).distinct()))
    parts = {p.strip() for path in paths for p in path.split(PATH_SEPARATOR) if p.strip()}
    if wanted not in paths:
        check_known("department", wanted, parts)


def check_published(stores: Stores, period: str) -> None:
    """A month some score was published for: asking for one nobody was scored in (a typo, or a
    month not closed yet) is an error naming those that were, not an empty table that reads as
    "nobody". Filters that match nobody within a published month still give an empty list."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from schemas.tables import Score

    with Session(stores.hr) as session:
        periods = sorted(set(session.scalars(select(Score.period).distinct())))
    if period in periods:
        return
    shown = ", ".join(periods[-KNOWN_SHOWN:])
    if len(periods) > KNOWN_SHOWN:
        shown = f"{len(periods) - KNOWN_SHOWN} earlier and " + shown
    raise fail(
        f"no published scores for {period}; published: {shown}"
        if periods
        else f"no published scores for {period}: none are published yet (run kpihub demo, or "
        "score_period in the Dagster UI)"
    )


def check_kpi(code: str) -> None:
    """A KPI code of the catalog: every fact the hub keeps is one of them."""
    from schemas.catalog import CatalogError, load_catalog

    try:
        codes = load_catalog().codes
    except CatalogError as exc:
        raise fail(str(exc)) from None
    check_known("KPI code", code, codes)


def unassigned_rows(stores: Stores) -> list[dict[str, Any]]:
    """The people of the directory no template is assigned to, and why."""
    from sqlalchemy.orm import Session

    from connectors.registry import discover
    from pipelines.assignment import assign
    from pipelines.roster import load_people

    templates = current_templates()
    with Session(stores.hub) as session:
        people = load_people(session, discover())
    _, unassigned = assign(templates, people)
    return [
        {
            "job_number": u.person.job_number,
            "name": u.person.name,
            "department": u.person.department,
            "reason": u.reason,
        }
        for u in unassigned
    ]


def scores(
    period: PeriodOption = None,
    department: Annotated[
        str | None,
        typer.Option("--department", help="Only this department and those below it."),
    ] = None,
    template: Annotated[str | None, typer.Option("--template", help="Template code.")] = None,
    grade: Annotated[str | None, typer.Option("--grade", help="Grade, e.g. A or 'A 优秀'.")] = None,
    held: Annotated[bool, typer.Option("--held", help="Only held scores.")] = False,
    unassigned: Annotated[
        bool,
        typer.Option("--unassigned", help="List the people no template scores, and why, instead."),
    ] = False,
    xlsx: Annotated[
        Path | None,
        typer.Option(
            "--xlsx",
            help="Also write the scores with every component, in Chinese and English, to FILE.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List the published scores of a period (filters combine), or with --unassigned who is not
    scored and why. A template or department the hub does not know is an error naming those
    it knows."""
    from pipelines.score_export import score_sheet, write_xlsx
    from pipelines.score_list import current_scores, score_row

    period = period_or_last_closed(period)
    if unassigned:
        left_out = unassigned_rows(open_stores())
        if as_json:
            print(json.dumps(left_out, ensure_ascii=False, indent=2))
            return
        table = Table(title=f"Not scored: no template is assigned ({len(left_out)})")
        for column in ("job number", "name", "department", "reason"):
            table.add_column(column)
        for row in left_out:
            table.add_row(row["job_number"], row["name"], row["department"], row["reason"])
        out.print(table)
        return
    if xlsx is not None and not xlsx.parent.is_dir():
        raise fail(f"cannot write {xlsx}: folder {xlsx.parent} does not exist")
    stores = open_stores()
    check_published(stores, period)
    if template is not None:
        check_template(stores, template)
    if department is not None:
        check_department(stores, department)
    found = current_scores(
        stores, period, department=department, template=template, grade=grade, held=held
    )
    if xlsx is not None:
        try:
            write_xlsx(score_sheet(stores, found), xlsx, title=period)
        except OSError as exc:
            raise fail(f"cannot write {xlsx}: {exc.strerror or exc}") from None
        err.print(
            f"wrote {len(found)} score(s) of {period} to {xlsx}", highlight=False, soft_wrap=True
        )
    rows = [score_row(s) for s in found]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    out.print(scores_table(rows, f"Published scores {period} ({len(rows)})"))


def facts(
    period: PeriodOption = None,
    job_number: Annotated[str | None, typer.Option("--job-number")] = None,
    kpi: Annotated[str | None, typer.Option("--kpi", help="KPI code of the catalog.")] = None,
    targets: Annotated[
        bool, typer.Option("--targets", help="List the planned values (targets) instead.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """List the current KPI facts of a period: what was achieved, or with --targets what was
    planned. A KPI code the catalog does not define is an error naming those it does."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from pipelines.lineage import fact_value_text
    from schemas.facts import ACTUAL, TARGET
    from schemas.tables import KpiFactRow

    period = period_or_last_closed(period)
    if kpi is not None:
        check_kpi(kpi)
    stores = open_stores()
    query = select(KpiFactRow).where(
        KpiFactRow.period == period,
        KpiFactRow.is_current.is_(True),
        KpiFactRow.kind == (TARGET if targets else ACTUAL),
    )
    if job_number:
        query = query.where(KpiFactRow.job_number == job_number)
    if kpi:
        query = query.where(KpiFactRow.kpi_code == kpi)
    with Session(stores.hub) as session:
        rows = [
            {
                "job_number": f.job_number,
                "kpi_code": f.kpi_code,
                "period": f.period,
                "value": fact_value_text(f.value, f.kpi_code),
                "unit": f.unit,
                "version": f.version,
                "kind": f.kind,
            }
            for f in session.scalars(query.order_by(KpiFactRow.job_number, KpiFactRow.kpi_code))
        ]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    title = "KPI targets" if targets else "KPI facts"
    table = Table(title=f"{title} {period} ({len(rows)})")
    for column in ("job number", "KPI", "value", "unit", "version"):
        table.add_column(column, justify="right" if column in ("value", "version") else "left")
    for row in rows:
        table.add_row(
            row["job_number"], row["kpi_code"], row["value"], row["unit"], str(row["version"])
        )
    out.print(table)


def trace_tree(data: dict[str, Any]) -> Tree:
    """The trace as a tree; every label is plain text, so payloads are printed as they are."""
    employee, score = data["employee"], data["score"]
    history = data.get("history") or []
    reason = next((h["reason"] for h in history if h["version"] == score["version"]), None)
    root = Tree(
        Text.assemble(
            (f"{employee['job_number']} {employee['name']}", "bold"),
            f" ({employee['department']}) {data['period']}: ",
            (str(score["total"]), "bold"),
            f" {score['grade'] or 'not graded'} [{score['status']}], template {score['template']} "
            f"{score['template_version']}, score version {score['version']}",
        )
    )
    if score.get("rank") is not None:
        root.add(
            Text(
                f"rank {score['rank']} of {score['cohort_size']} final {score['template']} "
                f"scores of {data['period']}"
            )
        )
    elif "cohort_size" in score:
        root.add(
            Text(
                f"not ranked: held, outside the {score['cohort_size']} final "
                f"{score['template']} scores of {data['period']}"
            )
        )
    if "talent_pool" in score:
        root.add(
            Text(
                "in the core talent pool" if score["talent_pool"] else "not in the core talent pool"
            )
        )
    if reason:
        root.add(Text.assemble(("why this version: ", "yellow"), reason))
    for hold in score.get("hold_reasons") or []:
        root.add(Text.assemble(("held: ", "red"), hold))
    for component in data["components"]:
        weight = component["weight_used"]
        if component["weight_used"] != component["weight"]:
            weight = f"{component['weight_used']} (template {component['weight']})"
        if component["attainment"] is None:
            line = f"{component['kpi_code']}: {component['status']}: {component['note']}"
        else:
            line = (
                f"{component['kpi_code']}: actual {component['actual']} / target "
                f"{component['target']} ({component['target_source']}, {component['direction']} "
                f"is better, cap {component['cap']}) -> attainment {component['attainment']} "
                f"x 100 x weight {weight} = {component['points']} points"
            )
        branch = root.add(Text(line))
        for fact in component["facts"] + component.get("target_facts", []):
            fact_branch = branch.add(
                Text(
                    f"fact #{fact['fact_id']}: {fact['value']} {fact['unit']} "
                    f"from {len(fact['records'])} record(s)"
                )
            )
            for record in fact["records"]:
                fact_branch.add(
                    Text(
                        f"{record['source']}/{record['stream']}/{record['record_key']} "
                        f"sha256 {record['payload_sha256'][:12]} fetched "
                        f"{record['extracted_at']}: "
                        f"{json.dumps(record['payload'], ensure_ascii=False)}"
                    )
                )
    if score.get("subtotal") is not None:
        root.add(Text(f"points summed: {score['subtotal']}"))
    for adjustment in data["adjustments"]:
        step = "x" if adjustment["kind"] == "multiply" else "-"
        root.add(
            Text(
                f"adjustment {adjustment['rule']} ({adjustment['kpi_code']} "
                f"{adjustment['value']}): {step} {adjustment['amount']}"
            )
        )
    if history:
        versions = root.add(Text(f"history ({len(history)} version(s), oldest first)"))
        for h in history:
            shown = " <- shown" if h["version"] == score["version"] else ""
            versions.add(
                Text(
                    f"version {h['version']} published {h['published_at']}: {h['total']} "
                    f"{h['grade'] or 'not graded'} [{h['status']}]"
                    + (f": {h['reason']}" if h["reason"] else "")
                    + shown
                )
            )
    return root


def trace_command(
    job_number: Annotated[str, typer.Argument(help="The employee's job number (工号).")],
    period: PeriodOption = None,
    version: Annotated[
        int | None,
        typer.Option("--version", help="An earlier version of the score (see its history)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Trace a published score to its KPIs, facts and the source records as fetched."""
    from pipelines.lineage import TraceNotFound, trace
    from pipelines.talent_pool import pool_rules

    period = period_or_last_closed(period)
    stores = open_stores()
    try:
        data = trace(stores, job_number, period, version, pool_rules(current_templates()))
    except TraceNotFound as exc:
        raise fail(str(exc)) from None
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    out.print(trace_tree(data))


def talent_pool_rows(stores: Stores, period: str) -> list[dict[str, Any]]:
    from pipelines.lineage import money_text
    from pipelines.talent_pool import pool_rules, talent_pool

    return [
        {
            "job_number": m.job_number,
            "name": m.name,
            "department": m.department,
            "template": m.template,
            "total": money_text(m.total),
            "grade": m.grade,
            "months": m.months,
        }
        for m in talent_pool(stores, period, pool_rules(current_templates()))
    ]


def talent_pool_command(period: PeriodOption = None, as_json: JsonOption = False) -> None:
    """List the core talent pool of a month (a final top grade, no open ERROR finding on the
    person or the sources of their facts) and how many consecutive months each has been in it."""
    period = period_or_last_closed(period)
    rows = talent_pool_rows(open_stores(), period)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Core talent pool {period} ({len(rows)})")
    for column in ("job number", "name", "department", "template", "total", "grade", "months"):
        table.add_column(column, justify="right" if column in ("total", "months") else "left")
    for row in rows:
        table.add_row(
            row["job_number"],
            row["name"],
            row["department"],
            row["template"],
            row["total"],
            row["grade"],
            str(row["months"]),
        )
    out.print(table)
