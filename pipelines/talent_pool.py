"""The core talent pool: who of a graded cohort enters it, by the template's rule, and for how
many consecutive months they have been in it.

Membership is read from the published scores, never recomputed: a current, final score with one
of the rule's grades, and no open (or acknowledged) ERROR finding of that month whose subject is
the person (their job number) or the source of one of the facts the score read (``crm``, or a
stream of it such as ``crm/orders``). A score still in doubt does not put anyone in the pool.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines.scoring import FINAL
from pipelines.stores import Stores
from quality.findings import ERROR, UNRESOLVED
from schemas.periods import previous_period
from schemas.tables import Finding, KpiFactRow, Score, ScoreAdjustment, ScoreComponent
from schemas.templates import ScoringTemplate, TalentPool

DEFAULT_RULE = TalentPool(grades=["A 优秀"])
"""For a score whose template is no longer in the templates folder: the rule every demo
template states."""


def in_talent_pool(
    rule: TalentPool, *, grade: str | None, status: str, open_error_findings: int
) -> bool:
    """Graded one of the rule's grades, final (a held score has no grade yet) and, when the
    rule asks, with no open ERROR finding on the facts the score read: a score still in doubt
    does not put anyone in the pool."""
    if grade is None or grade not in rule.grades:
        return False
    if rule.require_final and status != FINAL:
        return False
    return not (rule.require_no_open_errors and open_error_findings > 0)


def pool_rules(templates: Iterable[ScoringTemplate]) -> dict[str, TalentPool]:
    return {t.code: t.talent_pool for t in templates}


def open_error_subjects(hub: Session, periods: Collection[str]) -> dict[str, set[str]]:
    """The subjects of the unresolved (open or acknowledged) ERROR findings of each period."""
    subjects: dict[str, set[str]] = defaultdict(set)
    if not periods:
        return subjects
    for subject, period in hub.execute(
        select(Finding.subject, Finding.period).where(
            Finding.severity == ERROR,
            Finding.status.in_(UNRESOLVED),
            Finding.period.in_(list(periods)),
        )
    ):
        subjects[period].add(subject)
    return subjects


def findings_touching(subjects: Iterable[str], job_number: str, sources: Collection[str]) -> int:
    """How many of the subjects name the person or a source (or one of its streams) they read."""
    names = {job_number, *sources}
    return sum(1 for s in subjects if s in names or s.split("/", 1)[0] in names)


def score_sources(hr: Session, hub: Session, score_ids: Collection[int]) -> dict[int, set[str]]:
    """The sources of the facts each score read: its components', targets' and adjustments'."""
    if not score_ids:
        return {}
    fact_ids: dict[int, set[int]] = defaultdict(set)
    for c in hr.scalars(select(ScoreComponent).where(ScoreComponent.score_id.in_(score_ids))):
        fact_ids[c.score_id].update(c.fact_ids)
        if c.target_fact_id is not None:
            fact_ids[c.score_id].add(c.target_fact_id)
    for a in hr.scalars(select(ScoreAdjustment).where(ScoreAdjustment.score_id.in_(score_ids))):
        fact_ids[a.score_id].update(a.fact_ids)
    wanted = sorted({f for ids in fact_ids.values() for f in ids})
    source_of: dict[int, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = select(KpiFactRow.id, KpiFactRow.source).where(KpiFactRow.id.in_(chunk))
        source_of.update((fact_id, source) for fact_id, source in hub.execute(query))
    return {
        score_id: {source_of[f] for f in fact_ids.get(score_id, set()) if f in source_of}
        for score_id in score_ids
    }


def score_in_pool(stores: Stores, score: Score, rules: Mapping[str, TalentPool]) -> bool:
    """Whether one published score version puts its person in the pool of its month."""
    rule = rules.get(score.template, DEFAULT_RULE)
    if not in_talent_pool(rule, grade=score.grade, status=score.status, open_error_findings=0):
        return False
    with Session(stores.hub) as hub, Session(stores.hr) as hr:
        subjects = open_error_subjects(hub, [score.period]).get(score.period, set())
        if not subjects:
            return True
        sources = score_sources(hr, hub, [score.id])[score.id]
    touching = findings_touching(subjects, score.job_number, sources)
    return in_talent_pool(
        rule, grade=score.grade, status=score.status, open_error_findings=touching
    )


@dataclass(frozen=True)
class PoolMember:
    """A person in the pool of a month, and for how many consecutive months up to it."""

    job_number: str
    name: str
    department: str
    template: str
    total: Decimal
    grade: str
    months: int


def pool_of_month(stores: Stores, period: str, rules: Mapping[str, TalentPool]) -> dict[str, Score]:
    """The current scores of a month that put their person in the pool, by job number."""
    with Session(stores.hr) as hr, Session(stores.hub) as hub:
        candidates = [
            s
            for s in hr.scalars(
                select(Score).where(Score.period == period, Score.is_current.is_(True))
            )
            if in_talent_pool(
                rules.get(s.template, DEFAULT_RULE),
                grade=s.grade,
                status=s.status,
                open_error_findings=0,
            )
        ]
        subjects = open_error_subjects(hub, [period]).get(period, set())
        sources = score_sources(hr, hub, [s.id for s in candidates]) if subjects else {}
    return {
        s.job_number: s
        for s in candidates
        if in_talent_pool(
            rules.get(s.template, DEFAULT_RULE),
            grade=s.grade,
            status=s.status,
            open_error_findings=findings_touching(subjects, s.job_number, sources.get(s.id, set())),
        )
    }


def talent_pool(stores: Stores, period: str, rules: Mapping[str, TalentPool]) -> list[PoolMember]:
    """The pool of ``period`` by job number, each with the consecutive months (``period``
    included) they have been in it: a month without published scores ends a run."""
    members = pool_of_month(stores, period, rules)
    months = dict.fromkeys(members, 1)
    running = set(members)
    month = period
    with Session(stores.hr) as hr:
        published = set(hr.scalars(select(Score.period).where(Score.period < period).distinct()))
    while running:
        month = previous_period(month)
        if month not in published:
            break
        running &= set(pool_of_month(stores, month, rules))
        for job_number in running:
            months[job_number] += 1
    return [
        PoolMember(
            s.job_number,
            s.employee_name,
            s.department,
            s.template,
            s.total,
            s.grade or "",
            months[job_number],
        )
        for job_number, s in sorted(members.items())
    ]
