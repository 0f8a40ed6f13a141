"""Time stamps as sources send them, turned into aware instants. Asia/Shanghai is the hub's
local zone: periods are chosen in it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now_utc() -> datetime:
    return datetime.now(UTC)


def parse_instant(value: str | datetime) -> datetime:
    """ISO 8601 with an offset (``Z`` included); a naive value is taken as Asia/Shanghai local."""
    if isinstance(value, datetime):
        parsed = value
    else:
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return parsed


def local_period(value: str | datetime) -> str:
    """The YYYY-MM period an instant falls in, in Asia/Shanghai."""
    return parse_instant(value).astimezone(SHANGHAI).strftime("%Y-%m")
