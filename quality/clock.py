"""A terminal whose clock is off: on the days it is wrong, every first punch it stamps is off by
the same amount, so everyone on it is late (or early) at once while the other terminals carry on.

Per terminal and local day, the median time of day of each person's first punch there; each day
of the month against the terminal's days of the window (robust z-score, with a floor in minutes
so that a few people's arrivals wandering by minutes are not a clock). One anomaly per stream and
month, listing the terminals and days that stood out, when some terminal was off on at least
``min_days`` days. Reported against the KPI the first punch decides (late arrivals).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from quality.scores import Anomaly, Score, robust_z
from schemas.catalog import ClockRule, Kpi

SHANGHAI = ZoneInfo("Asia/Shanghai")
METHOD = "terminal_clock"

Punch = tuple[str, Mapping[str, Any]]
"""A punch's record key and payload."""


def _instant(value: Any) -> datetime | None:
    """A payload time: epoch seconds, or ISO text read as Asia/Shanghai when it has no zone."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, SHANGHAI)
    if isinstance(value, str) and len(value) >= 10:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment.astimezone(SHANGHAI) if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
    return None


def _minutes(moment: datetime) -> float:
    return moment.hour * 60 + moment.minute + moment.second / 60


def first_punches(
    punches: Iterable[Punch], rule: ClockRule
) -> dict[tuple[str, date], dict[str, tuple[datetime, str]]]:
    """(terminal, local day) -> person -> their first punch there that day and its key."""
    firsts: dict[tuple[str, date], dict[str, tuple[datetime, str]]] = defaultdict(dict)
    for key, payload in punches:
        moment = _instant(payload.get(rule.time))
        device, person = payload.get(rule.device), payload.get(rule.person)
        if moment is None or not device or not person:
            continue
        day = firsts[(str(device), moment.date())]
        seen = day.get(str(person))
        if seen is None or moment < seen[0]:
            day[str(person)] = (moment, key)
    return firsts


def clock_anomalies(
    source: str,
    stream: str,
    kpi: Kpi,
    period: str,
    rule: ClockRule,
    punches: Iterable[Punch],
    months: Iterable[str] | None = None,
) -> list[Anomaly]:
    """The terminals whose median first punch was far from their usual one on ``min_days`` or
    more days of ``period``, against their days of ``months`` (the window; every month of
    ``punches`` when None)."""
    window = None if months is None else set(months)
    medians: dict[str, dict[date, float]] = defaultdict(dict)
    keys: dict[tuple[str, date], list[str]] = {}
    for (device, day), people in first_punches(punches, rule).items():
        if window is not None and f"{day:%Y-%m}" not in window:
            continue
        if len(people) >= rule.min_people:
            medians[device][day] = statistics.median(_minutes(m) for m, _ in people.values())
            keys[(device, day)] = sorted(k for _, k in people.values())
    threshold = kpi.anomaly.threshold
    terminals: list[dict[str, Any]] = []
    worst: Score | None = None
    for device, days in sorted(medians.items()):
        baseline = list(days.values())
        if len(baseline) < kpi.anomaly.min_history:
            continue
        odd: list[dict[str, Any]] = []
        for day, median in sorted(days.items()):
            if f"{day:%Y-%m}" != period:
                continue
            score = robust_z(median, baseline, absolute_floor=rule.floor_minutes)
            if abs(score.z) >= threshold:
                shift = round(median - score.median)
                odd.append({"day": day.isoformat(), "shift_minutes": shift, "z": round(score.z, 2)})
                if worst is None or abs(score.z) > abs(worst.z):
                    worst = score
        if len(odd) >= rule.min_days:
            terminals.append({"terminal": device, "days": odd})
    if not terminals or worst is None:
        return []
    flagged_days = {(t["terminal"], d["day"]) for t in terminals for d in t["days"]}
    shown = sorted(
        k
        for (device, day), ks in keys.items()
        if (device, day.isoformat()) in flagged_days
        for k in ks
    )
    return [
        Anomaly(
            source, kpi.code, period, METHOD, worst, stream=stream,
            value=f"{sum(len(t['days']) for t in terminals)} terminal days off",
            record_keys=tuple(shown),
            extra={
                "terminals": terminals,
                "floor_minutes": rule.floor_minutes,
                "message": f"{kpi.code} in {period}: "
                + "; ".join(
                    f"terminal {t['terminal']} stamps first punches "
                    f"{round(statistics.median(d['shift_minutes'] for d in t['days'])):+d} "
                    f"minutes off on {len(t['days'])} days "
                    f"({t['days'][0]['day']} to {t['days'][-1]['day']})"
                    for t in terminals
                ),
            },
        )
    ]  # fmt: skip
