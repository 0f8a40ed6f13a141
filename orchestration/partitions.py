"""Periods are calendar months in Asia/Shanghai, keyed ``YYYY-MM`` like every period in the hub."""

from __future__ import annotations

from datetime import datetime

import dagster as dg

from schemas import periods

PERIOD_FORMAT = "%Y-%m"
FIRST_PERIOD = "2025-01"

monthly = dg.MonthlyPartitionsDefinition(
    start_date=FIRST_PERIOD, fmt=PERIOD_FORMAT, timezone="Asia/Shanghai"
)


def closed_periods(count: int, today: datetime | None = None) -> list[str]:
    """The ``count`` most recent months that have ended, oldest first."""
    return periods.closed_periods(count, today)
