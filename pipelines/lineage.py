"""Lineage tracing: a published score -> its components -> the facts -> the raw record versions
and their payloads as fetched. Money and scores are Decimal strings so nothing is lost to floats.

Every number the total came from is in the trace: each component's actual, target and its source,
direction, cap, attainment, weight used and points (exact, not rounded), and the adjustments in
the order applied with their kind and amount, so the total can be recomputed from the trace.
Rank and cohort size are read from the published scores of the cohort, not recomputed; the
history lists every version of the score, so a restatement is never silent.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from pipelines.facts import decimal_text, fact_inputs
from pipelines.grading import ranked
from pipelines.review import review_view
from pipelines.scoring import FINAL
from pipelines.stores import Stores
from pipelines.talent_pool import score_in_pool
from schemas.catalog import load_catalog
from schemas.tables import KpiFactRow, RawRecordVersion, Score, ScoreAdjustment, ScoreComponent
from schemas.templates import TalentPool

POINTS = Decimal("0.01")
RATIO = Decimal("0.0001")


class TraceNotFound(LookupError):
    """No published score for that job number and period."""


def money_text(value: Decimal | None, quantum: Decimal = POINTS) -> str | None:
    return None if value is None else str(value.quantize(quantum))


def exact_text(value: Decimal | None) -> str | None:
    """The number as it is, without trailing zeros: points are not rounded before the total."""
    return None if value is None else decimal_text(value)


@cache
def _quantum(kpi_code: str) -> Decimal | None:
    catalog = load_catalog()
    return Decimal(1).scaleb(-catalog.get(kpi_code).decimals) if kpi_code in catalog else None


def fact_value_text(value: Decimal, kpi_code: str) -> str:
    """A fact's value with the catalog's decimals (``95.10`` stays ``95.10``), whatever scale the
    database hands back."""
    quantum = _quantum(kpi_code)
    return str(value.quantize(quantum)) if quantum is not None else format(value.normalize(), "f")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def cohort_place(hr: Session, score: Score) -> tuple[int | None, int]:
    """Rank (1 is the best; None for a held score) and size of the cohort of a score version:
    the final scores of its template and period, by total descending, ties by job number.

    The current version is placed among the current scores; an earlier one among the versions
    that were current just before the publish that superseded it, which is the cohort it was
    last graded in.
    """
    query = select(Score.job_number, Score.total).where(
        Score.period == score.period, Score.template == score.template, Score.status == FINAL
    )
    if score.superseded_by is None:
        query = query.where(Score.is_current.is_(True))
    else:
        superseded_at = hr.scalar(select(Score.published_at).where(Score.id == score.superseded_by))
        first_of_publish = hr.scalar(
            select(func.min(Score.id)).where(
                Score.period == score.period, Score.published_at == superseded_at
            )
        )
        boundary = score.superseded_by if first_of_publish is None else first_of_publish
        query = query.where(
            Score.id < boundary,
            or_(Score.superseded_by.is_(None), Score.superseded_by >= boundary),
        )
    totals = {job: total for job, total in hr.execute(query)}
    if score.status != FINAL or score.job_number not in totals:
        return None, len(totals)
    return ranked(totals).index(score.job_number) + 1, len(totals)


def history_view(versions: list[Score]) -> list[dict[str, Any]]:
    """Every version of a person's score for the period, oldest first."""
    return [
        {
            "version": v.version,
            "total": money_text(v.total),
            "grade": v.grade,
            "status": v.status,
            "reason": v.reason,
            "published_at": _iso(v.published_at),
        }
        for v in versions
    ]


def trace(
    stores: Stores,
    job_number: str,
    period: str,
    version: int | None = None,
    pool_rules: Mapping[str, TalentPool] | None = None,
) -> dict[str, Any]:
    """The trace of the current score of ``job_number`` for ``period``, or of an earlier
    ``version`` of it. ``pool_rules`` are the templates' talent-pool rules by template code."""
    with Session(stores.hr) as hr:
        versions = list(
            hr.scalars(
                select(Score)
                .where(Score.job_number == job_number, Score.period == period)
                .order_by(Score.version)
            )
        )
        if not versions:
            known = hr.scalar(select(Score.id).where(Score.job_number == job_number).limit(1))
            if known is None:
                raise TraceNotFound(f"no published score for job number {job_number}")
            raise TraceNotFound(f"job number {job_number} has no published score for {period}")
        if version is None:
            score = next((v for v in versions if v.is_current), versions[-1])
        else:
            found = [v for v in versions if v.version == version]
            if not found:
                raise TraceNotFound(
                    f"job number {job_number} has no score version {version} for {period} "
                    f"(versions {versions[0].version} to {versions[-1].version})"
                )
            score = found[0]
        rank, cohort_size = cohort_place(hr, score)
        components = list(
            hr.scalars(
                select(ScoreComponent)
                .where(ScoreComponent.score_id == score.id)
                .order_by(ScoreComponent.position)
            )
        )
        adjustments = list(
            hr.scalars(
                select(ScoreAdjustment)
                .where(ScoreAdjustment.score_id == score.id)
                .order_by(ScoreAdjustment.position)
            )
        )
    fact_ids = sorted(
        {fid for c in components for fid in c.fact_ids}
        | {c.target_fact_id for c in components if c.target_fact_id is not None}
        | {fid for a in adjustments for fid in a.fact_ids}
    )
    with Session(stores.hub) as hub:
        facts = {
            f.id: f for f in hub.scalars(select(KpiFactRow).where(KpiFactRow.id.in_(fact_ids)))
        }
        inputs = fact_inputs(hub, fact_ids)
        version_ids = sorted({v for vs in inputs.values() for v in vs})
        records = {
            r.id: r
            for start in range(0, len(version_ids), 500)
            for r in hub.scalars(
                select(RawRecordVersion).where(
                    RawRecordVersion.id.in_(version_ids[start : start + 500])
                )
            )
        }

    def record_view(record: RawRecordVersion) -> dict[str, Any]:
        return {
            "source": record.source,
            "stream": record.stream,
            "record_key": record.record_key,
            "payload_sha256": record.payload_sha256,
            "extracted_at": _iso(record.extracted_at),
            "payload": record.payload,
        }

    def fact_view(fact: KpiFactRow) -> dict[str, Any]:
        return {
            "fact_id": fact.id,
            "kpi_code": fact.kpi_code,
            "value": fact_value_text(fact.value, fact.kpi_code),
            "unit": fact.unit,
            "records": [
                record_view(records[v]) for v in sorted(inputs.get(fact.id, [])) if v in records
            ],
        }

    def facts_of(ids: list[int] | tuple[int, ...]) -> list[dict[str, Any]]:
        return [fact_view(facts[fid]) for fid in ids if fid in facts]

    return {
        "employee": {
            "job_number": score.job_number,
            "name": score.employee_name,
            "department": score.department,
        },
        "period": score.period,
        "score": {
            "id": score.id,
            "template": score.template,
            "template_version": score.template_version,
            "template_sha256": score.template_sha256,
            "subtotal": exact_text(score.subtotal),
            "total": money_text(score.total),
            "grade": score.grade,
            "status": score.status,
            "hold_reasons": list(score.hold_reasons or []),
            "version": score.version,
            "published_at": _iso(score.published_at),
            "rank": rank,
            "cohort_size": cohort_size,
            "talent_pool": score_in_pool(stores, score, pool_rules or {}),
        },
        "history": history_view(versions),
        "review": review_view(stores, score.job_number, score.period),
        "components": [
            {
                "kpi_code": c.kpi_code,
                "status": c.status,
                "actual": None if c.actual is None else fact_value_text(c.actual, c.kpi_code),
                "target": exact_text(c.target),
                "target_source": c.target_source,
                "direction": c.direction,
                "cap": exact_text(c.cap),
                "attainment": money_text(c.attainment, RATIO),
                "weight": exact_text(c.weight),
                "weight_used": exact_text(c.weight_used),
                "points": exact_text(c.points),
                "note": c.note,
                "facts": facts_of(c.fact_ids),
                "target_facts": facts_of([c.target_fact_id] if c.target_fact_id else []),
            }
            for c in components
        ],
        "adjustments": [
            {
                "rule": a.rule,
                "kind": a.kind,
                "kpi_code": a.kpi_code,
                "value": exact_text(a.value),
                "amount": exact_text(a.amount),
                "facts": facts_of(a.fact_ids),
            }
            for a in adjustments
            if a.applied
        ],
    }


def score_reason(stores: Stores, score_id: int) -> str | None:
    """Why a score version was published over the one before (None for a first version)."""
    with Session(stores.hr) as hr:
        return hr.scalar(select(Score.reason).where(Score.id == score_id))
