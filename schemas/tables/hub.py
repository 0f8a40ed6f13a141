"""Hub store: raw record versions as fetched, sync state, KPI facts with their inputs, quarantine,
findings, the audit log and the alert outbox. Rows are appended, never overwritten: history is what
lineage reads (only an outbox row moves on, from queued to sent or failed)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schemas.facts import ACTUAL
from schemas.tables.types import ExactDecimal, UtcDateTime


class HubBase(DeclarativeBase):
    pass


class RawRecordVersion(HubBase):
    """One version of one source record, exactly as received; the same version is stored once."""

    __tablename__ = "raw_record_versions"
    __table_args__ = (
        # Its index also serves every lookup by (source, stream, record_key).
        UniqueConstraint("source", "stream", "record_key", "payload_sha256", name="uq_raw_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    stream: Mapped[str] = mapped_column(String(64))
    record_key: Mapped[str] = mapped_column(String(255))
    payload_sha256: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    source_updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    extracted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    run_id: Mapped[str] = mapped_column(String(64))


class RecordHead(HubBase):
    """The version of each record the source served last: what normalisation reads."""

    __tablename__ = "record_heads"
    __table_args__ = (Index("ix_head_period", "source", "stream", "event_period", "record_key"),)

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    stream: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("raw_record_versions.id"))
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    event_period: Mapped[str | None] = mapped_column(String(7), nullable=True)
    """The month the version's own event time puts it in (``YYYY-MM``), for streams that
    declare one; None when the stream does not or the record's time cannot be read."""


class StreamState(HubBase):
    """Incremental cursor of one stream, committed with the records it covers."""

    __tablename__ = "stream_states"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    stream: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    run_id: Mapped[str] = mapped_column(String(64))


class StreamLease(HubBase):
    """Who is syncing a stream now. Two runs landing the same stream at once would each insert
    the versions the other is inserting; the second waits for the lease instead. A lease expires
    unless its holder renews it, so a killed run never blocks the stream for long."""

    __tablename__ = "stream_leases"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    stream: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class KpiFactRow(HubBase):
    """A versioned KPI fact for one person and period; a correction adds a version. ``kind`` is
    ``actual`` (what was achieved) or ``target`` (what was planned, e.g. from the ERP)."""

    __tablename__ = "kpi_facts"
    __table_args__ = (
        UniqueConstraint(
            "job_number", "period", "kpi_code", "kind", "version", name="uq_fact_version"
        ),
        Index("ix_fact_current", "period", "kpi_code", "is_current"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_number: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(7))
    kpi_code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8), default=ACTUAL, server_default=ACTUAL)
    value: Mapped[Decimal] = mapped_column(ExactDecimal)
    unit: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    inputs_sha256: Mapped[str] = mapped_column(String(64))
    change_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    run_id: Mapped[str] = mapped_column(String(64))


class FactInput(HubBase):
    """Lineage edge: this raw record version contributed to this fact version."""

    __tablename__ = "fact_inputs"

    fact_id: Mapped[int] = mapped_column(ForeignKey("kpi_facts.id"), primary_key=True)
    raw_version_id: Mapped[int] = mapped_column(
        ForeignKey("raw_record_versions.id"), primary_key=True
    )


class QuarantineEntry(HubBase):
    """A record that could not become a fact, with the reason; never dropped silently."""

    __tablename__ = "quarantine"
    __table_args__ = (
        UniqueConstraint("raw_version_id", "period", "reason", name="uq_quarantine_record"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    stream: Mapped[str] = mapped_column(String(64))
    record_key: Mapped[str] = mapped_column(String(255))
    raw_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("raw_record_versions.id"), nullable=True
    )
    period: Mapped[str | None] = mapped_column(String(7), nullable=True)
    reason: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    run_id: Mapped[str] = mapped_column(String(64))


class Finding(HubBase):
    """A data-quality finding for HR review: a failed expectation, an anomaly or quarantined
    records, about a source or stream (``job_number`` null) or one person's facts. The same check
    on the same subject and period is one row, updated when raised again. HR moves it from
    ``open`` to ``acknowledged``, ``dismissed`` or ``confirmed`` (``changed_by``/``changed_at``
    say who did last); ``resolved`` means the data no longer shows it. An open or acknowledged
    ERROR finding holds the scores whose facts it touches."""

    __tablename__ = "findings"
    __table_args__ = (
        UniqueConstraint("check_name", "subject", "period", name="uq_finding"),
        Index("ix_finding_review", "period", "severity", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    check_name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(
        String(16), default="expectation", server_default="expectation"
    )
    severity: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(255))
    source: Mapped[str | None] = mapped_column(String(64), nullable=True)
    stream: Mapped[str | None] = mapped_column(String(64), nullable=True)
    job_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    kpi_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    period: Mapped[str] = mapped_column(String(7))
    status: Mapped[str] = mapped_column(String(16), default="open")
    count: Mapped[int] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    changed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuditEntry(HubBase):
    """What changed, when and why: fact corrections, imports, review decisions."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    run_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class OutboxAlert(HubBase):
    """An alert waiting for, or past, its delivery to one sink. The delivery key makes enqueueing
    idempotent; a failed or throttled send keeps the row queued with its attempts and next try,
    so an alert is neither lost nor sent twice. ``message_id`` names the message (robot message,
    webhook batch, mail, DingTalk task) that carried it. Nothing here ever holds a secret."""

    __tablename__ = "alert_outbox"
    __table_args__ = (
        UniqueConstraint("sink", "delivery_key", name="uq_alert_delivery"),
        Index("ix_alert_queue", "sink", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sink: Mapped[str] = mapped_column(String(32))
    delivery_key: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(8), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
