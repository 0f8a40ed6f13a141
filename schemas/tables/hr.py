"""HR store: published performance scores, versioned. A correction publishes a new version that
supersedes the old one and says why; the old version stays.

A score keeps every number its total came from: each component's actual, target and where the
target came from, direction, cap, attainment, the weight used and the points; each adjustment in
the order applied with its kind and amount; the template's code, version and content hash.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schemas.tables.types import ExactDecimal, UtcDateTime


class HrBase(DeclarativeBase):
    pass


class Score(HrBase):
    """One version of one person's score for one period."""

    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("job_number", "period", "version", name="uq_score_version"),
        Index("ix_score_current", "period", "is_current"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_number: Mapped[str] = mapped_column(String(64))
    employee_name: Mapped[str] = mapped_column(String(128))
    department: Mapped[str] = mapped_column(String(255))
    period: Mapped[str] = mapped_column(String(7))
    template: Mapped[str] = mapped_column(String(64))
    template_version: Mapped[str] = mapped_column(String(32))
    template_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    subtotal: Mapped[Decimal | None] = mapped_column(ExactDecimal, nullable=True)
    """The components' points summed, before adjustments, floor and rounding."""
    total: Mapped[Decimal] = mapped_column(ExactDecimal)
    grade: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """None while held: held scores are not graded."""
    status: Mapped[str] = mapped_column(String(16))
    hold_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    inputs_sha256: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)
    superseded_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    run_id: Mapped[str] = mapped_column(String(64))


class ScoreComponent(HrBase):
    """One weighted KPI line of a score, with the numbers that went in.

    ``fact_ids`` point into the hub store, which may be another database, so they are not a
    foreign key; lineage tracing follows them.
    """

    __tablename__ = "score_components"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("scores.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kpi_code: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="scored")
    """scored, zero (missing, scored zero), excluded (missing, left out) or missing (held)."""
    actual: Mapped[Decimal | None] = mapped_column(ExactDecimal, nullable=True)
    target: Mapped[Decimal | None] = mapped_column(ExactDecimal, nullable=True)
    target_source: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """``template``, or the source of the person's own target fact (``erp``)."""
    target_fact_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    direction: Mapped[str] = mapped_column(String(8), default="higher")
    cap: Mapped[Decimal] = mapped_column(ExactDecimal)
    attainment: Mapped[Decimal | None] = mapped_column(ExactDecimal, nullable=True)
    weight: Mapped[Decimal] = mapped_column(ExactDecimal)
    """The template's weight."""
    weight_used: Mapped[Decimal] = mapped_column(ExactDecimal)
    """The weight the points were computed with: renormalised when a component is excluded."""
    points: Mapped[Decimal] = mapped_column(ExactDecimal)
    fact_ids: Mapped[list[int]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class ScoreAdjustment(HrBase):
    """An adjustment rule checked after the components' total, in the template's order.

    ``amount`` is the factor of a ``multiply`` or the points of a ``subtract`` when the rule
    applied, None when it did not (three late arrivals); ``value`` is the fact's value that
    decided it and ``fact_ids`` the facts, so the running total can be recomputed step by step.
    """

    __tablename__ = "score_adjustments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("scores.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    kpi_code: Mapped[str] = mapped_column(String(64))
    value: Mapped[Decimal | None] = mapped_column(ExactDecimal, nullable=True)
    applied: Mapped[bool] = mapped_column(Boolean)
    amount: Mapped[Decimal | None] = mapped_column(ExactDecimal, nullable=True)
    fact_ids: Mapped[list[int]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class ScoreReview(HrBase):
    """Where a person's score of a month stands in the review cycle, and for which version.

    A score with no row, or whose current version is newer than ``score_version`` (a correction
    was published), stands at ``final``: the steps taken on the earlier version stay in the
    audit log, the new version is reviewed afresh.
    """

    __tablename__ = "score_reviews"
    __table_args__ = (UniqueConstraint("job_number", "period", name="uq_score_review"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_number: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(7))
    score_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    confirm_by: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    """When a reviewed score is confirmed silently if the employee does nothing."""
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Appeal(HrBase):
    """An employee's disagreement with a reviewed score, and how it was answered."""

    __tablename__ = "appeals"
    __table_args__ = (Index("ix_appeal_score", "job_number", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_number: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(7))
    score_version: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    kpi_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The component appealed against, when the employee pointed at one."""
    record_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    """A source record of the trace the employee pointed at."""
    filed_by: Mapped[str] = mapped_column(String(64))
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    change_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The target change or manual adjustment an ``amended`` answer makes: the amendment is
    never a typed-over number."""


class ScoreChange(HrBase):
    """A change to what a score is computed from, asked for by a person and decided by HR: a
    ``target`` change (a new target for one KPI of one person's month) or a manual
    ``adjustment`` (points added or taken off the total). An approved change becomes a fact in
    the hub whose source record is this approval, so the score it restates traces to it."""

    __tablename__ = "score_changes"
    __table_args__ = (Index("ix_score_change", "period", "job_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    job_number: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(7))
    kpi_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The KPI whose target changes; None for an adjustment."""
    old_value: Mapped[Decimal | None] = mapped_column(ExactDecimal, nullable=True)
    """The target the score was computed with when the change was proposed."""
    value: Mapped[Decimal] = mapped_column(ExactDecimal)
    """The new target, or the points of an adjustment (negative: a deduction)."""
    reason: Mapped[str] = mapped_column(Text)
    appeal_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    """proposed, approved or rejected."""
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
