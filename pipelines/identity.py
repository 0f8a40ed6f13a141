"""Identity resolution: every system's person id -> the job number.

The directories (DingTalk's and the ERP's HR_EMP) are the employee master. Other systems link their
ids to it by a job number they carry or, failing that, by e-mail; badges and cards link through
the ERP for the days they were held, so a badge handed to a new hire mid-month resolves by date.
A person who cannot be resolved, or who matches more than one employee, is never guessed: their
records go to quarantine.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from connectors.registry import Connector, DirectoryEntry, PersonLink
from pipelines.reader import StoreReader
from schemas.facts import PersonRef

DIRECT_SYSTEMS = frozenset({"job_number"})


@dataclass(frozen=True)
class Unresolved:
    reason: str
    detail: str


@dataclass
class IdentityResolver:
    employees: dict[str, DirectoryEntry]
    links: dict[PersonRef, list[PersonLink]] = field(default_factory=dict)
    by_email: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(
        cls, directory: Iterable[DirectoryEntry], links: Iterable[PersonLink]
    ) -> IdentityResolver:
        employees: dict[str, DirectoryEntry] = {}
        linked: dict[PersonRef, list[PersonLink]] = defaultdict(list)
        for entry in directory:
            employees.setdefault(entry.job_number, entry)
            # A directory's own id (a DingTalk userid) resolves to the job number it lists.
            linked[entry.person].append(PersonLink(entry.person, entry.job_number, None, 0))
        for link in links:
            linked[link.person].append(link)
        by_email: dict[str, list[str]] = defaultdict(list)
        for entry in employees.values():
            if entry.email:
                by_email[entry.email.strip().lower()].append(entry.job_number)
        return cls(
            employees=employees,
            links={person: _distinct(found) for person, found in linked.items()},
            by_email=dict(by_email),
        )

    @classmethod
    def load(cls, session: Session, connectors: Mapping[str, Connector]) -> IdentityResolver:
        directory: list[DirectoryEntry] = []
        links: list[PersonLink] = []
        for connector in connectors.values():
            reader = StoreReader(session, connector.name)
            if connector.directory is not None:
                directory.extend(connector.directory(reader))
            if connector.person_links is not None:
                links.extend(connector.person_links(reader))
        return cls.build(directory, links)

    def employee(self, job_number: str) -> DirectoryEntry | None:
        return self.employees.get(job_number)

    def resolve(self, person: PersonRef, on: date | None = None) -> str | Unresolved:
        """The job number of ``person`` (on day ``on`` for ids held for a time), or why there
        is none."""
        if not person.person_id.strip():
            label = person.system.replace("_", " ")
            return Unresolved("missing_person", f"the {label} is empty: the record names no one")
        if person.system in DIRECT_SYSTEMS:
            if person.person_id in self.employees:
                return person.person_id
            return Unresolved(
                "unknown_job_number", f"job number {person.person_id} is not in the directory"
            )
        found = self.links.get(person)
        who = f"{person.system} {person.person_id}"
        if not found:
            return Unresolved("unknown_person", f"{who} is not known to any directory")
        holding = [link for link in found if link.holds_on(on)]
        when = f" on {on.isoformat()}" if on else ""
        if not holding:
            return Unresolved("unknown_person", f"{who} was held by nobody{when}")
        owners = sorted({link.job_number or link.email or "?" for link in holding})
        if len(owners) > 1:
            return Unresolved(
                "ambiguous_person",
                f"{who} is held by {len(owners)} people{when}: {', '.join(owners)}",
            )
        link = holding[0]
        if link.job_number:
            if link.job_number in self.employees:
                return link.job_number
            return Unresolved(
                "unknown_job_number",
                f"{who} carries job number {link.job_number}, which is not in the directory",
            )
        if not link.email:
            return Unresolved("unknown_person", f"{who} has neither a job number nor an e-mail")
        matches = self.by_email.get(link.email.strip().lower(), [])
        if len(matches) == 1:
            return matches[0]
        if not matches:
            return Unresolved(
                "unknown_person",
                f"{who} has no job number and e-mail {link.email} matches nobody in the directory",
            )
        return Unresolved(
            "ambiguous_person",
            f"{who}: e-mail {link.email} matches {len(matches)} employees "
            f"({', '.join(sorted(matches))})",
        )


def _distinct(links: list[PersonLink]) -> list[PersonLink]:
    """The same link stated twice (a badge in HR_EMP and in its history) counts once."""
    seen: dict[tuple[str | None, str | None, date | None, date | None], PersonLink] = {}
    for link in links:
        seen.setdefault((link.job_number, link.email, link.valid_from, link.valid_until), link)
    return list(seen.values())
