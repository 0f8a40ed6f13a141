"""The review cycle of a published score: the manager reviews it (or returns it to HR), the
employee confirms it or appeals, an appeal is answered, HR archives the confirmed score.

States: ``final`` -> ``reviewed`` | ``returned``; ``reviewed`` -> ``confirmed`` | ``appealed``;
``appealed`` -> ``reviewed`` (upheld) or, once amended, a new score version; ``confirmed`` ->
``archived``; ``returned`` -> ``final`` (HR reopens it). A held score cannot be reviewed. A new
score version (a correction) puts the score back at ``final``: the earlier steps stay in the
audit log. A reviewed score the employee leaves alone is confirmed when its deadline (working
days in Asia/Shanghai) passes, and the audit log says it was the deadline.

Every step is one audit entry (actor, before, after, reason); a refused step changes nothing and
says why in one line. Who may act on whose score (scope) is checked by the caller: the portal by
the directory, the CLI is HR's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connectors.sdk.timeparse import now_utc
from pipelines.scoring import HELD
from pipelines.stores import Stores
from schemas.tables import Appeal, AuditEntry, Score, ScoreChange, ScoreReview

SHANGHAI = ZoneInfo("Asia/Shanghai")
FINAL, REVIEWED, RETURNED = "final", "reviewed", "returned"
CONFIRMED, APPEALED, ARCHIVED = "confirmed", "appealed", "archived"
STATES = (FINAL, REVIEWED, RETURNED, CONFIRMED, APPEALED, ARCHIVED)
OPEN, UPHELD, AMENDED = "open", "upheld", "amended"
OUTCOMES = (UPHELD, AMENDED)
DEADLINE = "deadline"
"""The actor of a silent confirmation: nobody did it, the deadline did."""
REVIEW_RUN = "review"

Role = Literal["hr", "leader", "employee"]


class ReviewError(ValueError):
    """A step that cannot be taken; the message says which score and why."""


@dataclass(frozen=True)
class Actor:
    job_number: str
    role: Role

    @property
    def manages(self) -> bool:
        return self.role in ("hr", "leader")


def working_days_after(moment: datetime, days: int) -> datetime:
    """The end (midnight, Asia/Shanghai) of the ``days``-th working day (Monday to Friday) after
    the day of ``moment``: a score reviewed on a Friday afternoon is due at the end of the next
    Friday when ``days`` is 5."""
    day = moment.astimezone(SHANGHAI).date()
    left = days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI)


@contextmanager
def _sessions(stores: Stores) -> Iterator[tuple[Session, Session]]:
    """The HR session and the hub session of one step, one transaction when the stores share a
    database; otherwise the audit entry is written right after the HR change commits."""
    if stores.hub is stores.hr:
        with Session(stores.hr) as session, session.begin():
            yield session, session
        return
    with Session(stores.hr) as hr, Session(stores.hub) as hub:
        with hr.begin():
            yield hr, hub
        hub.commit()


def _audit(
    hub: Session,
    action: str,
    job_number: str,
    period: str,
    actor: str,
    before: str,
    after: str,
    reason: str | None,
    **detail: Any,
) -> None:
    hub.add(
        AuditEntry(
            at=now_utc(),
            run_id=REVIEW_RUN,
            action=action,
            subject=f"{job_number}/{period}",
            detail={"actor": actor, "before": before, "after": after, "reason": reason, **detail},
        )
    )


def _current(hr: Session, job_number: str, period: str) -> Score:
    score = hr.scalar(
        select(Score).where(
            Score.job_number == job_number, Score.period == period, Score.is_current.is_(True)
        )
    )
    if score is None:
        raise ReviewError(f"job number {job_number} has no published score for {period}")
    return score


def _row(hr: Session, job_number: str, period: str) -> ScoreReview | None:
    return hr.scalar(
        select(ScoreReview)
        .where(ScoreReview.job_number == job_number, ScoreReview.period == period)
        .with_for_update()
    )


def state_of(score: Score, row: ScoreReview | None) -> str:
    """The state the current version stands at: a newer version than the one reviewed is
    ``final`` again."""
    if row is None or row.score_version != score.version:
        return FINAL
    return row.state


@dataclass
class Step:
    """One step being taken on one score, inside its transaction."""

    hr: Session
    hub: Session
    score: Score
    row: ScoreReview | None
    actor: str
    notices: list[tuple[str, int, int | None, str]] = field(default_factory=list)
    """Work notifications to queue once the step is committed (a refused step tells nobody)."""

    @property
    def state(self) -> str:
        return state_of(self.score, self.row)

    def move(
        self,
        action: str,
        to: str,
        reason: str | None,
        confirm_by: datetime | None = None,
        **detail: Any,
    ) -> None:
        before = self.state
        if self.row is not None and self.row.score_version != self.score.version:
            _audit(
                self.hub,
                "review.reset",
                self.score.job_number,
                self.score.period,
                "kpihub",
                self.row.state,
                FINAL,
                f"score version {self.score.version} replaced version {self.row.score_version}",
            )
        now = now_utc()
        if self.row is None:
            self.row = ScoreReview(job_number=self.score.job_number, period=self.score.period)
            self.hr.add(self.row)
        self.row.score_version = self.score.version
        self.row.state = to
        self.row.confirm_by = confirm_by
        self.row.comment = reason
        self.row.updated_by = self.actor
        self.row.updated_at = now
        _audit(
            self.hub,
            action,
            self.score.job_number,
            self.score.period,
            self.actor,
            before,
            to,
            reason,
            score_version=self.score.version,
            **detail,
        )
        due = confirm_by.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if confirm_by else ""
        self.notices.append((action, self.score.version, detail.get("appeal_id"), due))


@contextmanager
def _step(stores: Stores, job_number: str, period: str, actor: str) -> Iterator[Step]:
    try:
        with _sessions(stores) as (hr, hub):
            score = _current(hr, job_number, period)
            step = Step(hr, hub, score, _row(hr, job_number, period), actor)
            yield step
    except IntegrityError:
        raise ReviewError(
            f"the score of {job_number} for {period} was changed by someone else at the same "
            "time; look at it again"
        ) from None
    from pipelines.review_notices import send_notice  # the senders load only when one is sent

    for action, version, appeal_id, due in step.notices:
        send_notice(stores.hub, action, job_number, period, version, appeal_id, due)


def _expect(step: Step, *states: str) -> None:
    if step.score.status == HELD:
        reasons = "; ".join(step.score.hold_reasons or []) or "held"
        raise ReviewError(
            f"the score of {step.score.job_number} for {step.score.period} is held and cannot "
            f"be reviewed ({reasons})"
        )
    if step.state not in states:
        raise ReviewError(
            f"the score of {step.score.job_number} for {step.score.period} is {step.state}, "
            f"not {' or '.join(states)}"
        )


def managing_others(actor: Actor, job_number: str, anyone: str, own: str) -> None:
    """Refuse a step only a manager or HR may take, and nobody on their own score: ``anyone``
    and ``own`` say the step both ways ("review a score", "review their own score")."""
    if not actor.manages:
        raise ReviewError(f"only a manager or HR may {anyone}")
    if actor.job_number == job_number:
        raise ReviewError(f"nobody may {own}")


def approve(
    stores: Stores,
    actor: Actor,
    job_number: str,
    period: str,
    comment: str | None = None,
    working_days: int = 5,
) -> str:
    """The manager approves the score; the employee then has ``working_days`` to confirm or
    appeal. Returns the new state."""
    managing_others(actor, job_number, "review a score", "review their own score")
    with _step(stores, job_number, period, actor.job_number) as step:
        _expect(step, FINAL)
        step.move("review.approve", REVIEWED, comment, working_days_after(now_utc(), working_days))
    return REVIEWED


def send_back(stores: Stores, actor: Actor, job_number: str, period: str, comment: str) -> str:
    """The manager returns the score to HR, saying why."""
    managing_others(actor, job_number, "return a score to HR", "return their own score to HR")
    if not comment.strip():
        raise ReviewError("returning a score to HR needs a comment saying why")
    with _step(stores, job_number, period, actor.job_number) as step:
        _expect(step, FINAL)
        step.move("review.return", RETURNED, comment)
    return RETURNED


def reopen(stores: Stores, actor: Actor, job_number: str, period: str, comment: str) -> str:
    """HR puts a returned score back for review (after looking into it)."""
    if actor.role != "hr":
        raise ReviewError("only HR may reopen a returned score")
    with _step(stores, job_number, period, actor.job_number) as step:
        _expect(step, RETURNED)
        step.move("review.reopen", FINAL, comment)
    return FINAL


def confirm(stores: Stores, actor: Actor, job_number: str, period: str) -> str:
    """The employee confirms (签字确认) their reviewed score."""
    if actor.job_number != job_number:
        raise ReviewError("only the employee may confirm their own score")
    with _step(stores, job_number, period, actor.job_number) as step:
        _expect(step, REVIEWED)
        step.move("review.confirm", CONFIRMED, None)
    return CONFIRMED


def file_appeal(
    stores: Stores,
    actor: Actor,
    job_number: str,
    period: str,
    reason: str,
    kpi_code: str | None = None,
    record_key: str | None = None,
) -> int:
    """The employee appeals (申诉) a reviewed score, optionally pointing at one component or one
    source record of its trace. Returns the appeal's id."""
    if actor.job_number != job_number:
        raise ReviewError("only the employee may appeal their own score")
    if not reason.strip():
        raise ReviewError("an appeal needs a reason")
    with _step(stores, job_number, period, actor.job_number) as step:
        _expect(step, REVIEWED)
        appeal = Appeal(
            job_number=job_number,
            period=period,
            score_version=step.score.version,
            reason=reason,
            kpi_code=kpi_code or None,
            record_key=record_key or None,
            filed_by=actor.job_number,
            filed_at=now_utc(),
            status=OPEN,
        )
        step.hr.add(appeal)
        step.hr.flush()
        step.move(
            "review.appeal",
            APPEALED,
            reason,
            appeal_id=appeal.id,
            kpi_code=appeal.kpi_code,
            record_key=appeal.record_key,
        )
        return appeal.id


def answer_appeal(
    stores: Stores,
    actor: Actor,
    job_number: str,
    period: str,
    outcome: str,
    answer: str,
    working_days: int = 5,
    change_id: int | None = None,
) -> str:
    """The manager or HR answers the open appeal. ``upheld``: the score stands and is reviewed
    again (a fresh deadline). ``amended``: the score changes through the target change or
    manual adjustment ``change_id`` names, never a typed-over number; it stays appealed until
    the new version carrying the approved change is published, which is then ``reviewed``
    again (see :func:`carry_amendments`)."""
    managing_others(actor, job_number, "answer an appeal", "answer an appeal on their own score")
    if outcome not in OUTCOMES:
        raise ReviewError(f"an appeal's outcome is one of {', '.join(OUTCOMES)}, not {outcome!r}")
    if not answer.strip():
        raise ReviewError("an answer to an appeal needs a text")
    with _step(stores, job_number, period, actor.job_number) as step:
        _expect(step, APPEALED)
        appeal = open_appeal(step.hr, job_number, period)
        if outcome == AMENDED:
            appeal.change_id = _amendment(step.hr, job_number, period, change_id)
        appeal.status = outcome
        appeal.answer = answer
        appeal.answered_by = actor.job_number
        appeal.answered_at = now_utc()
        if outcome == UPHELD:
            deadline = working_days_after(now_utc(), working_days)
            step.move("appeal.upheld", REVIEWED, answer, deadline, appeal_id=appeal.id)
        else:
            step.move("appeal.amended", APPEALED, answer, appeal_id=appeal.id, change_id=change_id)
        return step.state


def _amendment(hr: Session, job_number: str, period: str, change_id: int | None) -> int:
    """The change an amended answer makes: one proposed or approved for this very score."""
    if change_id is None:
        raise ReviewError(
            "an amended answer names the target change or manual adjustment it makes: "
            "propose one first"
        )
    change = hr.scalar(select(ScoreChange).where(ScoreChange.id == change_id))
    if change is None or (change.job_number, change.period) != (job_number, period):
        raise ReviewError(
            f"there is no change {change_id} on the score of {job_number} for {period}"
        )
    if change.status == "rejected":
        raise ReviewError(f"change {change_id} was rejected")
    return change.id


def open_appeal(hr: Session, job_number: str, period: str) -> Appeal:
    """The score's appeal waiting for an answer; refused when there is none."""
    appeal = hr.scalar(
        select(Appeal)
        .where(Appeal.job_number == job_number, Appeal.period == period, Appeal.status == OPEN)
        .order_by(Appeal.id.desc())
        .limit(1)
    )
    if appeal is None:
        raise ReviewError(f"the score of {job_number} for {period} has no open appeal")
    return appeal


def archive(stores: Stores, actor: Actor, job_number: str, period: str) -> str:
    """HR archives a confirmed score: the month's result is final for the record."""
    if actor.role != "hr":
        raise ReviewError("only HR may archive a score")
    with _step(stores, job_number, period, actor.job_number) as step:
        _expect(step, CONFIRMED)
        step.move("review.archive", ARCHIVED, None)
    return ARCHIVED


def confirm_overdue(stores: Stores, now: datetime | None = None) -> list[tuple[str, str]]:
    """Confirm every reviewed score whose deadline has passed; the audit log names the deadline
    as the actor. Returns the (job number, period) confirmed."""
    moment = now or now_utc()
    with Session(stores.hr) as hr:
        due = [
            (r.job_number, r.period)
            for r in hr.scalars(
                select(ScoreReview).where(
                    ScoreReview.state == REVIEWED, ScoreReview.confirm_by <= moment
                )
            )
        ]
    confirmed: list[tuple[str, str]] = []
    for job_number, period in due:
        with _step(stores, job_number, period, DEADLINE) as step:
            if step.state != REVIEWED or step.row is None or step.row.confirm_by is None:
                continue  # confirmed, appealed or corrected meanwhile
            if step.row.confirm_by > moment:
                continue
            deadline = step.row.confirm_by.isoformat()
            step.move("review.confirm", CONFIRMED, f"deadline {deadline} passed", deadline=True)
            confirmed.append((job_number, period))
    return confirmed


def carry_amendments(
    stores: Stores, period: str, working_days: int = 5, now: datetime | None = None
) -> list[tuple[str, str]]:
    """Put back at ``reviewed`` every appealed score of ``period`` whose appeal was answered
    ``amended`` and whose new version was published after the amendment was approved: the
    manager already reviewed the change when they made it, so the employee confirms or appeals
    the restated score, with a fresh deadline. Returns the (job number, period) moved."""
    moment = now or now_utc()
    with Session(stores.hr) as hr:
        candidates = [
            (r.job_number, a.id, a.change_id)
            for r, a in hr.execute(
                select(ScoreReview, Appeal)
                .join(
                    Appeal,
                    (Appeal.job_number == ScoreReview.job_number)
                    & (Appeal.period == ScoreReview.period),
                )
                .where(
                    ScoreReview.period == period,
                    ScoreReview.state == APPEALED,
                    Appeal.status == AMENDED,
                    Appeal.change_id.is_not(None),
                    Appeal.score_version == ScoreReview.score_version,
                )
            )
        ]
    moved: list[tuple[str, str]] = []
    for job_number, appeal_id, change_id in candidates:
        with _step(stores, job_number, period, "kpihub") as step:
            change = step.hr.scalar(select(ScoreChange).where(ScoreChange.id == change_id))
            if step.row is None or step.row.state != APPEALED or change is None:
                continue
            if step.row.score_version == step.score.version or change.decided_at is None:
                continue  # no new version yet, or the change is still waiting for HR
            if change.status != "approved" or change.decided_at > step.score.published_at:
                continue
            step.move(
                "review.amended",
                REVIEWED,
                f"version {step.score.version} carries {change.kind} change {change.id}, "
                f"the amendment of appeal {appeal_id}",
                working_days_after(moment, working_days),
                appeal_id=appeal_id,
                change_id=change.id,
            )
            moved.append((job_number, period))
    return moved


def review_view(stores: Stores, job_number: str, period: str) -> dict[str, Any]:
    """Where the current score stands and its appeals, for the trace."""
    with Session(stores.hr) as hr:
        score = hr.scalar(
            select(Score).where(
                Score.job_number == job_number, Score.period == period, Score.is_current.is_(True)
            )
        )
        row = hr.scalar(
            select(ScoreReview).where(
                ScoreReview.job_number == job_number, ScoreReview.period == period
            )
        )
        appeals = list(
            hr.scalars(
                select(Appeal)
                .where(Appeal.job_number == job_number, Appeal.period == period)
                .order_by(Appeal.id)
            )
        )
    state = HELD if score is not None and score.status == HELD else FINAL
    if score is not None and score.status != HELD:
        state = state_of(score, row)
    current = row is not None and score is not None and row.score_version == score.version
    return {
        "state": state,
        "confirm_by": row.confirm_by.isoformat() if current and row and row.confirm_by else None,
        "comment": row.comment if current and row else None,
        "appeals": [
            {
                "id": a.id,
                "score_version": a.score_version,
                "status": a.status,
                "reason": a.reason,
                "kpi_code": a.kpi_code,
                "record_key": a.record_key,
                "filed_by": a.filed_by,
                "filed_at": a.filed_at.isoformat(),
                "answer": a.answer,
                "answered_by": a.answered_by,
                "answered_at": a.answered_at.isoformat() if a.answered_at else None,
                "change_id": a.change_id,
            }
            for a in appeals
        ],
    }


def audit_entries(
    stores: Stores, period: str, job_number: str | None = None
) -> list[dict[str, Any]]:
    """Every audit entry of a month (optionally one person's), oldest first: review steps,
    views, score publications, imports."""
    with Session(stores.hub) as hub:
        query = (
            select(AuditEntry).where(AuditEntry.subject.contains(period)).order_by(AuditEntry.id)
        )
        entries = list(hub.scalars(query))
    rows = []
    for e in entries:
        parts = e.subject.split("/")
        if period not in parts:
            continue
        if job_number is not None and parts[0] != job_number:
            continue
        rows.append(
            {
                "id": e.id,
                "at": e.at.isoformat(),
                "action": e.action,
                "subject": e.subject,
                "actor": (e.detail or {}).get("actor") or (e.detail or {}).get("userid"),
                "detail": e.detail,
            }
        )
    return rows
