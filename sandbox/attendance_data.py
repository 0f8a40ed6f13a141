"""Who was where, when: terminal shifts and punches for the production floor, DingTalk attendance
results for office staff, and the leave and approvals that excuse a late or missing punch.

The model keeps, per person and working day, what the systems recorded (on time, late, absent,
on leave); the servers render it in each system's own shape, and the ground truth counts it.
Planted on top of what the seeded generator drew: a line whose terminals lost every punch of one
day, and a terminal whose clock runs an hour late for a week, so everyone punching on it arrives
late as far as any system can tell.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache

from sandbox.clock import local, period_of, rng_for, workdays
from sandbox.company import Company, Employee

SHIFT_START = (8, 0)
SHIFT_END = (17, 0)
GRACE_MINUTES = 5
CLOCK_LATE = timedelta(hours=1)


def terminal_of(line: str, card_no: str) -> str:
    """The terminal a card punches on: each line has two, and a card always uses the same one."""
    return f"T-{line}-{1 + int(card_no) % 2:02d}"


@dataclass(frozen=True)
class ClockDrift:
    """A terminal whose clock runs ``CLOCK_LATE`` behind on ``days``: every punch it stamps
    then is that much later than the tap."""

    device: str
    days: frozenset[date]


@dataclass(frozen=True)
class Leave:
    """An approved leave as DingTalk's getleavestatus reports it."""

    userid: str
    job_number: str
    start: datetime
    end: datetime
    percent_day: int
    instance_id: str


@dataclass(frozen=True)
class Approval:
    instance_id: str
    process_code: str
    title: str
    originator_userid: str
    created: datetime
    finished: datetime
    status: str
    result: str
    day: date
    kind: str


@dataclass(frozen=True)
class DayRecord:
    """What happened to one person on one scheduled working day."""

    job_number: str
    day: date
    arrival: datetime | None
    departure: datetime | None
    leave: Leave | None
    approval: Approval | None
    device_outage: bool = False
    tapped_twice: bool = False
    direction_unknown: bool = False
    record_id: int = 0
    clock_late: bool = False

    @property
    def late(self) -> bool:
        start = local(self.day, *SHIFT_START)
        return self.arrival is not None and self.arrival > start + timedelta(minutes=GRACE_MINUTES)

    @property
    def excused(self) -> bool:
        if self.approval is not None and self.approval.result == "agree":
            return True
        if self.leave is None:
            return False
        start = local(self.day, *SHIFT_START)
        return self.leave.start <= start < self.leave.end

    @property
    def counts_late(self) -> bool:
        return self.late and not self.excused

    @property
    def counts_absent(self) -> bool:
        return self.arrival is None and not self.excused


@dataclass
class AttendanceMonth:
    period: str
    days: list[DayRecord] = field(default_factory=list)
    leaves: list[Leave] = field(default_factory=list)
    approvals: list[Approval] = field(default_factory=list)


class Attendance:
    def __init__(
        self,
        seed: int,
        size: int,
        company: Company,
        as_of: date,
        outage: tuple[str, date] | None,
        drifts: tuple[ClockDrift, ...] = (),
    ) -> None:
        self.seed = seed
        self.size = size
        self.company = company
        self.as_of = as_of
        self.outage = outage  # (line, day): the terminals of that line lost every punch
        self.drifts = drifts

    def on(self, day: date) -> tuple[DayRecord, ...]:
        return self._by_day(period_of(day)).get(day, ())

    @cache  # noqa: B019 - one Attendance per world, kept for its lifetime
    def _by_day(self, period: str) -> dict[date, tuple[DayRecord, ...]]:
        grouped: dict[date, list[DayRecord]] = {}
        for record in self.month(period).days:
            grouped.setdefault(record.day, []).append(record)
        return {day: tuple(records) for day, records in grouped.items()}

    @cache  # noqa: B019 - one Attendance per world, kept for its lifetime
    def month(self, period: str) -> AttendanceMonth:
        rng = rng_for(self.seed, self.size, "attendance", period)
        month = AttendanceMonth(period)
        sequence = 0
        for day in workdays(period, self.as_of):
            for person in self.company.employees:
                if not person.employed_on(day):
                    continue
                sequence += 1
                month.days.append(self._day(rng, person, day, sequence, month))
        return month

    def _day(
        self,
        rng: random.Random,
        person: Employee,
        day: date,
        sequence: int,
        month: AttendanceMonth,
    ) -> DayRecord:
        roll = rng.random()
        start = local(day, *SHIFT_START)
        departure = local(day, *SHIFT_END) + timedelta(minutes=rng.randint(0, 50))
        arrival: datetime | None = start - timedelta(
            minutes=rng.randint(1, 30), seconds=rng.randint(0, 59)
        )
        leave: Leave | None = None
        approval: Approval | None = None
        if roll < 0.02:
            # A full day of approved leave: no punches, nothing to count.
            approval = self._approval(person, day, sequence, "leave", "agree", month)
            leave = self._leave(person, day, 100, approval, month)
            arrival = None
            departure = None
        elif roll < 0.03:
            arrival, departure = None, None  # absent without leave
            if rng.random() < 0.3:
                # A leave was asked for, and refused: the absence still counts.
                self._approval(person, day, sequence, "leave", "refuse", month)
        elif roll < 0.08:
            arrival = start + timedelta(minutes=rng.randint(6, 45), seconds=rng.randint(0, 59))
            cover = rng.random()
            if cover < 0.2:
                # A morning's leave covers the late arrival.
                approval_made = self._approval(person, day, sequence, "leave", "agree", month)
                leave = self._leave(person, day, 50, approval_made, month)
            elif cover < 0.35 and not person.uses_terminals:
                # An approved field trip is attached to the punch itself (procInstId).
                approval = self._approval(person, day, sequence, "trip", "agree", month)
        # Unique across months (the sequence restarts each month), as DingTalk's ids are.
        record_id = (day.year * 100 + day.month) * 1_000_000 + sequence
        if person.uses_terminals and self.outage == (person.line, day):
            return DayRecord(
                person.job_number, day, None, None, leave, approval, device_outage=True,
                record_id=record_id,
            )  # fmt: skip
        if self._drifted(person, day):
            return DayRecord(
                person.job_number, day,
                None if arrival is None else arrival + CLOCK_LATE,
                None if departure is None else departure + CLOCK_LATE,
                leave, approval, record_id=record_id, clock_late=True,
            )  # fmt: skip
        return DayRecord(
            person.job_number, day, arrival, departure, leave, approval, record_id=record_id
        )

    def _drifted(self, person: Employee, day: date) -> bool:
        drifted = [d.device for d in self.drifts if day in d.days]
        if not drifted or not person.uses_terminals:
            return False
        card = person.badge_on(day) or person.current
        return terminal_of(person.line or "", card.card_no) in drifted

    def _approval(
        self,
        person: Employee,
        day: date,
        sequence: int,
        kind: str,
        result: str,
        month: AttendanceMonth,
    ) -> Approval:
        created = local(day, 7, 30) - timedelta(days=1)
        approval = Approval(
            instance_id=f"PI{day:%Y%m%d}{sequence:07d}{kind[0].upper()}",
            process_code="PROC-LEAVE" if kind == "leave" else "PROC-TRIP",
            title=f"{person.name}提交的{'请假' if kind == 'leave' else '外出'}",
            originator_userid=person.userid,
            created=created,
            finished=created + timedelta(hours=2),
            status="COMPLETED",
            result=result,
            day=day,
            kind=kind,
        )
        month.approvals.append(approval)
        return approval

    def _leave(
        self, person: Employee, day: date, percent: int, approval: Approval, month: AttendanceMonth
    ) -> Leave:
        start = local(day, *SHIFT_START)
        end = local(day, 12, 0) if percent == 50 else local(day, *SHIFT_END)
        leave = Leave(person.userid, person.job_number, start, end, percent, approval.instance_id)
        month.leaves.append(leave)
        return leave
