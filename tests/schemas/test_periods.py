"""Month arithmetic of the whole hub: periods across year boundaries, days, instants in Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from schemas.periods import (
    PeriodError,
    closed_periods,
    first_day,
    is_period,
    last_closed_period,
    last_day,
    month_index,
    months_before,
    next_period,
    parse_period,
    period_at,
    period_bounds,
    period_end,
    period_of,
    period_start,
    periods_between,
    previous_period,
    shift_month,
    shift_period,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("text", ["2026-01", "2026-12", "1999-07"])
def test_a_period_is_a_four_digit_year_and_a_two_digit_month(text: str) -> None:
    assert is_period(text)
    assert parse_period(text) == (int(text[:4]), int(text[5:]))


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-00", "2026-1", "26-01", "2026/01", "2026-01-01", " 2026-01", ""]
)
def test_anything_else_is_an_error_naming_it(text: str) -> None:
    assert not is_period(text)
    with pytest.raises(PeriodError, match=r"is not a month in the form YYYY-MM") as raised:
        parse_period(text)
    assert repr(text) in str(raised.value)


@pytest.mark.parametrize(
    ("period", "months", "expected"),
    [
        ("2026-01", -1, "2025-12"),
        ("2025-12", 1, "2026-01"),
        ("2026-10", 0, "2026-10"),
        ("2026-03", -15, "2024-12"),
        ("2026-11", 14, "2028-01"),
        ("2026-06", -6, "2025-12"),
    ],
)
def test_shift_crosses_years(period: str, months: int, expected: str) -> None:
    assert shift_period(period, months) == expected
    assert shift_month(*parse_period(period), months) == parse_period(expected)


def test_previous_and_next() -> None:
    assert (previous_period("2026-01"), previous_period("2026-10")) == ("2025-12", "2026-09")
    assert (next_period("2025-12"), next_period("2026-09")) == ("2026-01", "2026-10")


def test_month_index_is_consecutive_across_years() -> None:
    assert month_index("2026-01") - month_index("2025-12") == 1
    assert period_at(month_index("2026-07")) == "2026-07"


def test_periods_between_both_included() -> None:
    assert periods_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert periods_between("2026-02", "2026-02") == ["2026-02"]
    assert periods_between("2026-03", "2026-02") == []


@pytest.mark.parametrize(
    ("period", "first", "last"),
    [
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        ("2026-04", date(2026, 4, 1), date(2026, 4, 30)),
    ],
)
def test_first_and_last_day(period: str, first: date, last: date) -> None:
    assert (first_day(period), last_day(period)) == (first, last)
    assert period_bounds(period) == (first, last)


def test_instants_belong_to_the_month_they_fall_in_in_shanghai() -> None:
    # 2026-10-31 16:30 UTC is 2026-11-01 00:30 in Shanghai.
    assert period_of(datetime(2026, 10, 31, 16, 30, tzinfo=UTC)) == "2026-11"
    assert period_of(datetime(2026, 10, 31, 15, 59, tzinfo=UTC)) == "2026-10"
    assert period_of(date(2026, 10, 31)) == "2026-10"
    assert period_start("2026-11") == datetime(2026, 11, 1, tzinfo=SHANGHAI)
    assert period_end("2026-12") == datetime(2027, 1, 1, tzinfo=SHANGHAI)
    assert period_start("2026-11", UTC) == datetime(2026, 11, 1, tzinfo=UTC)


def test_months_before_is_the_first_day_of_an_earlier_month() -> None:
    assert months_before(date(2026, 3, 17), 6) == date(2025, 9, 1)
    assert months_before(date(2026, 3, 17), 0) == date(2026, 3, 1)


def test_closed_months_are_those_ended_in_shanghai() -> None:
    assert closed_periods(3, datetime(2026, 1, 15, tzinfo=SHANGHAI)) == [
        "2025-10",
        "2025-11",
        "2025-12",
    ]
    # 2026-11-01 00:30 in Shanghai: October has closed there, though not yet in UTC.
    assert last_closed_period(datetime(2026, 10, 31, 16, 30, tzinfo=UTC)) == "2026-10"
    assert closed_periods(0, datetime(2026, 1, 15, tzinfo=SHANGHAI)) == []
