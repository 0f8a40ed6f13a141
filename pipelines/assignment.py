"""Which template scores whom: the templates' ``assign`` rules against the directory.

A rule matches a person when every condition it gives holds: the department (the person's own or
any department above it in the directory's path), the job title, the leader flag. Of the rules
that match, the most specific wins: more conditions first, then, between rules that all name a
department, the deeper department (一号产线 is more specific than 生产中心). Two
templates matching equally well, or none matching, is not guessed: the person is listed as
unassigned with the reason, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from schemas.templates import AssignRule, ScoringTemplate

PATH_SEPARATOR = "/"


@dataclass(frozen=True)
class Person:
    """An employee as the directory describes them. ``leader`` is None when the directory does
    not say (the ERP's HR_EMP has no leader flag): a rule about leaders then does not match."""

    job_number: str
    name: str
    department: str
    title: str | None = None
    leader: bool | None = None


@dataclass(frozen=True)
class Assigned:
    person: Person
    template: ScoringTemplate
    rule: AssignRule


@dataclass(frozen=True)
class Unassigned:
    person: Person
    reason: str


def describe(rule: AssignRule) -> str:
    """``department 生产中心, leader`` as a person reads a rule."""
    parts = []
    if rule.department is not None:
        parts.append(f"department {rule.department}")
    if rule.title is not None:
        parts.append(f"title {rule.title}")
    if rule.leader is not None:
        parts.append("leader" if rule.leader else "not a leader")
    return ", ".join(parts)


def specificity(rule: AssignRule, person: Person) -> tuple[int, int] | None:
    """(conditions given, depth of the department matched; 0 without one), or None when the rule
    does not match the person."""
    depth = 0
    if rule.department is not None:
        path = [p.strip() for p in person.department.split(PATH_SEPARATOR)]
        if rule.department not in path:
            return None
        depth = path.index(rule.department) + 1
    if rule.title is not None and (person.title or "").strip() != rule.title:
        return None
    if rule.leader is not None and person.leader is not rule.leader:
        return None
    conditions = sum(x is not None for x in (rule.department, rule.title, rule.leader))
    return conditions, depth


def assign_person(templates: Iterable[ScoringTemplate], person: Person) -> Assigned | Unassigned:
    matches = [
        (found, template, rule)
        for template in templates
        for rule in template.assign
        if (found := specificity(rule, person)) is not None
    ]
    if not matches:
        leader = {True: "a leader", False: "not a leader", None: "leader flag unknown"}
        return Unassigned(
            person,
            f"no template's rule matches department {person.department or '(none)'}, "
            f"title {person.title or '(none)'}, {leader[person.leader]}",
        )
    most = max(found[0] for found, _, _ in matches)
    winners = [(found, template, rule) for found, template, rule in matches if found[0] == most]
    if all(rule.department is not None for _, _, rule in winners):
        deepest = max(found[1] for found, _, _ in winners)
        winners = [w for w in winners if w[0][1] == deepest]
    codes = sorted({template.code for _, template, _ in winners})
    if len(codes) > 1:
        rules = "; ".join(f"{t.code}: {describe(r)}" for _, t, r in winners)
        return Unassigned(person, f"templates {', '.join(codes)} match equally well ({rules})")
    _, template, rule = winners[0]
    return Assigned(person, template, rule)


def assign(
    templates: Iterable[ScoringTemplate], people: Iterable[Person]
) -> tuple[list[Assigned], list[Unassigned]]:
    """Everyone in job number order, each either assigned a template or listed with why not."""
    templates = list(templates)
    assigned: list[Assigned] = []
    unassigned: list[Unassigned] = []
    for person in sorted(people, key=lambda p: p.job_number):
        outcome = assign_person(templates, person)
        if isinstance(outcome, Assigned):
            assigned.append(outcome)
        else:
            unassigned.append(outcome)
    return assigned, unassigned
