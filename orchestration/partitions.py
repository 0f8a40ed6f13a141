"""Periods are calendar months in Asia/Shanghai, keyed ``YYYY-MM`` like every period in the hub."""

from __future__ import annotations

from datetime import datetime

import dagster as dg

from connectors.sdk.timeparse import SHANGHAI

PERIOD_FORMAT = "%Y-%m"
FIRST_PERIOD = "2025-01"

monthly = dg.MonthlyPartitionsDefinition(
    start_date=FIRST_PERIOD, fmt=PERIOD_FORMAT, timezone="Asia/Shanghai"
)


def closed_periods(count: int, today: datetime | None = None) -> list[str]:
    """The ``count`` most recent months that have ended, oldest first."""
    now = (today or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    year, month = now.year, now.month
    periods: list[str] = []
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        periods.append(f"{year:04d}-{month:02d}")
    return list(reversed(periods))
