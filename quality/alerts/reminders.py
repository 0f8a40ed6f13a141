"""Personal reminders: a work notification to a person whose KPI crossed its alert threshold,
and to their department leaders. The delivery key is person, KPI and period, so each person
hears about a KPI once a month however often the check runs (DingTalk also drops repeats and
counts every send against a daily quota)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from quality.alerts.config import sinks_from_settings
from quality.alerts.notify import SINK
from quality.alerts.outbox import Alert
from schemas.catalog import Catalog, Kpi
from schemas.settings import Settings

KIND = "kpi_reminder"
# How a value of each unit is written in a message; units not named here go without one.
UNIT_SUFFIX = {"%": "%", "CNY": " CNY", "pcs": " pcs", "days": " days"}

Receivers = Callable[[str], tuple[str, Sequence[str]] | None]
"""A job number's DingTalk userid and their leaders' userids; None for someone DingTalk does
not know (then nobody can be told)."""


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
    unit: str = "",
    above: bool = False,
) -> Alert:
    """``userid`` and ``leaders`` are DingTalk user ids; the message names the KPI, the month,
    the value and the threshold it crossed, nothing else about the person. ``unit`` is written
    after both numbers; ``above`` is for KPIs where lower is better."""
    name = kpi_name or kpi_code
    receivers = list(dict.fromkeys([userid, *leaders]))
    side = "over" if above else "under"
    text = (
        f"#### {name} {period}\n\n"
        f"{job_number}: {name} is {value}{unit}, {side} its alert threshold of {threshold}{unit}.\n"
    )
    return Alert(
        sink=SINK,
        delivery_key=delivery_key(job_number, kpi_code, period),
        kind=KIND,
        subject=f"{name} {side} {threshold}{unit} in {period}: {job_number}",
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


def reminders_enabled(settings: Settings) -> bool:
    """Reminders are queued only for a configured work-notification sink (agent id and app
    credentials): queued without one, they would wait for a sender that never comes."""
    return any(sink.name == SINK for sink in sinks_from_settings(settings))


@dataclass(frozen=True)
class Reading:
    """One person's current value of a KPI in a month, as the reminders judge it."""

    job_number: str
    kpi_code: str
    period: str
    value: Decimal


@dataclass
class ReminderPlan:
    """What a month's values call for: one reminder per person and KPI past its threshold, and
    the job numbers past one whom the directory does not know (so nobody is told)."""

    alerts: list[Alert] = field(default_factory=list)
    crossed: int = 0
    not_in_directory: list[str] = field(default_factory=list)


def _shown(value: Decimal, kpi: Kpi) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-kpi.decimals))


def _threshold_text(threshold: Decimal) -> Decimal:
    normal = threshold.normalize()
    # 1E+2 would be written as such; a threshold reads best as the plain number HR wrote.
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


def threshold_reminders(
    readings: Iterable[Reading], catalog: Catalog, receivers: Receivers
) -> ReminderPlan:
    """The reminders a month's readings call for, in job number and KPI order. A reading of a
    KPI without a threshold, or on the right side of it, calls for none."""
    plan = ReminderPlan()
    for reading in sorted(readings, key=lambda r: (r.job_number, r.kpi_code, r.period)):
        if reading.kpi_code not in catalog:
            continue
        kpi = catalog.get(reading.kpi_code)
        found = kpi.alert_threshold
        if found is None or not kpi.crosses_alert(reading.value):
            continue
        threshold, above = found
        plan.crossed += 1
        people = receivers(reading.job_number)
        if people is None:
            plan.not_in_directory.append(reading.job_number)
            continue
        userid, leaders = people
        plan.alerts.append(
            reminder(
                reading.job_number,
                userid,
                kpi.code,
                reading.period,
                _shown(reading.value, kpi),
                _threshold_text(threshold),
                leaders=leaders,
                kpi_name=kpi.name_zh,
                unit=UNIT_SUFFIX.get(kpi.unit, ""),
                above=above,
            )
        )
    return plan
