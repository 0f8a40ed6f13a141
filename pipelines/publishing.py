"""Publishing scores to the HR store, versioned.

Everyone a template is assigned to is scored from the period's current facts; their targets are
their own ERP target facts when the template takes them and there is one, else the template's.
Each template's final scores of the period are graded as one cohort. A re-run with the same
inputs publishes nothing. An open or acknowledged ERROR finding on the facts a score read holds it
(see quality/holds.py). A changed input (a fact, a target, a hold released by HR's decision on a
finding, a grade moved by a regraded cohort, an edited template) publishes a new version that
supersedes the old one and says why; the old version stays for audit. A person no template
matches is reported, not dropped.

Every score version written gets an entry in the hub's audit log with the run that published it.
When the two stores share a database the entries are written in the publishing transaction; when
they do not, right after it; either way a publish also writes the entries any earlier version of
the period is missing (a crash between the two commits), from the score row itself, which keeps
its run id and time.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.registry import Connector
from connectors.sdk.timeparse import now_utc
from pipelines.amendments import amendment_texts
from pipelines.assignment import Person, Unassigned, assign
from pipelines.facts import current_facts, decimal_text
from pipelines.grading import Graded, grade_cohort
from pipelines.roster import load_people
from pipelines.scoring import FINAL, HELD, FactValue, ScoreResult, score_person
from pipelines.stores import Stores
from quality.holds import finding_id, period_findings
from schemas.facts import MANUAL, MANUAL_ADJUSTMENT, REVISED, TARGET
from schemas.tables import AuditEntry, KpiFactRow, Score, ScoreAdjustment, ScoreComponent
from schemas.templates import ScoringTemplate


def _text(value: Decimal | None) -> str | None:
    return None if value is None else decimal_text(value)


@dataclass(frozen=True)
class ScoreDraft:
    """A person's score ready to publish: the rules' result, the grade within the cohort, the
    corrections behind any corrected fact it read and HR's decisions on the findings touching it
    (to say why a new version exists)."""

    person: Person
    result: ScoreResult
    template_sha256: str
    graded: Graded | None = None
    fact_changes: Mapping[int, str] = field(default_factory=dict)
    releases: Mapping[int, str] = field(default_factory=dict)
    amendments: Mapping[int, str] = field(default_factory=dict)
    """The approved target changes and manual adjustments behind the review facts it read."""

    @property
    def job_number(self) -> str:
        return self.person.job_number

    @property
    def employee_name(self) -> str:
        return self.person.name

    @property
    def department(self) -> str:
        return self.person.department

    @property
    def template(self) -> str:
        return self.result.template

    @property
    def template_version(self) -> str:
        return self.result.template_version

    @property
    def total(self) -> Decimal:
        return self.result.total

    @property
    def status(self) -> str:
        return self.result.status

    @property
    def grade(self) -> str | None:
        return None if self.graded is None else self.graded.grade

    def digest(self) -> str:
        """What a published score depends on; equal digests mean nothing to republish. Rank and
        cohort size are left out: one person's correction must not republish their cohort, only
        the grades it moves."""
        r = self.result
        body = {
            "template": [r.template, r.template_version, self.template_sha256],
            "employee": [self.person.name, self.person.department],
            "status": r.status,
            "hold_reasons": list(r.hold_reasons),
            "grade": self.grade,
            "components": [
                [
                    c.kpi_code,
                    c.status,
                    _text(c.actual),
                    _text(c.target),
                    c.target_source,
                    c.target_fact_id,
                    c.direction,
                    _text(c.cap),
                    _text(c.weight_used),
                    list(c.fact_ids),
                ]
                for c in r.components
            ],
            "adjustments": [
                [a.rule, a.kind, _text(a.value), _text(a.amount), list(a.fact_ids)]
                for a in r.adjustments
            ],
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


@dataclass
class Drafts:
    scores: list[ScoreDraft]
    unassigned: list[Unassigned]


@dataclass
class PublishStats:
    period: str
    scored: int = 0
    published: int = 0
    superseded: int = 0
    unchanged: int = 0
    held: int = 0
    audited: int = 0
    by_grade: dict[str, int] = field(default_factory=dict)
    by_template: dict[str, int] = field(default_factory=dict)
    held_by_reason: dict[str, int] = field(default_factory=dict)
    drafts: list[ScoreDraft] = field(default_factory=list)
    unassigned: list[Unassigned] = field(default_factory=list)


def _kpis_read(templates: Sequence[ScoringTemplate]) -> set[str]:
    codes = {c.kpi for t in templates for c in t.components}
    return codes | {a.kpi for t in templates for a in t.adjustments}


def _actuals(rows: Iterable[KpiFactRow]) -> dict[str, dict[str, FactValue]]:
    """The actual facts by person and KPI. The hub keeps one current fact per person, period and
    KPI (its unique version key spans sources), so there is never a choice to make here."""
    actuals: dict[str, dict[str, FactValue]] = defaultdict(dict)
    for row in rows:
        actuals[row.job_number][row.kpi_code] = FactValue(row.id, row.value)
    return actuals


def grade_drafts(
    drafts: Sequence[ScoreDraft], templates: Mapping[str, ScoringTemplate]
) -> list[ScoreDraft]:
    """Grade each template's final scores of the period as one cohort; held ones stay ungraded."""
    cohorts: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for draft in drafts:
        if draft.status == FINAL:
            cohorts[draft.template][draft.job_number] = draft.total
    graded = {
        code: grade_cohort(templates[code].grading, totals) for code, totals in cohorts.items()
    }
    return [
        replace(
            d, graded=graded.get(d.template, {}).get(d.job_number) if d.status == FINAL else None
        )
        for d in drafts
    ]


def draft_scores(
    session: Session,
    period: str,
    templates: Iterable[ScoringTemplate],
    people: Iterable[Person],
) -> Drafts:
    """Score and grade everyone a template is assigned to, from the current facts of the period;
    an unresolved ERROR finding touching the facts a score read holds it."""
    templates = list(templates)
    assigned, unassigned = assign(templates, people)
    rows = current_facts(session, period, _kpis_read(templates))
    actuals = _actuals(rows)
    target_codes = {c.kpi for t in templates for c in t.components if c.target_from}
    target_rows = current_facts(session, period, target_codes, kind=TARGET)
    targets = {(f.job_number, f.kpi_code, f.source): FactValue(f.id, f.value) for f in target_rows}
    component_codes = {c.kpi for t in templates for c in t.components}
    revised_rows = current_facts(session, period, component_codes, kind=REVISED)
    revised: dict[str, dict[str, FactValue]] = defaultdict(dict)
    for f in revised_rows:
        revised[f.job_number][f.kpi_code] = FactValue(f.id, f.value)
    manual_rows = current_facts(session, period, [MANUAL_ADJUSTMENT], kind=MANUAL)
    manual = {f.job_number: FactValue(f.id, f.value) for f in manual_rows}
    amendments = amendment_texts(session, [f.id for f in [*revised_rows, *manual_rows]])
    every_row = [*rows, *target_rows, *revised_rows, *manual_rows]
    changes = {f.id: f.change_reason for f in every_row if f.change_reason}
    origins = {f.id: (f.source, f.kpi_code) for f in every_row}
    findings = period_findings(session, period)
    drafts: list[ScoreDraft] = []
    for assignment in assigned:
        template, job_number = assignment.template, assignment.person.job_number
        own_targets = {
            c.kpi: targets[(job_number, c.kpi, c.target_from)]
            for c in template.components
            if c.target_from and (job_number, c.kpi, c.target_from) in targets
        }
        own_actuals = actuals.get(job_number, {})
        decided = {
            "revised": revised.get(job_number, {}),
            "manual": manual.get(job_number),
        }
        result = score_person(
            template,
            job_number=job_number,
            period=period,
            actuals=own_actuals,
            targets=own_targets,
            **decided,
        )
        read = {origins[i] for i in result.fact_ids if i in origins}
        holds = findings.holds(job_number, read)
        if holds:
            result = score_person(
                template,
                job_number=job_number,
                period=period,
                actuals=own_actuals,
                targets=own_targets,
                hold_reasons=holds,
                **decided,
            )
        drafts.append(
            ScoreDraft(
                assignment.person,
                result,
                template.content_sha256,
                fact_changes={i: changes[i] for i in result.fact_ids if i in changes},
                releases=findings.releases(job_number, read),
                amendments={i: amendments[i] for i in result.fact_ids if i in amendments},
            )
        )
    by_code = {t.code: t for t in templates}
    return Drafts(grade_drafts(drafts, by_code), unassigned)


def _component_changes(before: Sequence[ScoreComponent], draft: ScoreDraft) -> list[str]:
    reasons: list[str] = []
    prior = {c.kpi_code: c for c in before}
    for c in draft.result.components:
        old = prior.pop(c.kpi_code, None)
        if old is None:
            reasons.append(f"{c.kpi_code} added")
            continue
        if list(old.fact_ids) != list(c.fact_ids) or old.actual != c.actual:
            old_actual = "missing" if old.actual is None else decimal_text(old.actual)
            new_actual = "missing" if c.actual is None else decimal_text(c.actual)
            why = [draft.fact_changes[i] for i in c.fact_ids if i in draft.fact_changes]
            reasons.append(
                f"{c.kpi_code} {old_actual} -> {new_actual} "
                f"(fact {list(old.fact_ids)} -> {list(c.fact_ids)}"
                + (f": {'; '.join(why)})" if why else ")")
            )
        if (old.target, old.target_source, old.target_fact_id) != (
            c.target,
            c.target_source,
            c.target_fact_id,
        ):
            why = draft.amendments.get(c.target_fact_id) if c.target_fact_id else None
            reasons.append(
                f"{c.kpi_code} target {_text(old.target) or 'missing'} "
                f"({old.target_source or 'none'}) -> {_text(c.target) or 'missing'} "
                f"({c.target_source or 'none'})" + (f": {why}" if why else "")
            )
    reasons.extend(f"{kpi_code} removed" for kpi_code in prior)
    return reasons


def _adjustment_changes(before: Sequence[ScoreAdjustment], draft: ScoreDraft) -> list[str]:
    prior = {a.rule: a for a in before}
    reasons: list[str] = []
    for a in draft.result.adjustments:
        old = prior.get(a.rule)
        if old is None or (old.value, list(old.fact_ids)) != (a.value, list(a.fact_ids)):
            old_value = "missing" if old is None or old.value is None else decimal_text(old.value)
            why = [draft.amendments[i] for i in a.fact_ids if i in draft.amendments]
            reasons.append(
                f"{a.kpi_code} {old_value} -> {_text(a.value) or 'missing'}"
                + (f": {'; '.join(why)}" if why else "")
            )
    reasons.extend(
        f"{rule} removed" for rule in prior.keys() - {a.rule for a in draft.result.adjustments}
    )
    return reasons


def why_new_version(
    old: Score,
    components: Sequence[ScoreComponent],
    adjustments: Sequence[ScoreAdjustment],
    draft: ScoreDraft,
) -> str:
    """What changed since the current version, in words: which facts (and the source records
    their correction names), targets, holds, the grade and the template."""
    if (old.template, old.template_version) != (draft.template, draft.template_version):
        return (
            f"template {old.template} {old.template_version} -> "
            f"{draft.template} {draft.template_version}"
        )
    reasons = _component_changes(components, draft) + _adjustment_changes(adjustments, draft)
    if old.template_sha256 != draft.template_sha256:
        reasons.append(
            f"template {draft.template} {draft.template_version} edited (content sha256 "
            f"{(old.template_sha256 or 'unknown')[:12]} -> {draft.template_sha256[:12]})"
        )
    if old.status != draft.status:
        if draft.status == FINAL:
            reasons.append(f"released: no longer held ({'; '.join(old.hold_reasons or [])})")
        else:
            reasons.append(f"held: {'; '.join(draft.result.hold_reasons)}")
    elif list(old.hold_reasons or []) != list(draft.result.hold_reasons):
        reasons.append(f"held: {'; '.join(draft.result.hold_reasons)}")
    released = {finding_id(r) for r in old.hold_reasons or []}
    released -= {finding_id(r) for r in draft.result.hold_reasons}
    reasons.extend(draft.releases[i] for i in sorted(i for i in released if i in draft.releases))
    if old.grade != draft.grade and draft.graded is not None:
        cohort = (
            f"the {draft.template} cohort of {draft.result.period} was graded again "
            f"({draft.graded.cohort_size} final scores, rank {draft.graded.rank})"
        )
        reasons.append(f"grade {old.grade or 'none'} -> {draft.grade}: {cohort}")
    if (old.employee_name, old.department) != (draft.employee_name, draft.department):
        reasons.append("employee details changed")
    return "; ".join(reasons) or "inputs changed"


def _write(session: Session, score: Score, draft: ScoreDraft) -> None:
    for position, c in enumerate(draft.result.components):
        session.add(
            ScoreComponent(
                score_id=score.id,
                position=position,
                kpi_code=c.kpi_code,
                status=c.status,
                actual=c.actual,
                target=c.target,
                target_source=c.target_source,
                target_fact_id=c.target_fact_id,
                direction=c.direction,
                cap=c.cap,
                attainment=c.attainment,
                weight=c.weight,
                weight_used=c.weight_used,
                points=c.points,
                fact_ids=list(c.fact_ids),
                note=c.note,
            )
        )
    for position, a in enumerate(draft.result.adjustments):
        session.add(
            ScoreAdjustment(
                score_id=score.id,
                position=position,
                rule=a.rule,
                kind=a.kind,
                kpi_code=a.kpi_code,
                value=a.value,
                applied=a.applied,
                amount=a.amount,
                fact_ids=list(a.fact_ids),
                note=a.note,
            )
        )


AUDIT_ACTION = "score.published"


def audit_subject(job_number: str, period: str, version: int) -> str:
    """``E00001/2026-10/v2``: one audit entry per score version."""
    return f"{job_number}/{period}/v{version}"


def audit_scores(hr: Session, hub: Session, period: str) -> int:
    """Add the audit entry of every score version of the period that has none yet; the entry
    carries the run id and time of the publish that wrote the version."""
    versions = {
        audit_subject(s.job_number, s.period, s.version): s
        for s in hr.scalars(select(Score).where(Score.period == period).order_by(Score.id))
    }
    subjects = list(versions)
    known: set[str] = set()
    for start in range(0, len(subjects), 500):
        known.update(
            hub.scalars(
                select(AuditEntry.subject).where(
                    AuditEntry.action == AUDIT_ACTION,
                    AuditEntry.subject.in_(subjects[start : start + 500]),
                )
            )
        )
    superseded = {s.superseded_by: s.id for s in versions.values() if s.superseded_by is not None}
    added = 0
    for subject, s in versions.items():
        if subject in known:
            continue
        hub.add(
            AuditEntry(
                at=s.published_at,
                run_id=s.run_id,
                action=AUDIT_ACTION,
                subject=subject,
                detail={
                    "score_id": s.id,
                    "version": s.version,
                    "supersedes_score_id": superseded.get(s.id),
                    "template": s.template,
                    "template_version": s.template_version,
                    "total": decimal_text(s.total),
                    "grade": s.grade,
                    "status": s.status,
                    "hold_reasons": list(s.hold_reasons or []),
                    "reason": s.reason,
                },
            )
        )
        added += 1
    return added


def publish(stores: Stores, drafts: Drafts, period: str, run_id: str) -> PublishStats:
    """Write new score versions for drafts whose inputs changed since the current version, in
    one transaction: a crash leaves the period as it was."""
    stats = PublishStats(
        period=period, scored=len(drafts.scores), drafts=drafts.scores, unassigned=drafts.unassigned
    )
    now = now_utc()
    with Session(stores.hr) as session, session.begin():
        current = {
            s.job_number: s
            for s in session.scalars(
                select(Score).where(Score.period == period, Score.is_current.is_(True))
            )
        }
        for draft in drafts.scores:
            digest = draft.digest()
            old = current.get(draft.job_number)
            if old is not None and old.inputs_sha256 == digest:
                stats.unchanged += 1
                continue
            reason = None
            if old is not None:
                reason = why_new_version(
                    old,
                    session.scalars(
                        select(ScoreComponent)
                        .where(ScoreComponent.score_id == old.id)
                        .order_by(ScoreComponent.position)
                    ).all(),
                    session.scalars(
                        select(ScoreAdjustment)
                        .where(ScoreAdjustment.score_id == old.id)
                        .order_by(ScoreAdjustment.position)
                    ).all(),
                    draft,
                )
                old.is_current = False
                session.flush()
            score = Score(
                job_number=draft.job_number,
                employee_name=draft.employee_name,
                department=draft.department,
                period=period,
                template=draft.template,
                template_version=draft.template_version,
                template_sha256=draft.template_sha256,
                subtotal=draft.result.subtotal,
                total=draft.total,
                grade=draft.grade,
                status=draft.status,
                hold_reasons=list(draft.result.hold_reasons),
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
            _write(session, score, draft)
            stats.published += 1
        if stores.hub is stores.hr:
            stats.audited = audit_scores(session, session, period)
    if stores.hub is not stores.hr:
        with Session(stores.hr) as hr, Session(stores.hub) as hub, hub.begin():
            stats.audited = audit_scores(hr, hub, period)
    held = [d for d in drafts.scores if d.status == HELD]
    stats.held = len(held)
    stats.held_by_reason = dict(
        sorted(Counter(r for d in held for r in d.result.hold_reasons).items())
    )
    stats.by_grade = dict(sorted(Counter(d.grade or HELD for d in drafts.scores).items()))
    stats.by_template = dict(sorted(Counter(d.template for d in drafts.scores).items()))
    return stats


def score_period(
    stores: Stores,
    period: str,
    templates: list[ScoringTemplate],
    connectors: Mapping[str, Connector],
    run_id: str,
) -> PublishStats:
    """Score everyone a template is assigned to from the period's current facts, and publish."""
    with Session(stores.hub) as session:
        drafts = draft_scores(session, period, templates, load_people(session, connectors))
    return publish(stores, drafts, period, run_id)
