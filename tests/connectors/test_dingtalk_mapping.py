"""DingTalk attendance results -> late_count and absence_days, on records written down here:
which results count, which approvals and leaves excuse them, and which records are quarantined."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from connectors.dingtalk.mapping import MAPPING
from connectors.registry import HeadRecord, MappingResult, get
from connectors.sdk.timeparse import SHANGHAI
from schemas.facts import Observation, PersonRef, QuarantinedRecord

PERIOD = "2026-10"


def ms(day: int, hour: int = 0, minute: int = 0, month: int = 10) -> int:
    """Epoch milliseconds of a local (Asia/Shanghai) time in 2026."""
    return int(datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI).timestamp() * 1000)


def on_duty(
    record_id: int, userid: str, day: int, time_result: str, month: int = 10, **extra: Any
) -> dict[str, Any]:
    return {
        "id": record_id,
        "userId": userid,
        "workDate": ms(day, month=month),
        "checkType": "OnDuty",
        "timeResult": time_result,
        "baseCheckTime": ms(day, 8, month=month),
        "userCheckTime": ms(day, 8, 20, month=month),
        "sourceType": "ATM",
        **extra,
    }


def approval(instance_id: str, result: str, status: str = "COMPLETED") -> dict[str, Any]:
    return {
        "process_instance_id": instance_id,
        "title": "请假",
        "originator_userid": "u1",
        "status": status,
        "result": result,
        "create_time": "2026-10-01 07:30:00",
        "finish_time": "2026-10-01 09:30:00",
    }


def leave(userid: str, start: int, end: int) -> dict[str, Any]:
    return {
        "userid": userid,
        "start_time": start,
        "end_time": end,
        "duration_unit": "percent_day",
        "duration_percent": 50,
    }


class Landed:
    """Heads of each stream, as (version id, payload); the key is the stream's record key."""

    KEYS: ClassVar[dict[str, str]] = {"attendance": "id", "approvals": "process_instance_id"}

    def __init__(self, **streams: list[tuple[int, dict[str, Any]]]) -> None:
        self.streams = streams

    def heads(
        self, stream: str, source: str | None = None, period: str | None = None
    ) -> Iterable[HeadRecord]:
        assert source is None
        for version_id, payload in self.streams.get(stream, []):
            field = self.KEYS.get(stream)
            key = str(payload[field]) if field else f"{payload['userid']}|{version_id}"
            yield HeadRecord(version_id=version_id, record_key=key, payload=payload)


def run(**streams: list[tuple[int, dict[str, Any]]]) -> MappingResult:
    return MAPPING.run(PERIOD, Landed(**streams))


def facts_of(userid: str, late: int, absent: int, *inputs: int) -> list[Observation]:
    person = PersonRef("dingtalk", userid)
    return [
        Observation(person, "late_count", Decimal(late), inputs=inputs),
        Observation(person, "absence_days", Decimal(absent), inputs=inputs),
    ]


def test_a_day_on_time_gives_zeros_carrying_its_record() -> None:
    result = run(
        attendance=[(1, on_duty(11, "u1", 5, "Normal")), (2, on_duty(12, "u2", 5, "Early"))]
    )
    assert result.observations == [*facts_of("u1", 0, 0, 1), *facts_of("u2", 0, 0, 2)]
    assert result.quarantined == []


def test_late_and_seriously_late_count_one_day_each() -> None:
    result = run(
        attendance=[(1, on_duty(11, "u1", 5, "Late")), (2, on_duty(12, "u1", 6, "SeriousLate"))]
    )
    assert result.observations == [*facts_of("u1", 1, 0, 1), *facts_of("u1", 1, 0, 2)]


def test_absenteeism_and_not_signed_count_as_absence_days() -> None:
    result = run(
        attendance=[
            (1, on_duty(11, "u1", 5, "Absenteeism", sourceType="SYSTEM")),
            (2, on_duty(12, "u1", 6, "NotSigned", sourceType="SYSTEM")),
        ]
    )
    assert result.observations == [*facts_of("u1", 0, 1, 1), *facts_of("u1", 0, 1, 2)]


def test_off_duty_results_count_for_nothing() -> None:
    off_duty = {**on_duty(11, "u1", 5, "NotSigned"), "checkType": "OffDuty"}
    result = run(attendance=[(1, off_duty), (2, on_duty(12, "u1", 5, "Normal"))])
    assert result.observations == facts_of("u1", 0, 0, 2)


def test_an_approved_approval_on_the_punch_excuses_it() -> None:
    result = run(
        attendance=[
            (1, on_duty(11, "u1", 5, "SeriousLate", procInstId="PI-TRIP", sourceType="APPROVE")),
            (2, on_duty(12, "u1", 6, "NotSigned", approveId="PI-LEAVE")),
        ],
        approvals=[(50, approval("PI-TRIP", "agree")), (51, approval("PI-LEAVE", "agree"))],
    )
    assert result.observations == [*facts_of("u1", 0, 0, 1, 50), *facts_of("u1", 0, 0, 2, 51)]


def test_a_refused_or_unfinished_approval_excuses_nothing_but_is_in_the_lineage() -> None:
    result = run(
        attendance=[
            (1, on_duty(11, "u1", 5, "Late", procInstId="PI-REFUSED")),
            (2, on_duty(12, "u1", 6, "NotSigned", procInstId="PI-RUNNING")),
        ],
        approvals=[
            (50, approval("PI-REFUSED", "refuse")),
            (51, approval("PI-RUNNING", "agree", status="RUNNING")),
        ],
    )
    assert result.observations == [*facts_of("u1", 1, 0, 1, 50), *facts_of("u1", 0, 1, 2, 51)]


def test_an_approved_leave_covering_the_shift_start_excuses_the_day() -> None:
    result = run(
        attendance=[
            (1, on_duty(11, "u1", 5, "Late")),  # morning leave from 08:00: covered
            (2, on_duty(12, "u1", 6, "NotSigned")),  # a leave that ended at 08:00: not covered
            (3, on_duty(13, "u2", 5, "Late")),  # someone else's leave covers nothing
        ],
        leave_status=[
            (60, leave("u1", ms(5, 8), ms(5, 12))),
            (61, leave("u1", ms(6, 0), ms(6, 8))),
        ],
    )
    assert result.observations == [
        *facts_of("u1", 0, 0, 1, 60),
        *facts_of("u1", 0, 1, 2),
        *facts_of("u2", 1, 0, 3),
    ]


def test_a_leave_excuses_even_when_the_attached_approval_was_refused() -> None:
    result = run(
        attendance=[(1, on_duty(11, "u1", 5, "Late", procInstId="PI-REFUSED"))],
        approvals=[(50, approval("PI-REFUSED", "refuse"))],
        leave_status=[(60, leave("u1", ms(5, 8), ms(5, 17)))],
    )
    assert result.observations == facts_of("u1", 0, 0, 1, 50, 60)


def test_two_on_duty_points_of_one_day_count_as_one_day() -> None:
    afternoon = {**on_duty(12, "u1", 5, "Late"), "baseCheckTime": ms(5, 13)}
    result = run(attendance=[(1, on_duty(11, "u1", 5, "Late")), (2, afternoon)])
    assert result.observations == facts_of("u1", 1, 0, 1, 2)


def test_the_period_is_the_local_work_date() -> None:
    # Local midnight of 1 October is 30 September in UTC; of 1 November, 31 October in UTC.
    result = run(
        attendance=[
            (1, on_duty(11, "u1", 1, "Late")),
            (2, on_duty(12, "u1", 30, "Late", month=9)),
            (3, on_duty(13, "u1", 1, "Late", month=11)),
        ]
    )
    assert result.observations == facts_of("u1", 1, 0, 1)
    assert result.quarantined == []


def test_workdate_as_a_numeric_string_is_read() -> None:
    record = {**on_duty(11, "u1", 5, "Late"), "workDate": str(ms(5))}
    assert run(attendance=[(1, record)]).observations == facts_of("u1", 1, 0, 1)


def test_an_approval_that_has_not_landed_is_quarantined_not_guessed() -> None:
    result = run(
        attendance=[
            (1, on_duty(11, "u1", 5, "Late", procInstId="PI-MISSING")),
            (2, on_duty(12, "u1", 6, "Normal", procInstId="PI-MISSING-2")),
            (3, on_duty(13, "u2", 5, "Late", procInstId="PI-MISSING-3")),
        ],
        leave_status=[(60, leave("u2", ms(5, 8), ms(5, 12)))],
    )
    # An on-time punch needs no excuse, and a covering leave settles the day without the approval.
    assert result.observations == [*facts_of("u1", 0, 0, 2), *facts_of("u2", 0, 0, 3, 60)]
    assert result.quarantined == [
        QuarantinedRecord(
            "dingtalk", "attendance", "11", 1, PERIOD, "approval_not_landed",
            "Late on 2026-10-05 names approval PI-MISSING, which has not landed: its process is "
            "not read or it was not pulled yet",
        )
    ]  # fmt: skip


def test_a_late_punch_without_a_shift_start_is_quarantined() -> None:
    record = {**on_duty(11, "u1", 5, "Late"), "baseCheckTime": None}
    result = run(attendance=[(1, record)])
    assert result.observations == []
    assert result.quarantined == [
        QuarantinedRecord(
            "dingtalk", "attendance", "11", 1, PERIOD, "bad_timestamp",
            "baseCheckTime None is not epoch milliseconds: cannot tell whether a leave covers "
            "the shift start",
        )
    ]  # fmt: skip


def test_an_unreadable_work_date_is_quarantined() -> None:
    record = {**on_duty(11, "u1", 5, "Late"), "workDate": "2026-10-05"}
    result = run(attendance=[(1, record)])
    assert result.observations == []
    assert result.quarantined == [
        QuarantinedRecord(
            "dingtalk", "attendance", "11", 1, PERIOD, "bad_timestamp",
            "workDate '2026-10-05' is not epoch milliseconds",
        )
    ]  # fmt: skip


def test_an_unknown_time_result_is_quarantined() -> None:
    result = run(attendance=[(1, on_duty(11, "u1", 5, "Leave"))])
    assert result.observations == []
    assert result.quarantined == [
        QuarantinedRecord(
            "dingtalk", "attendance", "11", 1, PERIOD, "unknown_time_result",
            "timeResult 'Leave' is not one of ['Absenteeism', 'Early', 'Late', 'Normal', "
            "'NotSigned', 'SeriousLate']",
        )
    ]  # fmt: skip


def test_a_result_without_a_user_is_quarantined() -> None:
    result = run(attendance=[(1, on_duty(11, " ", 5, "Late"))])
    assert result.observations == []
    assert result.quarantined == [
        QuarantinedRecord(
            "dingtalk", "attendance", "11", 1, PERIOD, "missing_user", "userId ' ' is empty"
        )
    ]


def test_a_leave_with_an_unreadable_interval_is_quarantined_and_excuses_nothing() -> None:
    result = run(
        attendance=[(1, on_duty(11, "u1", 5, "Late"))],
        leave_status=[(60, leave("u1", ms(5, 8), ms(5, 12)) | {"end_time": "noon"})],
    )
    assert result.observations == facts_of("u1", 1, 0, 1)
    assert result.quarantined == [
        QuarantinedRecord(
            "dingtalk", "leave_status", "u1|60", 60, PERIOD, "bad_timestamp",
            "end_time 'noon' is not epoch milliseconds",
        )
    ]  # fmt: skip


def test_the_mapping_is_registered_with_the_streams_it_reads() -> None:
    connector = get("dingtalk")
    assert connector.mapping is MAPPING
    assert MAPPING.kpi_codes == ("late_count", "absence_days")
    assert MAPPING.streams == ("attendance", "approvals", "leave_status")
