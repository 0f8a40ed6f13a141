"""The scope of a signed-in person, checked on the server for every page and every JSON answer:
an employee sees their own scores, a department leader everyone in the departments they lead and
below, HR everyone."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from portal.directory import Directory

Role = Literal["hr", "leader", "employee"]


@dataclass(frozen=True)
class Viewer:
    """Who is signed in, as the session holds it. ``roles`` and ``leader_depts`` are what DingTalk
    said at sign-in (``role_list``, ``leader_in_dept``)."""

    userid: str
    job_number: str
    name: str
    roles: tuple[str, ...] = ()
    leader_depts: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Scope:
    role: Role
    job_numbers: frozenset[str]
    departments: frozenset[str]
    """Department paths led: a person the DingTalk directory lacks (an ERP-only employee) is in
    scope when the employee master puts them in one of these."""

    def allows(self, job_number: str, department: str | None = None) -> bool:
        if self.role == "hr":
            return True
        return job_number in self.job_numbers or (
            department is not None and department in self.departments
        )


def scope_of(
    viewer: Viewer,
    directory: Directory,
    hr_job_numbers: Collection[str],
    hr_roles: Collection[str],
) -> Scope:
    if viewer.job_number in hr_job_numbers or set(viewer.roles) & set(hr_roles):
        return Scope("hr", frozenset(), frozenset())
    member = directory.members.get(viewer.userid)
    # DingTalk's leader_in_dept names the departments led; the landed directory's flag says only
    # "a leader", so without the former the person leads every department they belong to.
    if viewer.leader_depts is not None:
        led = set(viewer.leader_depts)
    elif member is not None and member.leader:
        led = set(member.dept_ids)
    else:
        led = set()
    below = directory.below(led)
    if not below:
        return Scope("employee", frozenset({viewer.job_number}), frozenset())
    job_numbers = {m.job_number for m in directory.members.values() if set(m.dept_ids) & below}
    job_numbers.add(viewer.job_number)
    return Scope("leader", frozenset(job_numbers), frozenset(directory.path(d) for d in below))
