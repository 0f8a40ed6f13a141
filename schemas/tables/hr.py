"""HR store: published performance scores, versioned. A correction publishes a new version that
supersedes the old one and says why; the old version stays."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

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
    total: Mapped[Decimal] = mapped_column(ExactDecimal)
    grade: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
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
    actual: Mapped[Decimal | None] = mapped_column(ExactDecimal, nullable=True)
    target: Mapped[Decimal] = mapped_column(ExactDecimal)
    attainment: Mapped[Decimal] = mapped_column(ExactDecimal)
    weight: Mapped[Decimal] = mapped_column(ExactDecimal)
    points: Mapped[Decimal] = mapped_column(ExactDecimal)
    fact_ids: Mapped[list[int]] = mapped_column(JSON)


class ScoreAdjustment(HrBase):
    """A deduction or bonus applied after the weighted components (e.g. attendance)."""

    __tablename__ = "score_adjustments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("scores.id"), index=True)
    rule: Mapped[str] = mapped_column(String(64))
    points: Mapped[Decimal] = mapped_column(ExactDecimal)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
