"""The DingTalk directory as the hub landed it: departments, their members and the leader flag.

Read from the landed ``dingtalk/departments`` and ``dingtalk/users`` streams rather than asked
of DingTalk each time, so the portal's scopes and the personal reminders' receivers agree with
the hub's own employee master.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pipelines.assignment import PATH_SEPARATOR
from pipelines.reader import StoreReader

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

    @property
    def main_dept(self) -> int | None:
        """The department listed first: the one the person belongs to before any other."""
        return self.dept_ids[0] if self.dept_ids else None


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

    def by_job_numbers(self) -> dict[str, Member]:
        """Every member by job number, for callers that look up many people at once."""
        return {m.job_number: m for m in self.members.values()}

    @cached_property
    def _leaders_by_dept(self) -> dict[int, list[Member]]:
        leading: dict[int, list[Member]] = defaultdict(list)
        for member in self.members.values():
            if member.leader and member.main_dept is not None:
                leading[member.main_dept].append(member)
        return dict(leading)

    def leaders_of(self, member: Member) -> tuple[Member, ...]:
        """Who leads ``member``: the flagged leaders whose main department is the member's own;
        when the member leads it themselves, or it has no leader, those of the department above,
        and so on up to the top. The landed flag only says "a leader", so a leader is taken to
        lead the department they belong to first (their other memberships are not theirs to
        lead). Empty when nobody above leads."""
        leading = self._leaders_by_dept
        dept_id = member.main_dept
        seen: set[int] = set()
        while dept_id is not None and dept_id not in seen and len(seen) < MAX_DEPTH:
            seen.add(dept_id)
            found = [m for m in leading.get(dept_id, ()) if m.userid != member.userid]
            if found:
                return tuple(sorted(found, key=lambda m: (m.job_number, m.userid)))
            parent = self.departments.get(dept_id)
            dept_id = parent.parent_id if parent is not None else None
        return ()


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


def reminder_receivers(directory: Directory) -> Callable[[str], tuple[str, tuple[str, ...]] | None]:
    """Who a personal reminder about a job number goes to: the person's userid and their
    leaders' (``Directory.leaders_of``); None when the directory does not know the job number."""
    by_job = directory.by_job_numbers()

    def receivers(job_number: str) -> tuple[str, tuple[str, ...]] | None:
        member = by_job.get(job_number)
        if member is None:
            return None
        return member.userid, tuple(m.userid for m in directory.leaders_of(member))

    return receivers
