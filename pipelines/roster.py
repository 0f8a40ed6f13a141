"""The people to score: the employee master as identity resolution knows it, with the job title
and leader flag the directory records carry, which template assignment needs.

The directory entries a connector yields name the person, their department and e-mail; title and
leader flag are read from the same directory records as landed (DingTalk's ``user/list`` has
``title`` and ``leader``; the ERP's HR_EMP has neither, so an ERP-only person's are unknown).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from connectors.registry import Connector
from pipelines.assignment import Person
from pipelines.identity import IdentityResolver
from pipelines.reader import StoreReader
from schemas.facts import PersonRef

Profile = tuple[str | None, bool | None]
UNKNOWN: Profile = (None, None)


def _profile(payload: Mapping[str, Any]) -> Profile:
    title = str(payload.get("title") or "").strip() or None
    leader = payload.get("leader")
    return title, leader if isinstance(leader, bool) else None


def directory_profiles(
    session: Session, connectors: Mapping[str, Connector]
) -> dict[PersonRef, Profile]:
    """(title, leader) of every directory record that says either, by the person it names."""
    profiles: dict[PersonRef, Profile] = {}
    for connector in connectors.values():
        if connector.directory is None:
            continue
        reader = StoreReader(session, connector.name)
        for stream in connector.identity_streams:
            for head in reader.heads(stream):
                if "title" in head.payload or "leader" in head.payload:
                    profiles[PersonRef(connector.name, head.record_key)] = _profile(head.payload)
    return profiles


def load_people(session: Session, connectors: Mapping[str, Connector]) -> list[Person]:
    """Every employee of the master directory as a :class:`Person`, in job number order."""
    resolver = IdentityResolver.load(session, connectors)
    profiles = directory_profiles(session, connectors)
    people: list[Person] = []
    for entry in sorted(resolver.employees.values(), key=lambda e: e.job_number):
        title, leader = profiles.get(entry.person, UNKNOWN)
        people.append(Person(entry.job_number, entry.name, entry.department, title, leader))
    return people
