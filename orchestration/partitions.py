"""Periods are calendar months in Asia/Shanghai, keyed ``YYYY-MM`` like every period in the hub."""

from __future__ import annotations

from datetime import date, datetime

import dagster as dg

from connectors.sdk.calendar import history_start, today_local
from schemas import periods

PERIOD_FORMAT = "%Y-%m"


def first_period(today: date | None = None) -> str:
    """The first month of the history the hub keeps (``KPIHUB_HISTORY_MONTHS``, six, closed
    months before the current one): the first partition, so the UI shows the months there are
    rather than years of months that were never pulled."""
    start = history_start(today or today_local())
    return f"{start.year:04d}-{start.month:02d}"


monthly = dg.MonthlyPartitionsDefinition(
    start_date=first_period(), fmt=PERIOD_FORMAT, timezone="Asia/Shanghai"
)


def closed_periods(count: int, today: datetime | None = None) -> list[str]:
    """The ``count`` most recent months that have ended, oldest first."""
    return periods.closed_periods(count, today)
