"""Lineage tracing: a published score -> its components -> the facts -> the raw record versions
and their payloads as fetched. Money and scores are Decimal strings so nothing is lost to floats.

Every number the total came from is in the trace: each component's actual, target and its source,
direction, cap, attainment, weight used and points (exact, not rounded), and the adjustments in
the order applied with their kind and amount, so the total can be recomputed from the trace.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines.facts import decimal_text, fact_inputs
from pipelines.stores import Stores
from schemas.catalog import load_catalog
from schemas.tables import KpiFactRow, RawRecordVersion, Score, ScoreAdjustment, ScoreComponent

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


def trace(stores: Stores, job_number: str, period: str) -> dict[str, Any]:
    """The trace of the current score of ``job_number`` for ``period``."""
    with Session(stores.hr) as hr:
        score = hr.scalar(
            select(Score).where(
                Score.job_number == job_number, Score.period == period, Score.is_current.is_(True)
            )
        )
        if score is None:
            known = hr.scalar(select(Score.id).where(Score.job_number == job_number).limit(1))
            if known is None:
                raise TraceNotFound(f"no published score for job number {job_number}")
            raise TraceNotFound(f"job number {job_number} has no published score for {period}")
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
        },
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
