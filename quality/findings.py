"""Findings and the review queue: the one way a check raises a finding and HR changes its status.

A check says what it saw (:class:`Observation`); raising it again for the same check, subject and
period updates the one row, so re-runs never pile up duplicates. HR acknowledges, dismisses or
confirms a finding with a note; every status change, HR's or the data's (a finding the data no
longer shows is ``resolved``, and reopened when it comes back), lands in the audit log with who
made it, the old and new status and the note, because a released score must be explainable.

The kinds, severities and statuses are read by the command line to build its help, so the ORM
and the tables are imported by the functions that use them, not by the module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from schemas.tables import AuditEntry, Finding

Kind = Literal["expectation", "anomaly", "quarantine"]
Severity = Literal["WARN", "ERROR"]
KINDS: tuple[str, ...] = ("expectation", "anomaly", "quarantine")
SEVERITIES: tuple[str, ...] = ("WARN", "ERROR")
WARN, ERROR = "WARN", "ERROR"

OPEN = "open"
ACKNOWLEDGED = "acknowledged"
DISMISSED = "dismissed"
CONFIRMED = "confirmed"
RESOLVED = "resolved"
STATUSES: tuple[str, ...] = (OPEN, ACKNOWLEDGED, DISMISSED, CONFIRMED, RESOLVED)
REVIEW_STATUSES: tuple[str, ...] = (ACKNOWLEDGED, DISMISSED, CONFIRMED)
"""What HR sets. ``open`` and ``resolved`` are the data's: a check raises or clears a finding."""
UNRESOLVED: tuple[str, ...] = (OPEN, ACKNOWLEDGED)
"""Still in doubt: an ERROR finding in one of these holds the scores it touches."""
DECIDED: tuple[str, ...] = (DISMISSED, CONFIRMED)
"""HR has decided: the finding no longer holds anything."""

SYSTEM = "kpihub"
AUDIT_ACTION = "finding.status"


class FindingError(ValueError):
    """A review request that cannot be carried out; the message says which finding and why."""


@dataclass(frozen=True)
class Observation:
    """What one check saw about one subject in one period. ``job_number`` is None for a finding
    about a whole source or stream; ``count`` is how many records, facts or values it covers;
    ``detail["message"]``, when given, is the line a held score's reason quotes."""

    check_name: str
    kind: Kind
    severity: Severity
    source: str
    period: str
    count: int
    detail: Mapping[str, Any] = field(default_factory=dict)
    stream: str | None = None
    job_number: str | None = None
    kpi_code: str | None = None

    @property
    def subject(self) -> str:
        """The person's job number, ``source/stream`` or the source: what the finding is about."""
        if self.job_number is not None:
            return self.job_number
        return self.source if self.stream is None else f"{self.source}/{self.stream}"


def find(session: Session, check_name: str, subject: str, period: str) -> Finding | None:
    from sqlalchemy import select

    from schemas.tables import Finding

    return session.scalar(
        select(Finding).where(
            Finding.check_name == check_name,
            Finding.subject == subject,
            Finding.period == period,
        )
    )


def _audit(
    session: Session, finding: Finding, old: str | None, by: str, note: str | None, run_id: str
) -> None:
    from schemas.tables import AuditEntry

    session.add(
        AuditEntry(
            at=finding.updated_at,
            run_id=run_id,
            action=AUDIT_ACTION,
            subject=f"finding/{finding.id}",
            detail={
                "finding_id": finding.id,
                "check_name": finding.check_name,
                "subject": finding.subject,
                "period": finding.period,
                "by": by,
                "old_status": old,
                "new_status": finding.status,
                "note": note,
            },
        )
    )


def raise_finding(session: Session, seen: Observation, run_id: str = SYSTEM) -> Finding:
    """Create the finding, or update the one already raised for the same check, subject and
    period. Nothing changes (not even ``updated_at``) when it says what it said before; a
    resolved finding that shows again is reopened. HR's decision on it is kept."""
    from connectors.sdk.timeparse import now_utc
    from schemas.tables import Finding

    now = now_utc()
    finding = find(session, seen.check_name, seen.subject, seen.period)
    detail = dict(seen.detail)
    if finding is None:
        finding = Finding(
            check_name=seen.check_name,
            kind=seen.kind,
            severity=seen.severity,
            subject=seen.subject,
            source=seen.source,
            stream=seen.stream,
            job_number=seen.job_number,
            kpi_code=seen.kpi_code,
            period=seen.period,
            status=OPEN,
            count=seen.count,
            detail=detail,
            created_at=now,
            updated_at=now,
        )
        session.add(finding)
        session.flush()
        return finding
    place = (seen.kind, seen.source, seen.stream, seen.job_number, seen.kpi_code)
    was = (finding.kind, finding.source, finding.stream, finding.job_number, finding.kpi_code)
    said = (seen.count, detail, seen.severity, place)
    stored = (finding.count, finding.detail, finding.severity, was)
    if finding.status != RESOLVED and said == stored:
        return finding
    finding.kind, finding.source, finding.stream, finding.job_number, finding.kpi_code = place
    finding.count, finding.detail, finding.severity = seen.count, detail, seen.severity
    finding.updated_at = now
    if finding.status == RESOLVED:
        finding.status, finding.changed_by, finding.changed_at = OPEN, SYSTEM, now
        session.flush()
        _audit(session, finding, RESOLVED, SYSTEM, "shown again by the data", run_id)
    return finding


def clear_finding(
    session: Session, finding: Finding, detail: Mapping[str, Any], run_id: str = SYSTEM
) -> Finding:
    """The data no longer shows the finding: its count drops to 0 and, unless HR has decided
    on it, it is resolved."""
    if finding.count == 0 and finding.detail == dict(detail):
        return finding
    from connectors.sdk.timeparse import now_utc

    now = now_utc()
    finding.count, finding.detail, finding.updated_at = 0, dict(detail), now
    if finding.status in UNRESOLVED:
        old, finding.status = finding.status, RESOLVED
        finding.changed_by, finding.changed_at = SYSTEM, now
        _audit(session, finding, old, SYSTEM, "no longer shown by the data", run_id)
    return finding


def change_status(
    session: Session,
    finding_id: int,
    status: str,
    *,
    by: str,
    note: str | None,
    run_id: str = "review",
) -> Finding:
    """HR's decision on a finding, recorded with who and why. A dismissal needs a note: it
    releases held scores, and the reason they were released must be readable later."""
    from connectors.sdk.timeparse import now_utc
    from schemas.tables import Finding

    if status not in REVIEW_STATUSES:
        raise FindingError(f"status must be one of {', '.join(REVIEW_STATUSES)}, not {status!r}")
    finding = session.get(Finding, finding_id)
    if finding is None:
        raise FindingError(f"finding {finding_id} does not exist")
    note = (note or "").strip() or None
    if status == DISMISSED and note is None:
        raise FindingError(f"dismissing finding {finding_id} needs --note saying why")
    if finding.status == status:
        raise FindingError(f"finding {finding_id} is already {status}")
    old = finding.status
    now = now_utc()
    finding.status, finding.note = status, note
    finding.changed_by, finding.changed_at, finding.updated_at = by, now, now
    _audit(session, finding, old, by, note, run_id)
    return finding


def history(session: Session, finding_id: int) -> list[AuditEntry]:
    """The status changes of one finding, oldest first."""
    from sqlalchemy import select

    from schemas.tables import AuditEntry

    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == AUDIT_ACTION, AuditEntry.subject == f"finding/{finding_id}")
            .order_by(AuditEntry.id)
        )
    )
