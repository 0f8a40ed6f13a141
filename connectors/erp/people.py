"""The ERP as an employee master: HR_EMP lists everyone with a job number, leavers included, and
links the badges the QMS knows and the cards the attendance terminals know to job numbers.

Badges change hands (a new hire inherits a leaver's badge), so links come from HR_EMP_BADGE with
the days each was held; HR_EMP's current badge and card stand in only for an employee without
any history rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from connectors.registry import DirectoryEntry, PersonLink, RecordReader
from schemas.facts import PersonRef

BADGE = "badge"
CARD = "card"


def directory(records: RecordReader) -> Iterator[DirectoryEntry]:
    for head in records.heads("hr_emp"):
        row = head.payload
        job_number = str(row.get("FEMPNO") or "").strip()
        if job_number:
            yield DirectoryEntry(
                job_number=job_number,
                name=str(row.get("FNAME") or ""),
                department=str(row.get("FDEPTNAME") or ""),
                email=None,
                person=PersonRef("erp", job_number),
            )


def _day(text: object) -> date | None:
    return datetime.fromisoformat(str(text)).date() if text else None


def _held(row: dict[str, object]) -> tuple[date | None, date | None] | None:
    """The days a history row covers, or None when a date cannot be read: such a row links
    nothing, so its badge's records are quarantined as held by nobody rather than guessed."""
    try:
        return _day(row.get("FBEGINDATE")), _day(row.get("FENDDATE"))
    except ValueError:
        return None


def _links(
    job_number: str, row: dict[str, object], version_id: int, since: date | None, until: date | None
) -> Iterator[PersonLink]:
    for system, column in ((BADGE, "FBADGE"), (CARD, "FCARDNO")):
        held = str(row.get(column) or "").strip()
        if held:
            yield PersonLink(PersonRef(system, held), job_number, None, version_id, since, until)


def person_links(records: RecordReader) -> Iterator[PersonLink]:
    with_history: set[str] = set()
    for head in records.heads("hr_emp_badge"):
        row = head.payload
        job_number = str(row.get("FEMPNO") or "").strip()
        if not job_number:
            continue
        with_history.add(job_number)
        held = _held(row)
        if held is not None:
            yield from _links(job_number, row, head.version_id, *held)
    for head in records.heads("hr_emp"):
        job_number = str(head.payload.get("FEMPNO") or "").strip()
        if job_number and job_number not in with_history:
            yield from _links(job_number, head.payload, head.version_id, None, None)
