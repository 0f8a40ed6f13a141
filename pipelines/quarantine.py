"""Quarantine and the data-quality finding that counts it: records that could not become facts
are kept with their reason and surface for HR review, once per record, reason and period."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.sdk.timeparse import now_utc
from quality.findings import WARN, Observation, clear_finding, find, raise_finding
from schemas.facts import QuarantinedRecord
from schemas.tables import Finding, QuarantineEntry

CHECK_NAME = "quarantined_records"


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
    """One WARN finding per source and period with the count by reason; resolved when none
    remain, reopened when some come back."""
    check_name = f"{source}.{CHECK_NAME}"
    by_reason = dict(sorted(Counter(r.reason for r in records).items()))
    if records:
        seen = Observation(
            check_name, "quarantine", WARN, source, period, len(records), {"by_reason": by_reason}
        )
        return raise_finding(session, seen)
    finding = find(session, check_name, source, period)
    return None if finding is None else clear_finding(session, finding, {"by_reason": {}})
