"""Sources whose clocks run ahead. A record stamped later than the hub's now (plus a tolerance)
is landed as it came, but its stamp must not become the stream's watermark: the next pull would
ask from a moment that has not happened yet and skip every record written in between. The record
is counted in a finding, so HR and the source's owner see that its clock is wrong."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.sdk.timeparse import SHANGHAI, now_utc, parse_instant
from schemas.envelope import RawRecord
from schemas.settings import get_settings
from schemas.tables import Finding

CHECK_NAME = "future_stamped_records"
SAMPLE = 20


def horizon(now: datetime | None = None) -> datetime:
    """The latest instant a source may stamp a record with: now plus the configured tolerance."""
    tolerance = timedelta(seconds=get_settings().clock_tolerance_seconds)
    return (now or now_utc()) + tolerance


@dataclass
class FutureStamps:
    """Records of one pull stamped after the horizon, and whether the watermark was held back."""

    horizon: datetime
    records: dict[str, str] = field(default_factory=dict)
    watermark_held: bool = False

    def note(self, records: Sequence[RawRecord]) -> None:
        for record in records:
            stamp = record.source_updated_at
            if stamp is not None and stamp > self.horizon:
                self.records[record.record_key] = stamp.isoformat()

    def bounded(self, state: dict[str, Any]) -> dict[str, Any]:
        """``state`` with its watermark no later than the horizon."""
        mark = state.get("watermark")
        if not mark or parse_instant(str(mark)) <= self.horizon:
            return state
        self.watermark_held = True
        return {**state, "watermark": self.horizon.astimezone(SHANGHAI).isoformat()}


def record_future_stamps(session: Session, source: str, stream: str, seen: FutureStamps) -> None:
    """One WARN finding per stream and month, counting every record ever seen stamped ahead."""
    if not seen.records:
        return
    subject = f"{source}/{stream}"
    period = seen.horizon.astimezone(SHANGHAI).strftime("%Y-%m")
    check_name = f"{source}.{CHECK_NAME}"
    now = now_utc()
    finding = session.scalar(
        select(Finding).where(
            Finding.check_name == check_name, Finding.subject == subject, Finding.period == period
        )
    )
    if finding is None:
        finding = Finding(
            check_name=check_name,
            severity="WARN",
            subject=subject,
            period=period,
            status="open",
            count=0,
            detail={"records": {}},
            created_at=now,
            updated_at=now,
        )
        session.add(finding)
    known: dict[str, str] = dict(finding.detail.get("records", {}))
    known.update(seen.records)
    if known == finding.detail.get("records") and finding.count == len(known):
        return
    # The finding keeps every key (a count must be checkable) but only samples in its text.
    finding.count = len(known)
    finding.detail = {
        "records": dict(sorted(known.items())),
        "horizon": seen.horizon.isoformat(),
        "why": "stamped later than the hub's clock plus its tolerance; the watermark was held",
    }
    finding.updated_at = now
