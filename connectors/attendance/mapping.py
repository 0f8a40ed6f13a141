"""Terminal shifts and punches -> late arrivals and absence days, keyed by card number.

Per scheduled (non-rest) day of the period and card:
- late when the first punch of that local day came after shift start plus the grace period
  (``KPIHUB_ATTENDANCE_GRACE_MINUTES``, default 5 minutes). The first punch counts whatever its
  direction: terminals often leave the direction null, and a tap is a tap;
- absent when the card has no punch at all that day. A day a line's terminals lost every punch
  (a device outage) looks the same in the punches and counts as an absence too: the hub does
  not guess who was there; the outage shows as a drop in the punch stream's volume;
- a late or absent day is excused when an approved DingTalk leave of the card's holder covers
  the shift start (leave start <= shift start < leave end). DingTalk's leave status reports
  approved leave only.

Every scheduled day gives one observation of each KPI, 1 or 0, so every scheduled worker gets a
late count and an absence count, zeros included. Its inputs are the shift and the records that
decided the day: the first punch, and the leave when it excused the day.

Whose leave excuses a card's day: leave is keyed by DingTalk userid, the shift by card number,
and the two meet only at the job number. A card is handed on (the ERP's HR_EMP_BADGE says who held
it on which days), so the holder is looked up for that very day with the ERP's own badge history,
the same links the hub resolves the card with; the DingTalk directory then names that job
number's userids. A day whose card nobody (or more than one person) held is not excused by
anyone's leave; the hub quarantines it as an unresolved card.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.erp.people import person_links
from connectors.registry import (
    FactMapping,
    HeadRecord,
    MappingResult,
    PersonLink,
    RecordReader,
)
from connectors.sdk.timeparse import SHANGHAI
from schemas.facts import Observation, PersonRef, QuarantinedRecord
from schemas.periods import period_of

SOURCE = "attendance"
CARD = "card"
LATE = "late_count"
ABSENT = "absence_days"
GRACE_ENV = "KPIHUB_ATTENDANCE_GRACE_MINUTES"
DEFAULT_GRACE_MINUTES = 5
DINGTALK = "dingtalk"
ERP = "erp"
ONE = Decimal(1)
ZERO = Decimal(0)


class GraceError(ValueError):
    """The configured grace period is not a whole number of minutes."""


def grace_period(environ: Mapping[str, str] | None = None) -> timedelta:
    """The grace after shift start before a first punch is late, from ``GRACE_ENV``."""
    text = (os.environ if environ is None else environ).get(GRACE_ENV, "").strip()
    if not text:
        return timedelta(minutes=DEFAULT_GRACE_MINUTES)
    if not text.isascii() or not text.isdigit():
        raise GraceError(
            f"{GRACE_ENV}={text!r}: the grace period must be a whole number of minutes, 0 or "
            f"more (default {DEFAULT_GRACE_MINUTES})"
        )
    return timedelta(minutes=int(text))


@dataclass(frozen=True)
class Timed:
    """A landed record placed in time: a punch at ``start``, or a leave from ``start`` to
    ``end``. Only the version id is kept, not the record: a month of a large company's punches
    would otherwise sit in memory whole."""

    version_id: int
    start: datetime
    end: datetime | None = None


class _Pinned:
    """Another source's landed records, read under that source's name: lets the ERP's own
    badge-history reading serve this mapping unchanged."""

    def __init__(self, records: RecordReader, source: str) -> None:
        self.records = records
        self.source = source

    def heads(
        self, stream: str, source: str | None = None, period: str | None = None
    ) -> Iterable[HeadRecord]:
        return self.records.heads(stream, source=source or self.source, period=period)


def _quarantine(
    head: HeadRecord, stream: str, period: str, reason: str, detail: str
) -> QuarantinedRecord:
    return QuarantinedRecord(
        SOURCE, stream, head.record_key, head.version_id, period, reason, detail
    )


def _instant(raw: Any, per_second: int) -> datetime:
    """An epoch time stamp (seconds or milliseconds as ``per_second`` says) as a local
    instant; raises ValueError when it is not a whole number."""
    if raw is None or isinstance(raw, bool):
        raise ValueError(raw)
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError(raw) from None
    if not value.is_finite() or value != value.to_integral_value():
        raise ValueError(raw)
    seconds, rest = divmod(int(value), per_second)
    try:
        moment = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError):
        raise ValueError(raw) from None
    return (moment + timedelta(microseconds=rest * 10**6 // per_second)).astimezone(SHANGHAI)


def punch_period(punch: Mapping[str, Any]) -> str | None:
    """The month of a punch's local day, as ``first_punches`` counts it."""
    try:
        return _instant(punch.get("punch_time"), 1).strftime("%Y-%m")
    except ValueError:
        return None


def shift_period(shift: Mapping[str, Any]) -> str | None:
    """The month of a shift's day, as ``scheduled_days`` plans it."""
    try:
        return period_of(date.fromisoformat(str(shift.get("date")).strip()))
    except ValueError:
        return None


def _clock(raw: Any) -> time:
    text = str(raw).strip() if raw is not None else ""
    if len(text) != 5 or text[2] != ":":
        raise ValueError(raw)
    return time(int(text[:2]), int(text[3:]))


def holders(records: RecordReader) -> dict[str, list[PersonLink]]:
    """Every card's holders with the days they held it, as the ERP records them."""
    found: dict[str, list[PersonLink]] = defaultdict(list)
    for link in person_links(_Pinned(records, ERP)):
        if link.person.system == CARD and link.job_number:
            found[link.person.person_id].append(link)
    return found


def userids_by_job_number(records: RecordReader) -> dict[str, set[str]]:
    """The DingTalk directory's userids of each job number (its record key is the userid)."""
    found: dict[str, set[str]] = defaultdict(set)
    for head in records.heads("users", source=DINGTALK):
        job_number = str(head.payload.get("job_number") or "").strip()
        if job_number:
            found[job_number].add(head.record_key)
    return found


def leaves_by_userid(records: RecordReader, wanted: set[str]) -> dict[str, list[Timed]]:
    """Approved leaves of the userids in ``wanted`` (the card holders), earliest first. A leave
    whose times cannot be read excuses nothing here; it is DingTalk's record, so DingTalk's own
    mapping quarantines it and its finding counts it, once."""
    found: dict[str, list[Timed]] = defaultdict(list)
    for head in records.heads("leave_status", source=DINGTALK):
        leave = head.payload
        userid = str(leave.get("userid") or "").strip()
        if userid not in wanted:
            continue
        try:
            start = _instant(leave.get("start_time"), 1000)
            end = _instant(leave.get("end_time"), 1000)
        except ValueError:
            continue
        found[userid].append(Timed(head.version_id, start, end))
    for leaves in found.values():
        leaves.sort(key=lambda t: (t.start, t.version_id))
    return found


def scheduled_days(
    records: RecordReader, period: str, quarantined: list[QuarantinedRecord]
) -> dict[tuple[str, date], Timed]:
    """The period's scheduled shifts per (card, day), with their local start; rest days are
    not scheduled. Should one card and day be landed twice, the newest version plans it."""
    found: dict[tuple[str, date], Timed] = {}
    for head in records.heads("shifts", period=period):
        shift = head.payload
        try:
            day = date.fromisoformat(str(shift.get("date")).strip())
        except ValueError:
            detail = f"date {shift.get('date')!r} is not YYYY-MM-DD"
            quarantined.append(_quarantine(head, "shifts", period, "bad_date", detail))
            continue
        if period_of(day) != period or shift.get("rest"):
            continue
        try:
            start = datetime.combine(day, _clock(shift.get("shift_start")), SHANGHAI)
        except ValueError:
            detail = f"shift_start {shift.get('shift_start')!r} is not HH:MM on a working day"
            quarantined.append(_quarantine(head, "shifts", period, "bad_shift", detail))
            continue
        key = (str(shift.get("card_no") or "").strip(), day)
        held = found.get(key)
        if held is None or head.version_id > held.version_id:
            found[key] = Timed(head.version_id, start)
    return found


def first_punches(
    records: RecordReader, period: str, quarantined: list[QuarantinedRecord]
) -> dict[tuple[str, date], Timed]:
    """The first punch of each card on each local day of the period."""
    found: dict[tuple[str, date], Timed] = {}
    for head in records.heads("punches", period=period):
        punch = head.payload
        try:
            moment = _instant(punch.get("punch_time"), 1)
        except ValueError:
            detail = f"punch_time {punch.get('punch_time')!r} is not epoch seconds"
            quarantined.append(_quarantine(head, "punches", period, "bad_timestamp", detail))
            continue
        if moment.strftime("%Y-%m") != period:
            continue
        key = (str(punch.get("card_no") or "").strip(), moment.date())
        held = found.get(key)
        if held is None or (moment, head.version_id) < (held.start, held.version_id):
            found[key] = Timed(head.version_id, moment)
    return found


def _covering(leaves: Iterable[Timed], start: datetime) -> Timed | None:
    return next((t for t in leaves if t.end is not None and t.start <= start < t.end), None)


def _day_observations(
    card: str, day: date, shift: Timed, punch: Timed | None, leave: Timed | None, grace: timedelta
) -> Iterator[Observation]:
    late = punch is not None and punch.start > shift.start + grace
    absent = punch is None
    person = PersonRef(CARD, card)
    for kpi, happened in ((LATE, late), (ABSENT, absent)):
        counts = happened and leave is None
        inputs = [shift.version_id]
        if punch is not None:
            inputs.append(punch.version_id)
        if happened and leave is not None:
            inputs.append(leave.version_id)
        yield Observation(
            person, kpi, ONE if counts else ZERO, on=day, inputs=tuple(sorted(inputs))
        )


def late_and_absent(period: str, records: RecordReader) -> MappingResult:
    grace = grace_period()
    quarantined: list[QuarantinedRecord] = []
    shifts = scheduled_days(records, period, quarantined)
    punches = first_punches(records, period, quarantined)
    cards = holders(records)
    userids = userids_by_job_number(records)
    wanted = {
        u
        for links in cards.values()
        for link in links
        for u in userids.get(link.job_number or "", ())
    }
    leaves = leaves_by_userid(records, wanted)
    observations: list[Observation] = []
    for (card, day), shift in sorted(shifts.items()):
        holding = {link.job_number for link in cards.get(card, ()) if link.holds_on(day)}
        leave = None
        if len(holding) == 1:
            job_number = holding.pop()
            held = sorted(
                (t for u in userids.get(job_number, ()) for t in leaves.get(u, ())),
                key=lambda t: (t.start, t.version_id),
            )
            leave = _covering(held, shift.start)
        observations.extend(
            _day_observations(card, day, shift, punches.get((card, day)), leave, grace)
        )
    return MappingResult(observations=observations, quarantined=quarantined)


MAPPING = FactMapping(
    kpi_codes=(LATE, ABSENT),
    streams=("shifts", "punches"),
    run=late_and_absent,
    reads=("dingtalk/leave_status", "dingtalk/users", "erp/hr_emp_badge", "erp/hr_emp"),
)
