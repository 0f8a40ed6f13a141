"""DingTalk attendance results -> late_count and absence_days, keyed by DingTalk userid.

DingTalk judges each scheduled punch point itself (``timeResult``); the hub only decides whether
an approval excuses it. Only the OnDuty point of a working day matters: arriving late or not
arriving at all is what the KPIs count, leaving early is not.

- late_count: working days whose OnDuty result is ``Late`` or ``SeriousLate`` and not excused.
- absence_days: working days whose OnDuty result is ``Absenteeism`` or ``NotSigned`` and not
  excused.

A result is excused by the approval DingTalk attached to it (``procInstId``, or ``approveId``)
when that approval is approved (status ``COMPLETED``, result ``agree``), or by an approved leave
(getleavestatus) of the same person that covers the shift start (``baseCheckTime``). The day is
the local date of ``workDate`` in Asia/Shanghai, and so is the period.

A result that names an approval the hub has not landed cannot be judged: counting it would punish
someone for an approval the hub did not read (a process not in ``KPIHUB_DINGTALK_PROCESS_CODES``,
or one not pulled yet), and excusing it would trust an approval nobody has seen. It is quarantined
as ``approval_not_landed``, so HR sees it, and the fact is restated once the approval lands.

Everyone with an OnDuty result in the period is measured: days on time give zero-valued
observations carrying their records, so a punctual person scores 0 rather than missing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from connectors.dingtalk.envelope import as_int
from connectors.registry import FactMapping, HeadRecord, MappingResult, RecordReader
from connectors.sdk.timeparse import SHANGHAI
from schemas.facts import Observation, PersonRef, QuarantinedRecord

SYSTEM = "dingtalk"
ON_DUTY = "OnDuty"
ON_TIME = frozenset({"Normal", "Early"})
LATE = frozenset({"Late", "SeriousLate"})
ABSENT = frozenset({"Absenteeism", "NotSigned"})
APPROVED_STATUS = "COMPLETED"
APPROVED_RESULT = "agree"
LATE_COUNT = "late_count"
ABSENCE_DAYS = "absence_days"


@dataclass(frozen=True)
class Leave:
    """An approved leave of one person, from ``start_ms`` (inclusive) to ``end_ms``."""

    start_ms: int
    end_ms: int
    version_id: int

    def covers(self, instant_ms: int) -> bool:
        return self.start_ms <= instant_ms < self.end_ms


@dataclass(frozen=True)
class Approval:
    version_id: int
    approved: bool


@dataclass(frozen=True)
class Excuses:
    """What can excuse a result: approvals by instance id, approved leaves by userid."""

    approvals: Mapping[str, Approval]
    leaves: Mapping[str, list[Leave]]

    def leave_covering(self, userid: str, instant_ms: int) -> Leave | None:
        return next((v for v in self.leaves.get(userid, ()) if v.covers(instant_ms)), None)


@dataclass(frozen=True)
class Judged:
    """One OnDuty result: whether it counts as late or absent, and every record behind that
    verdict (the result, and the approval or leave consulted)."""

    userid: str
    day: date
    late: bool
    absent: bool
    inputs: tuple[int, ...]


def _quarantine(
    stream: str, head: HeadRecord, period: str, reason: str, detail: str
) -> QuarantinedRecord:
    return QuarantinedRecord(
        SYSTEM, stream, head.record_key, head.version_id, period, reason, detail
    )


def local_day(epoch_ms: int) -> date:
    """The Asia/Shanghai date of an instant in epoch milliseconds."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).astimezone(SHANGHAI).date()


def _approvals(heads: Iterable[HeadRecord]) -> dict[str, Approval]:
    """Every landed approval by instance id; approved means COMPLETED and agree, as DingTalk's
    documentation defines it (a refused or withdrawn one excuses nothing)."""
    found: dict[str, Approval] = {}
    for head in heads:
        instance = head.payload
        instance_id = str(instance.get("process_instance_id") or head.record_key)
        approved = (
            instance.get("status") == APPROVED_STATUS and instance.get("result") == APPROVED_RESULT
        )
        found[instance_id] = Approval(head.version_id, approved)
    return found


def _leaves(
    heads: Iterable[HeadRecord], period: str, quarantined: list[QuarantinedRecord]
) -> dict[str, list[Leave]]:
    """Approved leaves by userid (getleavestatus reports approved leave only). A leave whose
    interval cannot be read could excuse anything, so it is reported rather than ignored."""
    found: dict[str, list[Leave]] = defaultdict(list)
    for head in heads:
        leave = head.payload
        start, end = as_int(leave.get("start_time")), as_int(leave.get("end_time"))
        if start is None or end is None:
            field, value = ("start_time", leave.get("start_time"))
            if start is not None:
                field, value = ("end_time", leave.get("end_time"))
            detail = f"{field} {value!r} is not epoch milliseconds"
            quarantined.append(_quarantine("leave_status", head, period, "bad_timestamp", detail))
            continue
        found[str(leave.get("userid") or "")].append(Leave(start, end, head.version_id))
    return dict(found)


def _judge(
    head: HeadRecord, userid: str, day: date, excuses: Excuses, period: str
) -> Judged | QuarantinedRecord:
    """Whether a late or missing OnDuty punch counts, or why that cannot be decided."""
    result = head.payload
    time_result = result.get("timeResult")
    if time_result in ON_TIME:
        return Judged(userid, day, False, False, (head.version_id,))
    if time_result not in LATE and time_result not in ABSENT:
        detail = f"timeResult {time_result!r} is not one of {sorted(ON_TIME | LATE | ABSENT)}"
        return _quarantine("attendance", head, period, "unknown_time_result", detail)
    inputs = [head.version_id]
    instance_id = str(result.get("procInstId") or result.get("approveId") or "")
    approval = excuses.approvals.get(instance_id) if instance_id else None
    if approval is not None:
        inputs.append(approval.version_id)
        if approval.approved:
            return Judged(userid, day, False, False, tuple(inputs))
    shift_start = as_int(result.get("baseCheckTime"))
    if shift_start is None:
        detail = (
            f"baseCheckTime {result.get('baseCheckTime')!r} is not epoch milliseconds: "
            "cannot tell whether a leave covers the shift start"
        )
        return _quarantine("attendance", head, period, "bad_timestamp", detail)
    leave = excuses.leave_covering(userid, shift_start)
    if leave is not None:
        inputs.append(leave.version_id)
        return Judged(userid, day, False, False, tuple(inputs))
    if instance_id and approval is None:
        detail = (
            f"{time_result} on {day.isoformat()} names approval {instance_id}, which has not "
            "landed: its process is not read or it was not pulled yet"
        )
        return _quarantine("attendance", head, period, "approval_not_landed", detail)
    return Judged(userid, day, time_result in LATE, time_result in ABSENT, tuple(inputs))


def result_period(result: Mapping[str, Any]) -> str | None:
    """The local month of an attendance result's ``workDate``, as ``attendance_facts`` counts
    it."""
    work_date = as_int(result.get("workDate"))
    if work_date is None:
        return None
    try:
        return local_day(work_date).strftime("%Y-%m")
    except (ValueError, OverflowError, OSError):
        return None


def _on_duty_day(head: HeadRecord, period: str) -> date | QuarantinedRecord:
    work_date = as_int(head.payload.get("workDate"))
    if work_date is not None:
        try:
            return local_day(work_date)
        except (ValueError, OverflowError, OSError):
            pass  # a whole number, but no instant: another unit, or garbage
    detail = f"workDate {head.payload.get('workDate')!r} is not epoch milliseconds"
    return _quarantine("attendance", head, period, "bad_timestamp", detail)


def attendance_facts(period: str, records: RecordReader) -> MappingResult:
    quarantined: list[QuarantinedRecord] = []
    excuses = Excuses(
        approvals=_approvals(records.heads("approvals")),
        leaves=_leaves(records.heads("leave_status"), period, quarantined),
    )
    days: dict[tuple[str, date], list[Judged]] = defaultdict(list)
    for head in records.heads("attendance", period=period):
        result: Mapping[str, Any] = head.payload
        if result.get("checkType") != ON_DUTY:
            continue
        day = _on_duty_day(head, period)
        if isinstance(day, QuarantinedRecord):
            quarantined.append(day)
            continue
        if day.strftime("%Y-%m") != period:
            continue
        userid = str(result.get("userId") or "").strip()
        if not userid:
            detail = f"userId {result.get('userId')!r} is empty"
            quarantined.append(_quarantine("attendance", head, period, "missing_user", detail))
            continue
        judged = _judge(head, userid, day, excuses, period)
        if isinstance(judged, QuarantinedRecord):
            quarantined.append(judged)
        else:
            days[(userid, day)].append(judged)
    observations: list[Observation] = []
    # A day counts once per KPI, however many OnDuty points its schedule has.
    for (userid, _), judged in sorted(days.items()):
        person = PersonRef(SYSTEM, userid)
        inputs = tuple(sorted({i for j in judged for i in j.inputs}))
        late = Decimal(int(any(j.late for j in judged)))
        absent = Decimal(int(any(j.absent for j in judged)))
        observations.append(Observation(person, LATE_COUNT, late, inputs=inputs))
        observations.append(Observation(person, ABSENCE_DAYS, absent, inputs=inputs))
    return MappingResult(observations=observations, quarantined=quarantined)


MAPPING = FactMapping(
    kpi_codes=(LATE_COUNT, ABSENCE_DAYS),
    streams=("attendance", "approvals", "leave_status"),
    run=attendance_facts,
)
