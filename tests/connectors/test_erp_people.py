"""The ERP as employee master: everyone in HR_EMP is in the directory (leavers too), badges and
cards link to job numbers for the days HR_EMP_BADGE says they were held, and HR_EMP's current
badge stands in only for an employee without history."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from connectors.erp.people import directory, person_links
from connectors.registry import HeadRecord, PersonLink
from schemas.facts import PersonRef


class Landed:
    def __init__(self, streams: dict[str, list[dict[str, Any]]]) -> None:
        self.streams = streams

    def heads(
        self, stream: str, source: str | None = None, period: str | None = None
    ) -> Iterable[HeadRecord]:
        for n, payload in enumerate(self.streams.get(stream, []), start=1):
            yield HeadRecord(version_id=n, record_key=str(n), payload=payload)


def employee(job_number: str, badge: str | None, card: str, status: str = "A") -> dict[str, Any]:
    return {
        "FEMPNO": job_number,
        "FNAME": "王伟",
        "FDEPTNAME": "一号产线",
        "FBADGE": badge,
        "FCARDNO": card,
        "FSTATUS": status,
        "FMODIFYDATE": "2026-10-10T09:00:00",
    }


def held(job_number: str, badge: str, card: str, begin: str, end: str | None) -> dict[str, Any]:
    return {
        "FID": 1,
        "FEMPNO": job_number,
        "FBADGE": badge,
        "FCARDNO": card,
        "FBEGINDATE": begin,
        "FENDDATE": end,
        "FMODIFYDATE": begin,
    }


RECORDS = Landed(
    {
        "hr_emp": [
            employee("E00001", "BG00001N", "9000001"),
            employee("E00002", "BG00001", "9000002"),
            employee("E00003", "BG00003", "9000003", status="L"),
        ],
        "hr_emp_badge": [
            held("E00001", "BG00001", "9000001", "2020-03-01T00:00:00", "2026-10-10T00:00:00"),
            held("E00001", "BG00001N", "9000001", "2026-10-10T00:00:00", None),
            held("E00002", "BG00001", "9000002", "2026-10-10T00:00:00", None),
            held("E00004", "BG00004", "9000004", "2026-13-01T00:00:00", None),
        ],
    }
)


def test_everyone_in_hr_emp_is_in_the_directory_leavers_included() -> None:
    entries = list(directory(RECORDS))
    assert [(e.job_number, e.department, e.person) for e in entries] == [
        ("E00001", "一号产线", PersonRef("erp", "E00001")),
        ("E00002", "一号产线", PersonRef("erp", "E00002")),
        ("E00003", "一号产线", PersonRef("erp", "E00003")),
    ]


def test_badges_and_cards_link_for_the_days_they_were_held() -> None:
    links = [
        (link.person.system, link.person.person_id, link.job_number, link.valid_from,
         link.valid_until, link.version_id)
        for link in person_links(RECORDS)
    ]  # fmt: skip
    handover = date(2026, 10, 10)
    assert links == [
        ("badge", "BG00001", "E00001", date(2020, 3, 1), handover, 1),
        ("card", "9000001", "E00001", date(2020, 3, 1), handover, 1),
        ("badge", "BG00001N", "E00001", handover, None, 2),
        ("card", "9000001", "E00001", handover, None, 2),
        ("badge", "BG00001", "E00002", handover, None, 3),
        ("card", "9000002", "E00002", handover, None, 3),
        # E00004's only history row has a date that does not exist: it links nothing, and
        # HR_EMP does not stand in, since the history says the badge was not simply current.
        # E00003 has no history at all: HR_EMP's current badge and card hold without dates.
        ("badge", "BG00003", "E00003", None, None, 3),
        ("card", "9000003", "E00003", None, None, 3),
    ]
    first: PersonLink = next(iter(person_links(RECORDS)))
    assert first.holds_on(date(2026, 10, 9)) and not first.holds_on(handover)
