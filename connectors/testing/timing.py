"""Where a stream's incremental read restarts, read from its own declaration and state.

Two kinds of incremental state carry time: a cursor stream commits ``watermark`` (an instant) and
asks for records changed since it minus ``lookback``; a date-windowed stream commits ``through``
(the last day pulled) and restarts ``lookback`` before it. Either way the kit needs each record's
time, which the declaration names: ``cursor_field``, else ``window_field``, else ``updated_field``,
else the envelope's
``source_updated_at``. Any other state is a ledger the source keeps (e.g. the hashes of the files
it imported); read again from it, an unchanged source must return nothing at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connectors.sdk.calendar import REVISIT, THROUGH, local_day_start, today_local
from connectors.sdk.stream import Stream
from connectors.sdk.timeparse import SHANGHAI, parse_instant
from schemas.envelope import RawRecord

WATERMARK = "watermark"
FUTURE_DAYS = 366


@dataclass(frozen=True)
class Restart:
    """Records at or after ``since`` come again. ``by_day``: a date window, whose first day is
    pulled whole, so records on ``since`` are due; a cursor boundary record may or may not be."""

    kind: str
    since: datetime
    by_day: bool


def restart_point(stream: Stream, state: Mapping[str, Any]) -> Restart:
    """Where a read from ``state`` restarts. A state with neither key is the source's own ledger
    of what it has read (a file import keeps the files' hashes): against an unchanged source
    nothing lies after it, so the restart point is the end of time."""
    if state.get(WATERMARK):
        return Restart("cursor", parse_instant(str(state[WATERMARK])) - stream.lookback, False)
    if state.get(THROUGH):
        day = date.fromisoformat(str(state[THROUGH])) - timedelta(days=stream.lookback.days)
        return Restart("window", local_day_start(day), True)
    return Restart("ledger", datetime.max.replace(tzinfo=UTC), False)


def time_field(stream: Stream) -> str | None:
    return stream.cursor_field or stream.window_field or stream.updated_field


def record_time(stream: Stream, record: RawRecord) -> datetime | None:
    """The record's time as the declaration names it, as an aware instant."""
    name = time_field(stream)
    value = record.payload.get(name) if name else record.source_updated_at
    return as_instant(value)


def as_instant(value: Any) -> datetime | None:
    """ISO dates and instants, and epoch seconds or milliseconds (DingTalk sends those)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return parse_instant(value)
    if isinstance(value, date):
        return local_day_start(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, UTC)
    text = str(value).strip()
    if text.isdigit():
        return as_instant(int(text))
    if len(text) == 10:
        return local_day_start(date.fromisoformat(text))
    return parse_instant(text)


def local_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def future_state(state: Mapping[str, Any]) -> dict[str, Any]:
    """``state`` with every day and instant in it moved a year past today. Records kept for a
    revisit are dropped from it: a year on, they have long settled."""
    future_day = today_local() + timedelta(days=FUTURE_DAYS)
    moved: dict[str, Any] = {}
    for key, value in state.items():
        if key == REVISIT:
            continue
        moved[key] = value
        if not isinstance(value, str):
            continue
        try:
            if len(value.strip()) == 10:
                date.fromisoformat(value.strip())
                moved[key] = future_day.isoformat()
            else:
                parse_instant(value)
                moved[key] = local_day_start(future_day).isoformat()
        except ValueError:
            continue
    return moved
