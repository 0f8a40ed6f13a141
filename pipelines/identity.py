"""Identity resolution: every system's person id -> the job number.

The directory (DingTalk, later also ERP's HR_EMP) is the employee master. Other systems link their
ids to it by a job number they carry or, failing that, by e-mail. A person who cannot be resolved,
or who matches more than one employee, is never guessed: their records go to quarantine.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

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
    links: dict[PersonRef, PersonLink] = field(default_factory=dict)
    by_email: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(
        cls, directory: Iterable[DirectoryEntry], links: Iterable[PersonLink]
    ) -> IdentityResolver:
        employees: dict[str, DirectoryEntry] = {}
        for entry in directory:
            employees.setdefault(entry.job_number, entry)
        by_email: dict[str, list[str]] = defaultdict(list)
        for entry in employees.values():
            if entry.email:
                by_email[entry.email.strip().lower()].append(entry.job_number)
        return cls(
            employees=employees,
            links={link.person: link for link in links},
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

    def resolve(self, person: PersonRef) -> str | Unresolved:
        """The job number of ``person``, or why there is none."""
        if person.system in DIRECT_SYSTEMS:
            if person.person_id in self.employees:
                return person.person_id
            return Unresolved(
                "unknown_job_number", f"job number {person.person_id} is not in the directory"
            )
        link = self.links.get(person)
        who = f"{person.system} person {person.person_id}"
        if link is None:
            return Unresolved("unknown_person", f"{who} is not in the {person.system} user list")
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
