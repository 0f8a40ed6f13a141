"""Quarantine and the data-quality finding that counts it: records that could not become facts
are kept with their reason and surface for HR review, once per record, reason and period."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.sdk.timeparse import now_utc
from schemas.facts import QuarantinedRecord
from schemas.tables import Finding, QuarantineEntry


def save_quarantine(session: Session, records: Iterable[QuarantinedRecord], run_id: str) -> int:
    """Store new quarantine entries; returns how many were new."""
    now = now_utc()
    added = 0
    for record in records:
        exists = session.scalar(
            select(QuarantineEntry.id).where(
                QuarantineEntry.raw_version_id == record.raw_version_id,
                QuarantineEntry.period == record.period,
                QuarantineEntry.reason == record.reason,
            )
        )
        if exists is not None:
            continue
        session.add(
            QuarantineEntry(
                source=record.source,
                stream=record.stream,
                record_key=record.record_key,
                raw_version_id=record.raw_version_id,
                period=record.period,
                reason=record.reason,
                detail=record.detail,
                created_at=now,
                run_id=run_id,
            )
        )
        added += 1
    return added


def record_quarantine_finding(
    session: Session, source: str, period: str, records: list[QuarantinedRecord]
) -> Finding | None:
    """One finding per source and period with the count by reason; cleared when none remain."""
    check_name = f"{source}.quarantined_records"
    finding = session.scalar(
        select(Finding).where(
            Finding.check_name == check_name, Finding.subject == source, Finding.period == period
        )
    )
    now = now_utc()
    by_reason = dict(sorted(Counter(r.reason for r in records).items()))
    if finding is None:
        if not records:
            return None
        finding = Finding(
            check_name=check_name,
            severity="WARN",
            subject=source,
            period=period,
            status="open",
            count=len(records),
            detail={"by_reason": by_reason},
            created_at=now,
            updated_at=now,
        )
        session.add(finding)
        return finding
    if finding.count != len(records) or finding.detail != {"by_reason": by_reason}:
        finding.count = len(records)
        finding.detail = {"by_reason": by_reason}
        finding.updated_at = now
        if not records:
            finding.status = "resolved"
        elif finding.status == "resolved":
            finding.status = "open"
    return finding
