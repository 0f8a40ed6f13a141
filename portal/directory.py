"""Who may see whose score: the DingTalk directory as the hub landed it (departments and their
members, the leader flag), walked down the department tree.

The scope is read from the landed directory, not asked of DingTalk on each request, so the portal
answers the same as the hub's own employee master; it is re-read whenever the directory changes.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pipelines.assignment import PATH_SEPARATOR
from pipelines.reader import StoreReader
from schemas.tables import RecordHead

SOURCE = "dingtalk"
STREAMS = ("departments", "users")
MAX_DEPTH = 32


@dataclass(frozen=True)
class Department:
    dept_id: int
    name: str
    parent_id: int


@dataclass(frozen=True)
class Member:
    """One person of the directory: the userid DingTalk signs in, the job number scores carry."""

    userid: str
    job_number: str
    name: str
    dept_ids: tuple[int, ...]
    leader: bool


@dataclass(frozen=True)
class Directory:
    departments: Mapping[int, Department]
    members: Mapping[str, Member]
    children: Mapping[int, tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, departments: Iterable[Department], members: Iterable[Member]) -> Directory:
        by_id = {d.dept_id: d for d in departments}
        children: dict[int, list[int]] = defaultdict(list)
        for dept in by_id.values():
            children[dept.parent_id].append(dept.dept_id)
        return cls(
            by_id,
            {m.userid: m for m in members},
            {parent: tuple(sorted(kids)) for parent, kids in children.items()},
        )

    def below(self, dept_ids: Iterable[int]) -> frozenset[int]:
        """The departments given and every department under them."""
        found: set[int] = set()
        pending = list(dept_ids)
        while pending:
            dept_id = pending.pop()
            if dept_id not in found:
                found.add(dept_id)
                pending.extend(self.children.get(dept_id, ()))
        return frozenset(found)

    def path(self, dept_id: int) -> str:
        """The department's path as the employee master writes it (``销售中心/华东销售部``)."""
        names: list[str] = []
        node = self.departments.get(dept_id)
        while node is not None and len(names) < MAX_DEPTH:
            names.append(node.name)
            node = self.departments.get(node.parent_id)
        return PATH_SEPARATOR.join(reversed(names))

    def by_job_number(self, job_number: str) -> Member | None:
        return next((m for m in self.members.values() if m.job_number == job_number), None)


def _as_int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def read_directory(hub: Engine) -> Directory:
    with Session(hub) as session:
        reader = StoreReader(session, SOURCE)
        departments = [
            Department(
                _as_int(h.payload.get("dept_id")),
                str(h.payload.get("name") or ""),
                _as_int(h.payload.get("parent_id")),
            )
            for h in reader.heads("departments")
        ]
        members = [
            Member(
                userid=h.record_key,
                job_number=str(h.payload.get("job_number") or "").strip(),
                name=str(h.payload.get("name") or ""),
                dept_ids=tuple(_as_int(d) for d in h.payload.get("dept_id_list") or []),
                leader=h.payload.get("leader") is True,
            )
            for h in reader.heads("users")
        ]
    return Directory.of(departments, [m for m in members if m.job_number])


class DirectoryCache:
    """The landed directory, read again only when a newer version of it has landed."""

    def __init__(self, hub: Engine) -> None:
        self.hub = hub
        self._lock = threading.Lock()
        self._stamp: tuple[Any, ...] | None = None
        self._directory: Directory | None = None

    def _landed_stamp(self) -> tuple[Any, ...]:
        with Session(self.hub) as session:
            row = session.execute(
                select(func.count(), func.max(RecordHead.version_id)).where(
                    RecordHead.source == SOURCE, RecordHead.stream.in_(STREAMS)
                )
            ).one()
        return tuple(row)

    def get(self) -> Directory:
        stamp = self._landed_stamp()
        with self._lock:
            if self._directory is None or stamp != self._stamp:
                self._directory = read_directory(self.hub)
                self._stamp = stamp
            return self._directory
