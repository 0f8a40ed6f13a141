"""Target changes and manual adjustments: how a score changes when people, not the sources,
decide it should.

A manager proposes a new target for one KPI of a person's month ("把销售额目标10万调整为8万"),
with a reason; HR approves or rejects it, and never their own proposal. HR adds a bonus or a
deduction to a score (a manager too when the score's template allows it, and then HR approves
it). An approved change is landed as a source record of its own (source ``review``, the approval
as its payload: who proposed, who approved, when, why) and becomes a fact whose lineage is that
record: a ``revised`` target, which outranks the ERP's and the template's, or the person's
``manual`` adjustment points, the sum of their approved adjustments. The next scoring run
restates the score with the change as its reason, and a trace reader recomputes the total from
the trace as before.

Every proposal and decision is one audit entry with actor, before, after and reason. An amended
appeal points at the change it makes; a rejected change reopens that appeal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.sdk.timeparse import now_utc
from pipelines.facts import FactStats, decimal_text, fact_inputs, save_facts
from pipelines.landing import land_records
from pipelines.leases import stream_lease
from pipelines.review import (
    APPEALED,
    ARCHIVED,
    OPEN,
    Actor,
    ReviewError,
    _audit,
    _current,
    _row,
    _sessions,
    managing_others,
    open_appeal,
    state_of,
)
from pipelines.review_notices import send_notice
from pipelines.stores import Stores
from schemas.catalog import load_catalog
from schemas.envelope import RawRecord
from schemas.facts import MANUAL, MANUAL_ADJUSTMENT, REVIEW_SOURCE, REVISED, Fact
from schemas.settings import get_settings
from schemas.tables import Appeal, KpiFactRow, RawRecordVersion, ScoreChange, ScoreComponent
from schemas.templates import ManualAdjustments, load_templates

TARGET_CHANGE, ADJUSTMENT = "target", "adjustment"
KINDS = (TARGET_CHANGE, ADJUSTMENT)
PROPOSED, APPROVED, REJECTED = "proposed", "approved", "rejected"
STATUSES = (PROPOSED, APPROVED, REJECTED)
STREAMS = {TARGET_CHANGE: "target_changes", ADJUSTMENT: "manual_adjustments"}
LABELS = {TARGET_CHANGE: "target change", ADJUSTMENT: "manual adjustment"}
POINTS_UNIT = "points"
LARGEST = Decimal(10) ** 12
"""No target or adjustment is this large: a number past it is a typing mistake."""


def _number(text: str | Decimal, what: str, decimals: int) -> Decimal:
    """A number as typed, refused (never rounded) when it has more decimals than the KPI keeps
    or is not a sane magnitude."""
    try:
        value = text if isinstance(text, Decimal) else Decimal(str(text).strip())
    except InvalidOperation:
        raise ReviewError(f"{what} {str(text).strip()!r} is not a number") from None
    if not value.is_finite():
        raise ReviewError(f"{what} {text} is not a number")
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > decimals:
        raise ReviewError(f"{what} {text} has more than {decimals} decimal(s)")
    if abs(value) >= LARGEST:
        raise ReviewError(f"{what} {text} is too large")
    return value


def policy_of(template_code: str) -> ManualAdjustments:
    folder = get_settings().templates_dir
    if folder is not None:
        for template in load_templates(folder):
            if template.code == template_code:
                return template.manual_adjustments
    return ManualAdjustments()


def view(change: ScoreChange) -> dict[str, Any]:
    """A change as the CLI's ``--json``, the portal and the approval record show it."""
    return {
        "id": change.id,
        "kind": change.kind,
        "job_number": change.job_number,
        "period": change.period,
        "kpi_code": change.kpi_code,
        "old_value": None if change.old_value is None else decimal_text(change.old_value),
        "value": decimal_text(change.value),
        "reason": change.reason,
        "appeal_id": change.appeal_id,
        "status": change.status,
        "proposed_by": change.proposed_by,
        "proposed_at": change.proposed_at.isoformat(),
        "decided_by": change.decided_by,
        "decided_at": change.decided_at.isoformat() if change.decided_at else None,
        "decision_note": change.decision_note,
    }


def _propose(
    stores: Stores,
    actor: Actor,
    kind: str,
    job_number: str,
    period: str,
    kpi_code: str | None,
    value: Decimal,
    reason: str,
    answer: str | None,
) -> dict[str, Any]:
    """Record a proposal (approved at once when HR adds an adjustment), after the checks that
    need the current score: it exists, is not archived, and the KPI is one of its components.
    With ``answer`` the proposal is also the amendment of the score's open appeal."""
    if not reason.strip():
        raise ReviewError("a change needs a reason")
    now = now_utc()
    with _sessions(stores) as (hr, hub):
        score = _current(hr, job_number, period)
        state = state_of(score, _row(hr, job_number, period))
        if state == ARCHIVED:
            raise ReviewError(f"the score of {job_number} for {period} is archived")
        old_value: Decimal | None = None
        if kind == TARGET_CHANGE:
            component = hr.scalar(
                select(ScoreComponent).where(
                    ScoreComponent.score_id == score.id, ScoreComponent.kpi_code == kpi_code
                )
            )
            if component is None:
                raise ReviewError(
                    f"{kpi_code} is not a component of the {score.template} score of "
                    f"{job_number} for {period}"
                )
            old_value = component.target
            if old_value is not None and old_value == value:
                raise ReviewError(f"the {kpi_code} target of {job_number} is {value} already")
        else:
            policy = policy_of(score.template)
            if actor.role != "hr" and not policy.by_managers:
                raise ReviewError(
                    f"the {score.template} template lets only HR adjust a score by hand"
                )
            if value == 0 or abs(value) > policy.max_points:
                raise ReviewError(
                    f"an adjustment is between -{policy.max_points} and {policy.max_points} "
                    f"points and not 0, not {decimal_text(value)}"
                )
        waiting = hr.scalar(
            select(ScoreChange.id).where(
                ScoreChange.job_number == job_number,
                ScoreChange.period == period,
                ScoreChange.kind == kind,
                ScoreChange.kpi_code.is_(None)
                if kpi_code is None
                else ScoreChange.kpi_code == kpi_code,
                ScoreChange.status == PROPOSED,
            )
        )
        if waiting is not None:
            raise ReviewError(f"change {waiting} on this is waiting for HR's decision already")
        appeal = None
        if answer is not None:
            if state != APPEALED:
                raise ReviewError(
                    f"the score of {job_number} for {period} is {state}, not {APPEALED}"
                )
            if not answer.strip():
                raise ReviewError("an answer to an appeal needs a text")
            appeal = open_appeal(hr, job_number, period)
        approved_at_once = kind == ADJUSTMENT and actor.role == "hr"
        change = ScoreChange(
            kind=kind,
            job_number=job_number,
            period=period,
            kpi_code=kpi_code,
            old_value=old_value,
            value=value,
            reason=reason.strip(),
            appeal_id=None if appeal is None else appeal.id,
            status=APPROVED if approved_at_once else PROPOSED,
            proposed_by=actor.job_number,
            proposed_at=now,
            decided_by=actor.job_number if approved_at_once else None,
            decided_at=now if approved_at_once else None,
        )
        hr.add(change)
        hr.flush()
        _audit(
            hub, f"{kind}.proposed", job_number, period, actor.job_number,
            _before(change), decimal_text(value), change.reason, change_id=change.id,
            kpi_code=kpi_code, status=change.status,
        )  # fmt: skip
        if appeal is not None and answer is not None:
            appeal.status, appeal.answer = "amended", answer.strip()
            appeal.answered_by, appeal.answered_at = actor.job_number, now
            appeal.change_id = change.id
            _audit(
                hub, "appeal.amended", job_number, period, actor.job_number, APPEALED, APPEALED,
                appeal.answer, appeal_id=appeal.id, change_id=change.id,
                score_version=score.version,
            )  # fmt: skip
        result = view(change)
        notice = None if appeal is None else (score.version, appeal.id)
    if notice is not None:
        send_notice(stores.hub, "appeal.amended", job_number, period, *notice)
    if result["status"] == APPROVED:
        land_changes(stores, period, f"change-{result['id']}")
    return result


def _before(change: ScoreChange) -> str:
    if change.kind == TARGET_CHANGE:
        return "template" if change.old_value is None else decimal_text(change.old_value)
    return "0"


def propose_target(
    stores: Stores,
    actor: Actor,
    job_number: str,
    period: str,
    kpi_code: str,
    value: str | Decimal,
    reason: str,
    answer: str | None = None,
) -> dict[str, Any]:
    """A manager (or HR) proposes a new target for one KPI of a person's month; HR decides."""
    managing_others(
        actor,
        job_number,
        "propose a target change",
        "propose a target change for their own score",
    )
    catalog = load_catalog()
    if kpi_code not in catalog:
        raise ReviewError(f"unknown KPI {kpi_code!r}")
    target = _number(value, "a target", catalog.get(kpi_code).decimals)
    if target <= 0:
        raise ReviewError(f"a target is positive, not {decimal_text(target)}")
    return _propose(
        stores, actor, TARGET_CHANGE, job_number, period, kpi_code, target, reason, answer
    )


def add_adjustment(
    stores: Stores,
    actor: Actor,
    job_number: str,
    period: str,
    points: str | Decimal,
    reason: str,
    answer: str | None = None,
) -> dict[str, Any]:
    """HR adds a bonus (positive points) or a deduction (negative) to a score, approved at once;
    a manager may propose one when the score's template allows it, for HR to approve."""
    managing_others(actor, job_number, "adjust a score", "adjust their own score")
    amount = _number(points, "an adjustment of", 2)
    return _propose(stores, actor, ADJUSTMENT, job_number, period, None, amount, reason, answer)


def _pending(hr: Session, change_id: int) -> ScoreChange:
    change = hr.scalar(select(ScoreChange).where(ScoreChange.id == change_id).with_for_update())
    if change is None:
        raise ReviewError(f"there is no change {change_id}")
    if change.status != PROPOSED:
        raise ReviewError(f"change {change_id} is {change.status} already")
    return change


def decide(
    stores: Stores,
    actor: Actor,
    change_id: int,
    approve: bool,
    note: str | None = None,
    kind: str | None = None,
) -> dict[str, Any]:
    """HR approves or rejects a proposed change; an approval lands it as a fact at once, so the
    next scoring run restates the score, and a rejection reopens the appeal it was to amend."""
    if actor.role != "hr":
        raise ReviewError("only HR may approve or reject a change")
    if not approve and not (note or "").strip():
        raise ReviewError("rejecting a change needs a note saying why")
    with _sessions(stores) as (hr, hub):
        change = _pending(hr, change_id)
        if kind is not None and change.kind != kind:
            raise ReviewError(
                f"change {change_id} is a {LABELS[change.kind]}, not a {LABELS[kind]}"
            )
        if change.proposed_by == actor.job_number:
            raise ReviewError(f"change {change_id} is your own proposal: another HR decides it")
        change.status = APPROVED if approve else REJECTED
        change.decided_by, change.decided_at = actor.job_number, now_utc()
        change.decision_note = (note or "").strip() or None
        _audit(
            hub, f"{change.kind}.{change.status}", change.job_number, change.period,
            actor.job_number, PROPOSED, change.status, change.decision_note,
            change_id=change.id, kpi_code=change.kpi_code, value=decimal_text(change.value),
        )  # fmt: skip
        if not approve and change.appeal_id is not None:
            appeal = hr.scalar(select(Appeal).where(Appeal.id == change.appeal_id))
            if appeal is not None and appeal.change_id == change.id and appeal.status == "amended":
                appeal.status, appeal.change_id = OPEN, None
                _audit(
                    hub, "appeal.reopened", change.job_number, change.period, actor.job_number,
                    "amended", OPEN, f"change {change.id} was rejected: {change.decision_note}",
                    appeal_id=appeal.id, change_id=change.id,
                )  # fmt: skip
        result = view(change)
    if approve:
        land_changes(stores, result["period"], f"change-{change_id}")
    return result


def list_changes(
    stores: Stores,
    period: str | None = None,
    status: str | None = None,
    job_number: str | None = None,
    kind: str | None = None,
) -> list[dict[str, Any]]:
    """The changes asked for, newest first."""
    query = select(ScoreChange).order_by(ScoreChange.id.desc())
    if period is not None:
        query = query.where(ScoreChange.period == period)
    if status is not None:
        query = query.where(ScoreChange.status == status)
    if job_number is not None:
        query = query.where(ScoreChange.job_number == job_number)
    if kind is not None:
        query = query.where(ScoreChange.kind == kind)
    with Session(stores.hr) as hr:
        return [view(c) for c in hr.scalars(query)]


def approval_record(change: ScoreChange, extracted_at: datetime) -> RawRecord:
    """The approved change as a source record: what a trace shows as the target's or the
    adjustment's origin."""
    payload = view(change)
    return RawRecord.wrap(
        source=REVIEW_SOURCE,
        stream=STREAMS[change.kind],
        record_key=str(change.id),
        payload=payload,
        source_updated_at=change.decided_at,
        extracted_at=extracted_at,
    )


def _version_ids(hub: Session, records: Iterable[RawRecord]) -> dict[str, int]:
    by_stream: dict[str, list[RawRecord]] = defaultdict(list)
    for record in records:
        by_stream[record.stream].append(record)
    found: dict[str, int] = {}
    for stream, items in by_stream.items():
        wanted = {r.record_key: r.payload_sha256 for r in items}
        for version_id, key, sha in hub.execute(
            select(
                RawRecordVersion.id, RawRecordVersion.record_key, RawRecordVersion.payload_sha256
            ).where(
                RawRecordVersion.source == REVIEW_SOURCE,
                RawRecordVersion.stream == stream,
                RawRecordVersion.record_key.in_(list(wanted)),
            )
        ):
            if wanted.get(key) == sha:
                found[f"{stream}/{key}"] = version_id
    return found


def land_changes(stores: Stores, period: str, run_id: str) -> FactStats:
    """Make the approved changes of ``period`` the hub's review facts: each approval landed as a
    record, the newest approved target per person and KPI a ``revised`` target fact, each
    person's approved adjustments summed into one ``manual`` fact. Landing the same approvals
    again adds nothing, so a scoring run calls this too and heals an approval whose facts a
    crash kept from landing."""
    with Session(stores.hr) as hr:
        changes = list(
            hr.scalars(
                select(ScoreChange)
                .where(ScoreChange.period == period, ScoreChange.status == APPROVED)
                .order_by(ScoreChange.decided_at, ScoreChange.id)
            )
        )
    now = now_utc()
    catalog = load_catalog()
    lease = stream_lease(stores.hub, REVIEW_SOURCE, period, run_id)
    with lease, Session(stores.hub) as hub, hub.begin():
        records = {c.id: approval_record(c, now) for c in changes}
        for kind in KINDS:
            batch = [records[c.id] for c in changes if c.kind == kind]
            land_records(hub, batch, run_id, now)
        versions = _version_ids(hub, records.values())
        targets: dict[tuple[str, str], ScoreChange] = {}
        adjustments: dict[str, list[ScoreChange]] = defaultdict(list)
        for change in changes:
            if change.kind == TARGET_CHANGE and change.kpi_code is not None:
                targets[(change.job_number, change.kpi_code)] = change  # newest wins
            elif change.kind == ADJUSTMENT:
                adjustments[change.job_number].append(change)

        def inputs(items: Iterable[ScoreChange]) -> tuple[int, ...]:
            return tuple(versions[f"{STREAMS[c.kind]}/{c.id}"] for c in items)

        facts = [
            Fact(
                job,
                period,
                kpi,
                c.value,
                catalog.get(kpi).unit,
                REVIEW_SOURCE,
                inputs([c]),
                REVISED,
            )
            for (job, kpi), c in targets.items()
        ]
        facts += [
            Fact(
                job,
                period,
                MANUAL_ADJUSTMENT,
                sum((c.value for c in items), Decimal(0)),
                POINTS_UNIT,
                REVIEW_SOURCE,
                inputs(items),
                MANUAL,
            )
            for job, items in adjustments.items()
        ]
        codes = {f.kpi_code for f in facts} | set(
            hub.scalars(
                select(KpiFactRow.kpi_code).where(
                    KpiFactRow.period == period,
                    KpiFactRow.source == REVIEW_SOURCE,
                    KpiFactRow.is_current.is_(True),
                )
            )
        )
        return save_facts(
            hub, source=REVIEW_SOURCE, period=period, kpi_codes=codes, facts=facts, run_id=run_id
        )


def amendment_texts(hub: Session, fact_ids: Iterable[int]) -> dict[int, str]:
    """For each review fact among ``fact_ids``, the approvals behind it in words: what a new
    score version gives as its reason."""
    ids = list(fact_ids)
    if not ids:
        return {}
    review_ids = list(
        hub.scalars(
            select(KpiFactRow.id).where(KpiFactRow.id.in_(ids), KpiFactRow.source == REVIEW_SOURCE)
        )
    )
    edges = fact_inputs(hub, review_ids)
    payloads = {
        v.id: v.payload
        for v in hub.scalars(
            select(RawRecordVersion).where(
                RawRecordVersion.id.in_(sorted({x for xs in edges.values() for x in xs}))
            )
        )
    }
    texts: dict[int, str] = {}
    for fact_id, version_ids in edges.items():
        texts[fact_id] = "; ".join(describe(payloads[v]) for v in sorted(version_ids))
    return texts


def describe(payload: dict[str, Any]) -> str:
    """``target change 3 approved by E00002 (proposed by E00010): 客户流失``."""
    what = LABELS[payload["kind"]]
    if payload["kind"] == ADJUSTMENT:
        what += f" {payload['value']} points"
    by = payload["decided_by"]
    proposer = "" if payload["proposed_by"] == by else f" (proposed by {payload['proposed_by']})"
    return f"{what} {payload['id']} approved by {by}{proposer}: {payload['reason']}"
