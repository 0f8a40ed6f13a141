"""What HR reads on a month's ``scores`` materialization: tables, not text blobs, so the Dagster
UI shows counts per template and grade, each held score with its reasons, who no template
matched, and how each template's totals are spread."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from statistics import median

import dagster as dg

from pipelines.publishing import PublishStats, ScoreDraft


def _table(columns: list[tuple[str, str]], rows: list[dict[str, object]]) -> dg.TableMetadataValue:
    schema = dg.TableSchema(columns=[dg.TableColumn(name, kind) for name, kind in columns])
    return dg.MetadataValue.table(records=[dg.TableRecord(r) for r in rows], schema=schema)


def by_template_and_grade(drafts: list[ScoreDraft]) -> dg.TableMetadataValue:
    counts = Counter((d.template, d.grade or "held") for d in drafts)
    rows = [{"template": t, "grade": g, "people": n} for (t, g), n in sorted(counts.items())]
    return _table([("template", "string"), ("grade", "string"), ("people", "int")], rows)


def held_scores(drafts: list[ScoreDraft]) -> dg.TableMetadataValue:
    rows = [
        {
            "job_number": d.job_number,
            "name": d.employee_name,
            "template": d.template,
            "reasons": "; ".join(d.result.hold_reasons),
        }
        for d in sorted(drafts, key=lambda d: d.job_number)
        if d.status == "held"
    ]
    columns = [("job_number", "string"), ("name", "string"), ("template", "string")]
    return _table([*columns, ("reasons", "string")], rows)


def distribution(drafts: list[ScoreDraft]) -> dg.TableMetadataValue:
    """Per template: the cohort graded, each grade's count, and the lowest, median and highest
    final total, so a distribution that looks wrong is seen before anyone is told a grade."""
    totals: dict[str, list[Decimal]] = defaultdict(list)
    grades: dict[str, Counter[str]] = defaultdict(Counter)
    held: Counter[str] = Counter()
    for d in drafts:
        if d.status == "held":
            held[d.template] += 1
            continue
        totals[d.template].append(d.total)
        grades[d.template][d.grade or ""] += 1
    rows: list[dict[str, object]] = []
    for template in sorted(set(totals) | set(held)):
        values = sorted(totals.get(template, []))
        counts = grades.get(template, Counter())
        rows.append(
            {
                "template": template,
                "final": len(values),
                "held": held[template],
                "grades": ", ".join(f"{g} {n}" for g, n in sorted(counts.items())),
                "lowest": str(values[0]) if values else "",
                "median": str(median(values)) if values else "",
                "highest": str(values[-1]) if values else "",
            }
        )
    columns = [
        ("template", "string"),
        ("final", "int"),
        ("held", "int"),
        ("grades", "string"),
        ("lowest", "string"),
        ("median", "string"),
        ("highest", "string"),
    ]
    return _table(columns, rows)


def unassigned(stats: PublishStats) -> dg.TableMetadataValue:
    rows = [
        {"job_number": u.person.job_number, "name": u.person.name, "reason": u.reason}
        for u in stats.unassigned
    ]
    return _table([("job_number", "string"), ("name", "string"), ("reason", "string")], rows)


def top_scores(drafts: list[ScoreDraft], limit: int = 10) -> dg.TableMetadataValue:
    finals = [d for d in drafts if d.status != "held"]
    rows = [
        {
            "job_number": d.job_number,
            "name": d.employee_name,
            "template": d.template,
            "total": str(d.total),
            "grade": d.grade or "",
        }
        for d in sorted(finals, key=lambda d: (-d.total, d.job_number))[:limit]
    ]
    columns = [("job_number", "string"), ("name", "string"), ("template", "string")]
    return _table([*columns, ("total", "string"), ("grade", "string")], rows)


def scores_metadata(stats: PublishStats) -> dict[str, object]:
    return {
        "scored": stats.scored,
        "published": stats.published,
        "superseded": stats.superseded,
        "unchanged": stats.unchanged,
        "held": stats.held,
        "audited": stats.audited,
        "unassigned": len(stats.unassigned),
        "by_template_and_grade": by_template_and_grade(stats.drafts),
        "distribution": distribution(stats.drafts),
        "held_scores": held_scores(stats.drafts),
        "unassigned_people": unassigned(stats),
        "top_scores": top_scores(stats.drafts),
    }
