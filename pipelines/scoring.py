"""Scores from templates: attainment per component (capped; inverted when lower is better), points
= attainment x weight x 100, a grade from the bands. Pure functions: the numbers that went in are
kept with the score so it can be explained later."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from pipelines.facts import decimal_text
from schemas.templates import Component, ScoringTemplate

HUNDRED = Decimal(100)
POINTS = Decimal("0.01")
RATIO = Decimal("0.0001")


@dataclass(frozen=True)
class FactInputValue:
    """The current fact a component reads."""

    fact_id: int
    value: Decimal


@dataclass(frozen=True)
class ComponentResult:
    kpi_code: str
    actual: Decimal | None
    target: Decimal
    attainment: Decimal
    weight: Decimal
    points: Decimal
    fact_ids: tuple[int, ...]


@dataclass(frozen=True)
class ScoreDraft:
    job_number: str
    employee_name: str
    department: str
    period: str
    template: str
    template_version: str
    total: Decimal
    grade: str
    status: str
    components: tuple[ComponentResult, ...]
    missing: tuple[str, ...]

    def digest(self) -> str:
        """What a published score depends on; equal digests mean nothing to republish."""
        body = {
            "template": [self.template, self.template_version],
            "employee": [self.employee_name, self.department],
            "status": self.status,
            "components": [
                [
                    c.kpi_code,
                    None if c.actual is None else decimal_text(c.actual),
                    decimal_text(c.target),
                    decimal_text(c.weight),
                    list(c.fact_ids),
                ]
                for c in self.components
            ],
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def attainment(component: Component, actual: Decimal) -> Decimal:
    if component.direction == "higher_is_better":
        ratio = actual / component.target
    else:
        ratio = component.cap if actual <= 0 else component.target / actual
    return min(max(ratio, Decimal(0)), component.cap).quantize(RATIO, ROUND_HALF_UP)


def score_component(component: Component, fact: FactInputValue | None) -> ComponentResult:
    if fact is None:
        ratio = Decimal(0).quantize(RATIO)
        actual = None
        fact_ids: tuple[int, ...] = ()
    else:
        actual = fact.value
        ratio = attainment(component, fact.value)
        fact_ids = (fact.fact_id,)
    points = (ratio * component.weight * HUNDRED).quantize(POINTS, ROUND_HALF_UP)
    return ComponentResult(
        kpi_code=component.kpi,
        actual=actual,
        target=component.target,
        attainment=ratio,
        weight=component.weight,
        points=points,
        fact_ids=fact_ids,
    )


def score_person(
    template: ScoringTemplate,
    *,
    job_number: str,
    employee_name: str,
    department: str,
    period: str,
    facts: dict[str, FactInputValue],
) -> ScoreDraft:
    """Score one person. A missing KPI scores zero and holds the score for HR review."""
    components = tuple(score_component(c, facts.get(c.kpi)) for c in template.components)
    total = sum((c.points for c in components), Decimal(0)).quantize(POINTS)
    missing = tuple(c.kpi_code for c in components if c.actual is None)
    return ScoreDraft(
        job_number=job_number,
        employee_name=employee_name,
        department=department,
        period=period,
        template=template.code,
        template_version=template.version,
        total=total,
        grade=template.grade_for(total),
        status="held" if missing else "final",
        components=components,
        missing=missing,
    )
