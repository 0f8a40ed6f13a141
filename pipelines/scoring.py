"""The scoring rules, exactly as HR writes them down, as pure functions over Decimal.

- attainment = actual / target (higher is better) or target / actual (lower is better; an actual
  of 0 attains the cap), clamped to [0, cap], rounded half up to 4 decimals;
- points = attainment x 100 x weight; the subtotal is the sum of the points;
- adjustments run in the template's order on the subtotal: ``multiply`` (late more than 3 times:
  x 0.9) and ``subtract`` (5 points per absence day); then the person's manual adjustment approved
  by HR, if any (``add``: a bonus, or a deduction when negative); the result is floored at 0 and
  rounded half up to 2 decimals;
- an approved target change (a ``revised`` target fact) outranks both the person's own target
  fact and the template's target;
- a missing fact or target does what the component's ``when_missing`` says: ``hold`` the score
  with the reason, score ``zero``, or ``exclude`` the component and renormalise the other weights
  (rounded half up to 4 decimals, and recorded as the weights used).

Nothing is rounded on the way except where a rule says so, and every number that went in is kept
in the result, so the total can be recomputed from the result alone with :func:`total_from`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from schemas.facts import MANUAL_ADJUSTMENT, REVIEW_SOURCE
from schemas.templates import (
    Component,
    Direction,
    MultiplyAdjustment,
    ScoringTemplate,
    SubtractAdjustment,
)

HUNDRED = Decimal(100)
ZERO = Decimal(0)
POINTS = Decimal("0.01")
RATIO = Decimal("0.0001")
WEIGHT = Decimal("0.0001")
TEMPLATE_TARGET = "template"
FINAL = "final"
HELD = "held"

ComponentStatus = Literal["scored", "zero", "excluded", "missing"]
AdjustmentKind = Literal["multiply", "subtract", "add"]
MANUAL_RULE = "manual"
"""The rule name of the manual adjustment, after the template's own rules."""


@dataclass(frozen=True)
class FactValue:
    """A current fact the rules read: its id in the hub store and its value."""

    fact_id: int
    value: Decimal


@dataclass(frozen=True)
class Target:
    """The target a component is measured against and where it came from: a target fact of the
    person and month (``erp``, with its fact id), an approved target change (``review``, with
    its fact id) or the template (``template``)."""

    value: Decimal
    source: str
    fact_id: int | None = None


@dataclass(frozen=True)
class ComponentResult:
    """One component as scored, with every number that went in.

    ``status`` is ``scored``, ``zero`` (missing, scored zero by the template), ``excluded``
    (missing, left out; ``weight_used`` is 0) or ``missing`` (missing, the score is held).
    """

    kpi_code: str
    status: ComponentStatus
    actual: Decimal | None
    target: Decimal | None
    target_source: str | None
    direction: Direction
    cap: Decimal
    attainment: Decimal | None
    weight: Decimal
    weight_used: Decimal
    points: Decimal
    fact_ids: tuple[int, ...]
    target_fact_id: int | None
    note: str | None = None


@dataclass(frozen=True)
class AdjustmentResult:
    """One adjustment rule as checked; ``amount`` is the factor (multiply) or the points taken
    off (subtract) when the rule applied, None when it did not."""

    rule: str
    kind: AdjustmentKind
    kpi_code: str
    value: Decimal | None
    applied: bool
    amount: Decimal | None
    total_before: Decimal
    total_after: Decimal
    fact_ids: tuple[int, ...]
    note: str | None = None


@dataclass(frozen=True)
class ScoreResult:
    """A person's score for one period under one template, before grading."""

    job_number: str
    period: str
    template: str
    template_version: str
    components: tuple[ComponentResult, ...]
    subtotal: Decimal
    adjustments: tuple[AdjustmentResult, ...]
    total: Decimal
    status: str
    hold_reasons: tuple[str, ...]

    @property
    def fact_ids(self) -> tuple[int, ...]:
        """Every fact the score read: actuals, target facts and the adjustments' facts."""
        ids = [i for c in self.components for i in c.fact_ids]
        ids += [c.target_fact_id for c in self.components if c.target_fact_id is not None]
        ids += [i for a in self.adjustments for i in a.fact_ids]
        return tuple(sorted(set(ids)))


def attainment(actual: Decimal, target: Decimal, direction: Direction, cap: Decimal) -> Decimal:
    """actual / target, or target / actual when lower is better (0 attains the cap), clamped to
    [0, cap] and rounded half up to 4 decimals. ``target`` is positive (templates and target
    lookup make sure of it)."""
    if direction == "lower":
        return cap.quantize(RATIO, ROUND_HALF_UP) if actual == 0 else _clamp(target / actual, cap)
    return _clamp(actual / target, cap)


def _clamp(ratio: Decimal, cap: Decimal) -> Decimal:
    return min(max(ratio, ZERO), cap).quantize(RATIO, ROUND_HALF_UP)


def points(attainment_value: Decimal, weight: Decimal) -> Decimal:
    return attainment_value * HUNDRED * weight


def resolve_target(
    component: Component, target_fact: FactValue | None, revised: FactValue | None = None
) -> Target | str:
    """An approved target change first (HR decided it for this person and month); then the
    person's own target fact when the template takes one and there is one, else the template's
    target; or why there is none. A target fact that is not positive cannot be divided by and is
    not silently replaced by the template's."""
    if revised is not None:
        return Target(revised.value, REVIEW_SOURCE, revised.fact_id)
    if component.target_from is not None and target_fact is not None:
        if target_fact.value <= 0:
            return (
                f"{component.kpi}: the {component.target_from} target is "
                f"{target_fact.value}, not a usable target"
            )
        return Target(target_fact.value, component.target_from, target_fact.fact_id)
    if component.target is not None:
        return Target(component.target, TEMPLATE_TARGET)
    return f"{component.kpi}: no {component.target_from} target for the month"


def renormalised(weights: Sequence[Decimal | None]) -> list[Decimal]:
    """The weights used once some components are excluded (None): each remaining weight over
    their sum, rounded half up to 4 decimals; the excluded ones weigh 0. Nothing excluded leaves
    the weights as they are."""
    kept = sum((w for w in weights if w is not None), ZERO)
    if all(w is not None for w in weights) or kept == 0:
        return [w if w is not None else ZERO for w in weights]
    return [ZERO if w is None else (w / kept).quantize(WEIGHT, ROUND_HALF_UP) for w in weights]


@dataclass(frozen=True)
class _Measured:
    component: Component
    actual: FactValue | None
    target: Target | None
    missing: str | None


def _measure(
    component: Component,
    actual: FactValue | None,
    target_fact: FactValue | None,
    revised: FactValue | None,
    period: str,
) -> _Measured:
    target = resolve_target(component, target_fact, revised)
    problems: list[str] = []
    if actual is None:
        problems.append(f"{component.kpi}: no fact for {period}")
    if isinstance(target, str):
        problems.append(target)
    return _Measured(
        component,
        actual,
        target if isinstance(target, Target) else None,
        "; ".join(problems) or None,
    )


def score_components(
    template: ScoringTemplate,
    period: str,
    actuals: Mapping[str, FactValue],
    targets: Mapping[str, FactValue],
    revised: Mapping[str, FactValue] | None = None,
) -> tuple[tuple[ComponentResult, ...], tuple[str, ...]]:
    """Every component of ``template`` scored, and the reasons to hold the score."""
    changed = revised or {}
    measured = [
        _measure(c, actuals.get(c.kpi), targets.get(c.kpi), changed.get(c.kpi), period)
        for c in template.components
    ]
    excluded = [m.missing is not None and m.component.when_missing == "exclude" for m in measured]
    used = renormalised(
        [None if out else m.component.weight for m, out in zip(measured, excluded, strict=True)]
    )
    results: list[ComponentResult] = []
    holds: list[str] = []
    if all(excluded):
        holds.append("every component is missing and excluded: nothing to score")
    for m, weight_used in zip(measured, used, strict=True):
        c = m.component
        status: ComponentStatus = "scored"
        ratio: Decimal | None = None
        note = m.missing
        if m.missing is None:
            assert m.actual is not None and m.target is not None
            ratio = attainment(m.actual.value, m.target.value, c.resolved_direction, c.cap)
        elif c.when_missing == "zero":
            status, ratio, note = "zero", ZERO, f"{m.missing}; scored zero by the template"
        elif c.when_missing == "exclude":
            status, note = "excluded", f"{m.missing}; excluded by the template"
        else:
            status = "missing"
            holds.append(m.missing)
        results.append(
            ComponentResult(
                kpi_code=c.kpi,
                status=status,
                actual=None if m.actual is None else m.actual.value,
                target=None if m.target is None else m.target.value,
                target_source=None if m.target is None else m.target.source,
                direction=c.resolved_direction,
                cap=c.cap,
                attainment=ratio,
                weight=c.weight,
                weight_used=weight_used,
                points=ZERO if ratio is None else points(ratio, weight_used),
                fact_ids=() if m.actual is None else (m.actual.fact_id,),
                target_fact_id=None if m.target is None else m.target.fact_id,
                note=note,
            )
        )
    return tuple(results), tuple(holds)


def apply_adjustment(kind: AdjustmentKind, total: Decimal, amount: Decimal) -> Decimal:
    if kind == "multiply":
        return total * amount
    return total + amount if kind == "add" else total - amount


def manual_adjustment(total: Decimal, fact: FactValue) -> AdjustmentResult:
    """The manual adjustment points HR approved for the person and month, added to the total
    after the template's rules (negative points are a deduction)."""
    return AdjustmentResult(
        rule=MANUAL_RULE,
        kind="add",
        kpi_code=MANUAL_ADJUSTMENT,
        value=fact.value,
        applied=fact.value != 0,
        amount=fact.value if fact.value != 0 else None,
        total_before=total,
        total_after=total + fact.value,
        fact_ids=(fact.fact_id,),
    )


def run_adjustments(
    template: ScoringTemplate, period: str, subtotal: Decimal, actuals: Mapping[str, FactValue]
) -> tuple[tuple[AdjustmentResult, ...], tuple[str, ...]]:
    """The template's adjustments in order on ``subtotal``, and the reasons to hold the score.

    The attendance facts already leave out late arrivals and absences covered by an approved
    leave or approval, so the rules read the facts as they are."""
    results: list[AdjustmentResult] = []
    holds: list[str] = []
    running = subtotal
    for rule in template.adjustments:
        fact = actuals.get(rule.kpi)
        if fact is None:
            missing = f"{rule.kpi}: no fact for {period}"
            note = (
                missing if rule.when_missing == "hold" else f"{missing}; rule {rule.rule} skipped"
            )
            if rule.when_missing == "hold":
                holds.append(missing)
            results.append(
                AdjustmentResult(
                    rule.rule, rule.kind, rule.kpi, None, False, None, running, running, (), note
                )
            )
            continue
        amount = _amount(rule, fact.value)
        after = running if amount is None else apply_adjustment(rule.kind, running, amount)
        results.append(
            AdjustmentResult(
                rule=rule.rule,
                kind=rule.kind,
                kpi_code=rule.kpi,
                value=fact.value,
                applied=amount is not None,
                amount=amount,
                total_before=running,
                total_after=after,
                fact_ids=(fact.fact_id,),
            )
        )
        running = after
    return tuple(results), tuple(holds)


def _amount(rule: MultiplyAdjustment | SubtractAdjustment, value: Decimal) -> Decimal | None:
    """What the rule does to the total for this fact value, or None when it does not apply."""
    if isinstance(rule, MultiplyAdjustment):
        return rule.factor if value > rule.more_than else None
    taken = rule.per_unit * value
    return taken if taken > 0 else None


def final_total(total: Decimal) -> Decimal:
    """Floored at 0, then rounded half up to 2 decimals."""
    return max(total, ZERO).quantize(POINTS, ROUND_HALF_UP)


def total_from(
    component_points: Iterable[Decimal], applied: Iterable[tuple[AdjustmentKind, Decimal]]
) -> Decimal:
    """The total from the recorded numbers alone: the points summed, each applied adjustment in
    order, the floor and the rounding. What a reader of the trace does by hand."""
    running = sum(component_points, ZERO)
    for kind, amount in applied:
        running = apply_adjustment(kind, running, amount)
    return final_total(running)


def score_person(
    template: ScoringTemplate,
    *,
    job_number: str,
    period: str,
    actuals: Mapping[str, FactValue],
    targets: Mapping[str, FactValue] | None = None,
    hold_reasons: Sequence[str] = (),
    revised: Mapping[str, FactValue] | None = None,
    manual: FactValue | None = None,
) -> ScoreResult:
    """Score one person. ``actuals`` and ``targets`` are their current facts of ``period`` by KPI
    code (targets only for components with ``target_from``); ``revised`` their approved target
    changes by KPI code and ``manual`` their approved manual adjustment points; ``hold_reasons``
    are found outside the rules (an open ERROR finding on the facts) and hold the score too. A
    held score's total counts the held components as 0 points: what the person has at least."""
    components, component_holds = score_components(
        template, period, actuals, targets or {}, revised
    )
    subtotal = sum((c.points for c in components), ZERO)
    adjustments, adjustment_holds = run_adjustments(template, period, subtotal, actuals)
    if manual is not None:
        before = adjustments[-1].total_after if adjustments else subtotal
        adjustments = (*adjustments, manual_adjustment(before, manual))
    running = adjustments[-1].total_after if adjustments else subtotal
    holds = (*hold_reasons, *component_holds, *adjustment_holds)
    return ScoreResult(
        job_number=job_number,
        period=period,
        template=template.code,
        template_version=template.version,
        components=components,
        subtotal=subtotal,
        adjustments=adjustments,
        total=final_total(running),
        status=HELD if holds else FINAL,
        hold_reasons=holds,
    )
