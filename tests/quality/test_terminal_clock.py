"""A terminal whose clock runs an hour late, on hand-made punches: found for the month it was
off, with its days; arrivals that merely wander, or a terminal off for a single day, are not."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from quality.anomalies import observation
from quality.clock import clock_anomalies
from schemas.catalog import AnomalyRule, ClockRule, Kpi

SHANGHAI = ZoneInfo("Asia/Shanghai")
RULE = ClockRule(device="device_id", person="card_no", time="punch_time")
KPI = Kpi(
    code="late_count", name_zh="迟到次数", name_en="Late arrivals", unit="count",
    direction="lower_is_better", sources=("attendance",), aggregation="count", decimals=0,
    definition="Late days of the month.",
    anomaly=AnomalyRule(clock_streams={"attendance/punches": RULE}),
)  # fmt: skip


def _days() -> list[date]:
    first = date(2026, 9, 1)
    days = [first + timedelta(days=n) for n in range(61)]
    return [d for d in days if d.weekday() < 5]


def _punches(late: dict[str, set[date]]) -> list[tuple[str, dict[str, Any]]]:
    """Four cards on each of two terminals, arriving 07:40 to 07:55, a first and a second tap;
    a terminal in ``late`` stamps its days an hour later."""
    found: list[tuple[str, dict[str, Any]]] = []
    for device in ("T-L1-01", "T-L1-02"):
        for day in _days():
            for n in range(4):
                card = f"{device[-1]}00{n}"
                moment = datetime(day.year, day.month, day.day, 7, 40 + 5 * n, tzinfo=SHANGHAI)
                moment += timedelta(minutes=day.day % 3)
                if day in late.get(device, set()):
                    moment += timedelta(hours=1)
                for tap in (moment, moment + timedelta(hours=9)):
                    stamp = int(tap.timestamp())
                    key = f"{card}|{device}|{stamp}"
                    found.append((key, {"card_no": card, "device_id": device, "punch_time": stamp}))
    return found


def test_a_terminal_an_hour_late_for_a_week_is_found_with_its_days() -> None:
    week = {d for d in _days() if date(2026, 10, 12) <= d <= date(2026, 10, 16)}
    punches = _punches({"T-L1-02": week})
    (found,) = clock_anomalies("attendance", "punches", KPI, "2026-10", RULE, punches)
    assert (found.source, found.stream, found.job_number, found.kpi_code, found.period) == (
        "attendance", "punches", None, "late_count", "2026-10"
    )  # fmt: skip
    (terminal,) = found.extra["terminals"]
    assert terminal["terminal"] == "T-L1-02"
    # Against the terminal's usual median first punch; arrivals still wander by a minute.
    assert [(d["day"], d["shift_minutes"]) for d in terminal["days"]] == [
        ("2026-10-12", 59), ("2026-10-13", 60), ("2026-10-14", 61), ("2026-10-15", 59),
        ("2026-10-16", 60),
    ]  # fmt: skip
    # The first punches of those days are the records behind it: 4 cards x 5 days.
    assert len(found.record_keys) == 20
    seen = observation(found, KPI)
    assert (seen.check_name, seen.subject) == ("anomaly.terminal_clock", "attendance/punches")
    assert seen.detail["message"] == (
        "late_count in 2026-10: terminal T-L1-02 stamps first punches +60 minutes off on 5 days "
        "(2026-10-12 to 2026-10-16)"
    )
    # The month before was fine.
    assert clock_anomalies("attendance", "punches", KPI, "2026-09", RULE, punches) == []
    # A window of October alone still has enough days to judge them by.
    (alone,) = clock_anomalies("attendance", "punches", KPI, "2026-10", RULE, punches, ["2026-10"])
    (on_its_own,) = alone.extra["terminals"]
    assert on_its_own["terminal"] == "T-L1-02"
    assert [d["day"] for d in on_its_own["days"]] == [d["day"] for d in terminal["days"]]


def test_wandering_arrivals_and_a_single_odd_day_are_no_clock() -> None:
    assert clock_anomalies("attendance", "punches", KPI, "2026-10", RULE, _punches({})) == []
    one_day = _punches({"T-L1-01": {date(2026, 10, 14)}})
    assert clock_anomalies("attendance", "punches", KPI, "2026-10", RULE, one_day) == []
