"""The review cycle on both store backends: each step's state and audit entry, the silent
deadline, appeals, a correction after review, and every refusal changing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipelines import review
from pipelines.review import Actor, ReviewError
from pipelines.stores import Stores
from schemas.tables import AuditEntry, Score, ScoreReview

PERIOD = "2026-10"
EMPLOYEE = Actor("E00004", "employee")
MANAGER = Actor("E00002", "leader")
HR = Actor("E00056", "hr")


def publish(stores: Stores, job_number: str = "E00004", status: str = "final") -> Score:
    """A published score version, superseding the current one if there is one."""
    with Session(stores.hr, expire_on_commit=False) as hr, hr.begin():
        old = hr.scalar(
            select(Score).where(
                Score.job_number == job_number, Score.period == PERIOD, Score.is_current
            )
        )
        if old is not None:
            old.is_current = False
        score = Score(
            job_number=job_number,
            employee_name="廖燕",
            department="销售中心/华东销售部",
            period=PERIOD,
            template="sales",
            template_version="2026.2",
            total=Decimal("85.82"),
            grade="B 合格" if status == "final" else None,
            status=status,
            hold_reasons=[] if status == "final" else ["finding 7: yield out of range"],
            version=1 if old is None else old.version + 1,
            is_current=True,
            inputs_sha256="0" * 64,
            reason=None if old is None else "target of contract_amount 350000 -> 280000",
            published_at=datetime(2026, 11, 3, tzinfo=UTC),
            run_id="test",
        )
        hr.add(score)
    return score


def audit(stores: Stores) -> list[tuple[str, str, str, str]]:
    with Session(stores.hub) as hub:
        return [
            (e.action, e.detail["actor"], e.detail["before"], e.detail["after"])
            for e in hub.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def state(stores: Stores, job_number: str = "E00004") -> str:
    return review.review_view(stores, job_number, PERIOD)["state"]


def test_review_confirm_archive_each_step_audited(stores: Stores) -> None:
    publish(stores)
    assert state(stores) == "final"
    assert review.approve(stores, MANAGER, "E00004", PERIOD, "looks right") == "reviewed"
    assert review.confirm(stores, EMPLOYEE, "E00004", PERIOD) == "confirmed"
    assert review.archive(stores, HR, "E00004", PERIOD) == "archived"
    assert audit(stores) == [
        ("review.approve", "E00002", "final", "reviewed"),
        ("review.confirm", "E00004", "reviewed", "confirmed"),
        ("review.archive", "E00056", "confirmed", "archived"),
    ]
    assert state(stores) == "archived"


def test_a_returned_score_goes_back_to_hr_with_the_comment(stores: Stores) -> None:
    publish(stores)
    review.send_back(stores, MANAGER, "E00004", PERIOD, "attendance of 11-12 is missing")
    view = review.review_view(stores, "E00004", PERIOD)
    assert (view["state"], view["comment"]) == ("returned", "attendance of 11-12 is missing")
    with pytest.raises(ReviewError, match="needs a comment"):
        review.send_back(stores, MANAGER, "E00004", PERIOD, "  ")
    review.reopen(stores, HR, "E00004", PERIOD, "punches re-synced")
    assert state(stores) == "final"
    assert [a[0] for a in audit(stores)] == ["review.return", "review.reopen"]


def test_the_deadline_confirms_silently_and_says_so(stores: Stores) -> None:
    publish(stores)
    review.approve(stores, MANAGER, "E00004", PERIOD)
    with Session(stores.hr) as hr:
        due = hr.scalar(select(ScoreReview.confirm_by))
    assert due is not None
    assert review.confirm_overdue(stores, now=due - timedelta(seconds=1)) == []
    assert review.confirm_overdue(stores, now=due) == [("E00004", PERIOD)]
    assert state(stores) == "confirmed"
    action, actor, before, after = audit(stores)[-1]
    assert (action, actor, before, after) == ("review.confirm", "deadline", "reviewed", "confirmed")
    assert review.confirm_overdue(stores, now=due) == []  # nothing left to confirm


def test_the_deadline_is_five_working_days_in_shanghai() -> None:
    friday_afternoon = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # 15:00 in Shanghai
    due = review.working_days_after(friday_afternoon, 5)
    assert due.isoformat() == "2026-12-05T00:00:00+08:00"  # the end of Friday 12-04
    late_sunday = datetime(2026, 11, 29, 17, 0, tzinfo=UTC)  # 01:00 Monday in Shanghai
    assert review.working_days_after(late_sunday, 5).isoformat() == "2026-12-08T00:00:00+08:00"


def test_an_appeal_upheld_puts_the_score_back_for_confirmation(stores: Stores) -> None:
    publish(stores)
    review.approve(stores, MANAGER, "E00004", PERIOD)
    appeal_id = review.file_appeal(
        stores, EMPLOYEE, "E00004", PERIOD, "an order of mine is missing", "contract_amount",
        "SO-202610-00031",
    )  # fmt: skip
    assert state(stores) == "appealed"
    assert review.answer_appeal(
        stores, MANAGER, "E00004", PERIOD, "upheld", "SO-202610-00031 was signed in November"
    ) == "reviewed"  # fmt: skip
    view = review.review_view(stores, "E00004", PERIOD)
    assert [(a["id"], a["status"], a["kpi_code"], a["record_key"], a["answered_by"])
            for a in view["appeals"]] == [
        (appeal_id, "upheld", "contract_amount", "SO-202610-00031", "E00002")
    ]  # fmt: skip
    assert view["confirm_by"] is not None
    assert [a[0] for a in audit(stores)] == ["review.approve", "review.appeal", "appeal.upheld"]


def test_a_correction_after_review_sends_the_score_back_to_final(stores: Stores) -> None:
    publish(stores)
    review.approve(stores, MANAGER, "E00004", PERIOD)
    review.file_appeal(stores, EMPLOYEE, "E00004", PERIOD, "an order of mine is missing")
    assert state(stores) == "appealed"
    publish(stores)  # version 2: the CRM corrected the order
    assert state(stores) == "final"
    review.approve(stores, MANAGER, "E00004", PERIOD)
    assert audit(stores)[-2:] == [
        ("review.reset", "kpihub", "appealed", "final"),
        ("review.approve", "E00002", "final", "reviewed"),
    ]
    with Session(stores.hr) as hr:
        assert hr.scalar(select(ScoreReview.score_version)) == 2


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (lambda s: review.approve(s, EMPLOYEE, "E00004", PERIOD), "only a manager or HR"),
        (
            lambda s: review.approve(s, Actor("E00004", "leader"), "E00004", PERIOD),
            "nobody may review their own score",
        ),
        (lambda s: review.confirm(s, EMPLOYEE, "E00004", PERIOD), "is final, not reviewed"),
        (lambda s: review.confirm(s, MANAGER, "E00004", PERIOD), "only the employee"),
        (lambda s: review.file_appeal(s, EMPLOYEE, "E00004", PERIOD, "no"), "not reviewed"),
        (lambda s: review.archive(s, MANAGER, "E00004", PERIOD), "only HR"),
        (lambda s: review.archive(s, HR, "E00004", PERIOD), "is final, not confirmed"),
        (lambda s: review.answer_appeal(s, HR, "E00004", PERIOD, "upheld", "x"), "not appealed"),
        (lambda s: review.answer_appeal(s, HR, "E00004", PERIOD, "maybe", "x"), "upheld, amended"),
        (lambda s: review.approve(s, MANAGER, "E09999", PERIOD), "no published score"),
    ],
)
def test_a_step_out_of_turn_is_refused_and_changes_nothing(
    stores: Stores, step, message: str
) -> None:
    publish(stores)
    with pytest.raises(ReviewError, match=message):
        step(stores)
    assert audit(stores) == []
    with Session(stores.hr) as hr:
        assert hr.scalar(select(func.count()).select_from(ScoreReview)) == 0


def test_a_held_score_cannot_be_reviewed(stores: Stores) -> None:
    publish(stores, status="held")
    with pytest.raises(ReviewError, match=r"is held and cannot be reviewed \(finding 7"):
        review.approve(stores, MANAGER, "E00004", PERIOD)
    assert state(stores) == "held"
    assert audit(stores) == []
