"""The attendance terminals' mapping on hand-written shifts, punches, DingTalk leave and ERP card
history: which scheduled days count as late or absent, which leave excuses them, and which
records are quarantined and why."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from connectors.attendance.mapping import MAPPING, GraceError, grace_period
from connectors.registry import HeadRecord
from connectors.sdk.timeparse import SHANGHAI
from schemas.facts import Observation, PersonRef, QuarantinedRecord

PERIOD = "2026-10"
DAY = date(2026, 10, 12)  # a Monday
CARD = "9000083"
ZERO, ONE = Decimal(0), Decimal(1)


def at(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SHANGHAI)


def shift(card: str = CARD, day: date = DAY, start: object = "08:00") -> dict[str, Any]:
    return {"card_no": card, "date": day.isoformat(), "shift_start": start, "shift_end": "17:00"}


def rest(card: str = CARD, day: date = DAY) -> dict[str, Any]:
    return {"card_no": card, "date": day.isoformat(), "rest": True}


def punch(moment: datetime, card: str = CARD, direction: str | None = "in") -> dict[str, Any]:
    return {
        "card_no": card,
        "device_id": "T-L1-01",
        "punch_time": int(moment.timestamp()),
        "direction": direction,
    }


def leave(userid: str, start: datetime, end: datetime) -> dict[str, Any]:
    return {
        "userid": userid,
        "start_time": int(start.timestamp() * 1000),
        "end_time": int(end.timestamp() * 1000),
        "duration_unit": "percent_day",
        "duration_percent": 50,
    }


def badge_row(job: str, card: str, since: str, until: str | None = None) -> dict[str, Any]:
    return {
        "FEMPNO": job,
        "FBADGE": None,
        "FCARDNO": card,
        "FBEGINDATE": f"{since}T00:00:00",
        "FENDDATE": f"{until}T00:00:00" if until else None,
    }


RECORD_KEYS = {
    ("attendance", "shifts"): ("card_no", "date"),
    ("attendance", "punches"): ("card_no", "device_id", "punch_time"),
    ("dingtalk", "leave_status"): ("userid", "start_time", "end_time"),
    ("dingtalk", "users"): ("userid",),
    ("erp", "hr_emp_badge"): ("FEMPNO", "FCARDNO", "FBEGINDATE"),
    ("erp", "hr_emp"): ("FEMPNO",),
}


class Landed:
    """Landed records per (source, stream), each row (version id, payload), keyed by the fields
    that identify the record. Streams not given are empty."""

    def __init__(self, **streams: list[tuple[int, dict[str, Any]]]) -> None:
        self.streams = streams
        self.asked: set[str] = set()

    def heads(
        self, stream: str, source: str | None = None, period: str | None = None
    ) -> Iterable[HeadRecord]:
        owner = source or "attendance"
        self.asked.add(f"{owner}/{stream}")
        for version_id, payload in self.streams.get(f"{owner}_{stream}", []):
            key = "|".join(str(payload.get(f)) for f in RECORD_KEYS[(owner, stream)])
            yield HeadRecord(version_id=version_id, record_key=key, payload=payload)


def world(
    shifts: Sequence[tuple[int, dict[str, Any]]],
    punches: Sequence[tuple[int, dict[str, Any]]] = (),
    leaves: Sequence[tuple[int, dict[str, Any]]] = (),
) -> Landed:
    """One worker, E00083 (DingTalk userid u83), holding card 9000083 since 2019."""
    return Landed(
        attendance_shifts=list(shifts),
        attendance_punches=list(punches),
        dingtalk_leave_status=list(leaves),
        dingtalk_users=[(900, {"userid": "u83", "job_number": "E00083"})],
        erp_hr_emp_badge=[(800, badge_row("E00083", CARD, "2019-10-17"))],
        erp_hr_emp=[(700, {"FEMPNO": "E00083", "FCARDNO": CARD})],
    )


def day_of(
    observations: list[Observation], card: str = CARD, day: date = DAY
) -> dict[str, tuple[Decimal, tuple[int, ...]]]:
    """One card's day: each KPI's value and inputs."""
    return {
        o.kpi_code: (o.value, o.inputs)
        for o in observations
        if o.person == PersonRef("card", card) and o.on == day
    }


@pytest.fixture(autouse=True)
def _default_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KPIHUB_ATTENDANCE_GRACE_MINUTES", raising=False)


def test_an_on_time_day_gives_a_zero_of_both_counts_with_the_shift_and_first_punch() -> None:
    result = MAPPING.run(
        PERIOD,
        world(
            [(1, shift())],
            [(11, punch(at(DAY, 7, 52))), (12, punch(at(DAY, 17, 20), direction="out"))],
        ),
    )
    assert result.quarantined == []
    assert result.observations == [
        Observation(PersonRef("card", CARD), "late_count", ZERO, on=DAY, inputs=(1, 11)),
        Observation(PersonRef("card", CARD), "absence_days", ZERO, on=DAY, inputs=(1, 11)),
    ]


@pytest.mark.parametrize(
    ("arrival", "late"),
    [
        (at(DAY, 8, 5, 0), ZERO),  # exactly at the end of the grace: on time
        (at(DAY, 8, 5, 1), ONE),
        (at(DAY, 9, 40), ONE),
    ],
)
def test_a_first_punch_after_shift_start_plus_five_minutes_is_late(
    arrival: datetime, late: Decimal
) -> None:
    result = MAPPING.run(PERIOD, world([(1, shift())], [(11, punch(arrival))]))
    assert day_of(result.observations) == {
        "late_count": (late, (1, 11)),
        "absence_days": (ZERO, (1, 11)),
    }


def test_the_first_punch_of_the_local_day_decides_whatever_its_direction() -> None:
    punches = [
        (11, punch(at(DAY, 8, 30))),
        (12, punch(at(DAY, 7, 58), direction=None)),
        (13, punch(at(DAY - timedelta(days=1), 23, 59, 59))),  # the evening before
        (14, punch(at(DAY, 7, 0), card="9000084")),  # someone else's card
    ]
    result = MAPPING.run(PERIOD, world([(1, shift())], punches))
    assert day_of(result.observations) == {
        "late_count": (ZERO, (1, 12)),
        "absence_days": (ZERO, (1, 12)),
    }


def test_the_shift_start_of_the_day_is_the_one_the_terminals_planned() -> None:
    result = MAPPING.run(PERIOD, world([(1, shift(start="09:00"))], [(11, punch(at(DAY, 8, 30)))]))
    assert day_of(result.observations)["late_count"] == (ZERO, (1, 11))


def test_a_scheduled_day_without_a_punch_is_an_absence_and_a_rest_day_is_nothing() -> None:
    sunday = date(2026, 10, 11)
    result = MAPPING.run(PERIOD, world([(1, shift()), (2, rest(day=sunday))]))
    assert result.observations == [
        Observation(PersonRef("card", CARD), "late_count", ZERO, on=DAY, inputs=(1,)),
        Observation(PersonRef("card", CARD), "absence_days", ONE, on=DAY, inputs=(1,)),
    ]


def test_only_the_periods_shifts_and_punches_count() -> None:
    shifts = [(1, shift(day=date(2026, 9, 30))), (2, shift(day=date(2026, 11, 2)))]
    result = MAPPING.run(PERIOD, world(shifts, [(11, punch(at(date(2026, 9, 30), 9, 0)))]))
    assert result.observations == []
    assert result.quarantined == []


def test_the_grace_period_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPIHUB_ATTENDANCE_GRACE_MINUTES", "15")
    late = at(DAY, 8, 15, 1)
    result = MAPPING.run(
        PERIOD,
        world(
            [(1, shift()), (2, shift(day=DAY + timedelta(days=1)))],
            [(11, punch(at(DAY, 8, 14))), (12, punch(late + timedelta(days=1)))],
        ),
    )
    assert [(o.on, o.value) for o in result.observations if o.kpi_code == "late_count"] == [
        (DAY, ZERO),
        (DAY + timedelta(days=1), ONE),
    ]
    assert grace_period({"KPIHUB_ATTENDANCE_GRACE_MINUTES": " 0 "}) == timedelta(0)
    assert grace_period({}) == timedelta(minutes=5)


@pytest.mark.parametrize("value", ["five", "-1", "2.5", "５"])
def test_a_bad_grace_period_is_refused_with_its_name_and_value(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("KPIHUB_ATTENDANCE_GRACE_MINUTES", value)
    with pytest.raises(GraceError) as refused:
        MAPPING.run(PERIOD, world([(1, shift())]))
    assert str(refused.value) == (
        f"KPIHUB_ATTENDANCE_GRACE_MINUTES={value!r}: the grace period must be a whole number "
        "of minutes, 0 or more (default 5)"
    )


def test_an_approved_leave_covering_the_shift_start_excuses_a_late_arrival() -> None:
    result = MAPPING.run(
        PERIOD,
        world(
            [(1, shift())],
            [(11, punch(at(DAY, 12, 5)))],
            [(21, leave("u83", at(DAY, 8, 0), at(DAY, 12, 0)))],
        ),
    )
    assert day_of(result.observations) == {
        "late_count": (ZERO, (1, 11, 21)),
        "absence_days": (ZERO, (1, 11)),
    }


def test_an_approved_leave_covering_the_shift_start_excuses_an_absence() -> None:
    result = MAPPING.run(
        PERIOD,
        world([(1, shift())], [], [(21, leave("u83", at(DAY, 8, 0), at(DAY, 17, 0)))]),
    )
    assert day_of(result.observations) == {
        "late_count": (ZERO, (1,)),
        "absence_days": (ZERO, (1, 21)),
    }


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (at(DAY, 8, 1), at(DAY, 12, 0)),  # starts after the shift start
        (at(DAY, 6, 0), at(DAY, 8, 0)),  # ends at the shift start
        (at(DAY - timedelta(days=1), 8, 0), at(DAY - timedelta(days=1), 17, 0)),
    ],
)
def test_a_leave_not_covering_the_shift_start_excuses_nothing(
    start: datetime, end: datetime
) -> None:
    result = MAPPING.run(
        PERIOD,
        world([(1, shift())], [(11, punch(at(DAY, 10, 0)))], [(21, leave("u83", start, end))]),
    )
    assert day_of(result.observations)["late_count"] == (ONE, (1, 11))


def test_an_on_time_day_under_leave_does_not_list_the_leave_as_an_input() -> None:
    result = MAPPING.run(
        PERIOD,
        world(
            [(1, shift())],
            [(11, punch(at(DAY, 7, 55)))],
            [(21, leave("u83", at(DAY, 8, 0), at(DAY, 12, 0)))],
        ),
    )
    assert day_of(result.observations) == {
        "late_count": (ZERO, (1, 11)),
        "absence_days": (ZERO, (1, 11)),
    }


def test_a_handed_on_card_is_excused_only_by_the_leave_of_its_holder_on_that_day() -> None:
    """Card 9000083 went from E00083 (userid u83) to E00159 (userid u159) on 12 October. The
    11th's lateness is excused by u83's leave, the 12th's by u159's, never the other way."""
    before, handover = date(2026, 10, 9), DAY
    landed = Landed(
        attendance_shifts=[(1, shift(day=before)), (2, shift(day=handover))],
        attendance_punches=[(11, punch(at(before, 9, 0))), (12, punch(at(handover, 9, 0)))],
        dingtalk_leave_status=[
            (21, leave("u83", at(before, 8, 0), at(before, 12, 0))),
            (22, leave("u83", at(handover, 8, 0), at(handover, 12, 0))),
            (23, leave("u159", at(before, 8, 0), at(before, 12, 0))),
        ],
        dingtalk_users=[
            (900, {"userid": "u83", "job_number": "E00083"}),
            (901, {"userid": "u159", "job_number": " E00159 "}),
        ],
        erp_hr_emp_badge=[
            (800, badge_row("E00083", CARD, "2019-10-17", "2026-10-12")),
            (801, badge_row("E00159", CARD, "2026-10-12")),
        ],
    )
    result = MAPPING.run(PERIOD, landed)
    assert day_of(result.observations, day=before)["late_count"] == (ZERO, (1, 11, 21))
    assert day_of(result.observations, day=handover)["late_count"] == (ONE, (2, 12))
    assert {"dingtalk/users", "dingtalk/leave_status", "erp/hr_emp_badge"} <= landed.asked


def test_a_card_without_history_is_linked_by_the_employee_table() -> None:
    landed = world([(1, shift())], [], [(21, leave("u83", at(DAY, 8, 0), at(DAY, 17, 0)))])
    landed.streams["erp_hr_emp_badge"] = []
    result = MAPPING.run(PERIOD, landed)
    assert day_of(result.observations)["absence_days"] == (ZERO, (1, 21))


def test_a_card_held_by_nobody_is_not_excused_by_anyones_leave() -> None:
    result = MAPPING.run(
        PERIOD,
        world(
            [(1, shift(card="9000999"))],
            [],
            [(21, leave("u83", at(DAY, 8, 0), at(DAY, 17, 0)))],
        ),
    )
    assert day_of(result.observations, card="9000999") == {
        "late_count": (ZERO, (1,)),
        "absence_days": (ONE, (1,)),
    }


def test_an_unreadable_punch_time_is_quarantined() -> None:
    bad = {"card_no": CARD, "device_id": "T-L1-01", "punch_time": "8:02", "direction": "in"}
    result = MAPPING.run(PERIOD, world([(1, shift())], [(11, bad)]))
    assert result.quarantined == [
        QuarantinedRecord(
            "attendance",
            "punches",
            f"{CARD}|T-L1-01|8:02",
            11,
            PERIOD,
            "bad_timestamp",
            "punch_time '8:02' is not epoch seconds",
        )
    ]
    assert day_of(result.observations)["absence_days"] == (ONE, (1,))


def test_a_shift_with_an_unreadable_date_is_quarantined() -> None:
    bad = {**shift(), "date": "12/10/2026"}
    result = MAPPING.run(PERIOD, world([(1, bad)]))
    assert result.observations == []
    assert result.quarantined == [
        QuarantinedRecord(
            "attendance",
            "shifts",
            f"{CARD}|12/10/2026",
            1,
            PERIOD,
            "bad_date",
            "date '12/10/2026' is not YYYY-MM-DD",
        )
    ]


@pytest.mark.parametrize("start", ["8:00", "25:00", None])
def test_a_working_day_without_a_readable_shift_start_is_quarantined(start: object) -> None:
    result = MAPPING.run(PERIOD, world([(1, shift(start=start))]))
    assert result.observations == []
    assert result.quarantined == [
        QuarantinedRecord(
            "attendance",
            "shifts",
            f"{CARD}|{DAY.isoformat()}",
            1,
            PERIOD,
            "bad_shift",
            f"shift_start {start!r} is not HH:MM on a working day",
        )
    ]


def test_an_unreadable_leave_excuses_nothing_and_is_left_to_dingtalk_to_report() -> None:
    """DingTalk's mapping quarantines the leave (tests/connectors/test_dingtalk_mapping.py);
    reporting it here too would count one record in two findings."""
    bad = {**leave("u83", at(DAY, 8, 0), at(DAY, 12, 0)), "end_time": "noon"}
    result = MAPPING.run(PERIOD, world([(1, shift())], [(11, punch(at(DAY, 9, 0)))], [(21, bad)]))
    assert result.quarantined == []
    assert day_of(result.observations)["late_count"] == (ONE, (1, 11))


def test_the_mapping_is_registered_with_what_it_reads() -> None:
    from connectors.registry import get

    mapping = get("attendance").mapping
    assert mapping is MAPPING
    assert mapping.kpi_codes == ("late_count", "absence_days")
    assert mapping.streams == ("shifts", "punches")
    assert mapping.reads == (
        "dingtalk/leave_status",
        "dingtalk/users",
        "erp/hr_emp_badge",
        "erp/hr_emp",
    )
