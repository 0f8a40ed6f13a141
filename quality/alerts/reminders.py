"""Personal reminders: a work notification to a person whose KPI crossed its alert threshold,
and to their department leaders. The delivery key is person, KPI and period, so each person
hears about a KPI once a month however often the check runs (DingTalk also drops repeats and
counts every send against a daily quota)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from quality.alerts.notify import SINK
from quality.alerts.outbox import Alert

KIND = "kpi_reminder"


def delivery_key(job_number: str, kpi_code: str, period: str) -> str:
    return f"reminder:{job_number}:{kpi_code}:{period}"


def reminder(
    job_number: str,
    userid: str,
    kpi_code: str,
    period: str,
    value: Decimal,
    threshold: Decimal,
    leaders: Sequence[str] = (),
    kpi_name: str | None = None,
) -> Alert:
    """``userid`` and ``leaders`` are DingTalk user ids; the message names the KPI, the month,
    the value and the threshold it fell under, nothing else about the person."""
    name = kpi_name or kpi_code
    receivers = list(dict.fromkeys([userid, *leaders]))
    text = (
        f"#### {name} {period}\n\n"
        f"{job_number}: {name} is {value}, under its alert threshold of {threshold}.\n"
    )
    return Alert(
        sink=SINK,
        delivery_key=delivery_key(job_number, kpi_code, period),
        kind=KIND,
        subject=f"{name} under {threshold} in {period}: {job_number}",
        payload={
            "job_number": job_number,
            "kpi_code": kpi_code,
            "period": period,
            "value": str(value),
            "threshold": str(threshold),
            "userid_list": receivers,
            "title": f"KPI Hub: {name} {period}",
            "text": text,
        },
    )
