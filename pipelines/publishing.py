"""Publishing scores to the HR store, versioned.

A re-run with the same inputs publishes nothing. A changed input publishes a new version that
supersedes the old one and says why; the old version stays for audit.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.registry import Connector, DirectoryEntry
from connectors.sdk.timeparse import now_utc
from pipelines.facts import current_facts, decimal_text
from pipelines.identity import IdentityResolver
from pipelines.scoring import FactInputValue, ScoreDraft, score_person
from pipelines.stores import Stores
from schemas.tables import Score, ScoreComponent
from schemas.templates import ScoringTemplate


@dataclass
class PublishStats:
    period: str
    scored: int = 0
    published: int = 0
    superseded: int = 0
    unchanged: int = 0
    held: int = 0
    by_grade: dict[str, int] = field(default_factory=dict)
    by_template: dict[str, int] = field(default_factory=dict)
    drafts: list[ScoreDraft] = field(default_factory=list)


def draft_scores(
    session: Session,
    period: str,
    templates: Iterable[ScoringTemplate],
    employees: Iterable[DirectoryEntry],
) -> list[ScoreDraft]:
    """Score every employee a template applies to, from the current facts of the period."""
    templates = list(templates)
    kpis = {c.kpi for t in templates for c in t.components}
    by_person: dict[str, dict[str, FactInputValue]] = defaultdict(dict)
    for row in current_facts(session, period, kpis):
        by_person[row.job_number][row.kpi_code] = FactInputValue(row.id, row.value)
    drafts: list[ScoreDraft] = []
    for employee in sorted(employees, key=lambda e: e.job_number):
        template = next((t for t in templates if t.applies(employee.department)), None)
        if template is None:
            continue
        drafts.append(
            score_person(
                template,
                job_number=employee.job_number,
                employee_name=employee.name,
                department=employee.department,
                period=period,
                facts=by_person.get(employee.job_number, {}),
            )
        )
    return drafts


def _why(old: Score, old_components: list[ScoreComponent], draft: ScoreDraft) -> str:
    if (old.template, old.template_version) != (draft.template, draft.template_version):
        old_template = f"{old.template} {old.template_version}"
        return f"template {old_template} -> {draft.template} {draft.template_version}"
    reasons: list[str] = []
    before = {c.kpi_code: c for c in old_components}
    for component in draft.components:
        prior = before.get(component.kpi_code)
        if prior is None:
            reasons.append(f"{component.kpi_code} added")
            continue
        if list(prior.fact_ids) != list(component.fact_ids) or prior.actual != component.actual:
            old_actual = "missing" if prior.actual is None else decimal_text(prior.actual)
            new_actual = "missing" if component.actual is None else decimal_text(component.actual)
            reasons.append(
                f"{component.kpi_code} {old_actual} -> {new_actual} "
                f"(fact {list(prior.fact_ids)} -> {list(component.fact_ids)})"
            )
    if (old.employee_name, old.department) != (draft.employee_name, draft.department):
        reasons.append("employee details changed")
    return "; ".join(reasons) or "inputs changed"


def publish(stores: Stores, drafts: list[ScoreDraft], period: str, run_id: str) -> PublishStats:
    """Write new score versions for drafts whose inputs changed since the current version."""
    stats = PublishStats(period=period, scored=len(drafts), drafts=drafts)
    now = now_utc()
    with Session(stores.hr) as session, session.begin():
        current = {
            s.job_number: s
            for s in session.scalars(
                select(Score).where(Score.period == period, Score.is_current.is_(True))
            )
        }
        for draft in drafts:
            digest = draft.digest()
            old = current.get(draft.job_number)
            if old is not None and old.inputs_sha256 == digest:
                stats.unchanged += 1
                continue
            reason = None
            if old is not None:
                old_components = list(
                    session.scalars(
                        select(ScoreComponent)
                        .where(ScoreComponent.score_id == old.id)
                        .order_by(ScoreComponent.position)
                    )
                )
                reason = _why(old, old_components, draft)
                old.is_current = False
                session.flush()
            score = Score(
                job_number=draft.job_number,
                employee_name=draft.employee_name,
                department=draft.department,
                period=period,
                template=draft.template,
                template_version=draft.template_version,
                total=draft.total,
                grade=draft.grade,
                status=draft.status,
                version=(old.version + 1) if old is not None else 1,
                is_current=True,
                inputs_sha256=digest,
                reason=reason,
                published_at=now,
                run_id=run_id,
            )
            session.add(score)
            session.flush()
            if old is not None:
                old.superseded_by = score.id
                stats.superseded += 1
            for position, component in enumerate(draft.components):
                session.add(
                    ScoreComponent(
                        score_id=score.id,
                        position=position,
                        kpi_code=component.kpi_code,
                        actual=component.actual,
                        target=component.target,
                        attainment=component.attainment,
                        weight=component.weight,
                        points=component.points,
                        fact_ids=list(component.fact_ids),
                    )
                )
            stats.published += 1
    stats.held = sum(1 for d in drafts if d.status == "held")
    stats.by_grade = dict(sorted(Counter(d.grade for d in drafts).items()))
    stats.by_template = dict(sorted(Counter(d.template for d in drafts).items()))
    return stats


def score_period(
    stores: Stores,
    period: str,
    templates: list[ScoringTemplate],
    connectors: Mapping[str, Connector],
    run_id: str,
) -> PublishStats:
    """Score everyone a template applies to from the period's current facts, and publish."""
    with Session(stores.hub) as session:
        resolver = IdentityResolver.load(session, connectors)
        drafts = draft_scores(session, period, templates, resolver.employees.values())
    return publish(stores, drafts, period, run_id)
