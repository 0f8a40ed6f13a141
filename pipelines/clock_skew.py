"""Sources whose clocks run ahead. A record stamped later than the hub's now (plus a tolerance)
is landed as it came, but its stamp must not become the stream's watermark: the next pull would
ask from a moment that has not happened yet and skip every record written in between. The record
is counted in a finding, so HR and the source's owner see that its clock is wrong."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from connectors.sdk.timeparse import SHANGHAI, now_utc, parse_instant
from quality.findings import WARN, Observation, find, raise_finding
from schemas.envelope import RawRecord
from schemas.settings import get_settings

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
    """One WARN finding per stream and month, counting every record ever seen stamped ahead:
    the expectation that no source stamps records in the hub's future failed."""
    if not seen.records:
        return
    period = seen.horizon.astimezone(SHANGHAI).strftime("%Y-%m")
    check_name = f"{source}.{CHECK_NAME}"
    earlier = find(session, check_name, f"{source}/{stream}", period)
    known: dict[str, str] = {} if earlier is None else dict(earlier.detail.get("records", {}))
    if earlier is not None and seen.records.items() <= known.items():
        return
    known.update(seen.records)
    # The finding keeps every key (a count must be checkable) but only samples in its text.
    detail = {
        "records": dict(sorted(known.items())),
        "horizon": seen.horizon.isoformat(),
        "why": "stamped later than the hub's clock plus its tolerance; the watermark was held",
    }
    raise_finding(
        session,
        Observation(
            check_name, "expectation", WARN, source, period, len(known), detail, stream=stream
        ),
    )
