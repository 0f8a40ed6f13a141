"""Which ERROR findings hold which scores, and what releases them.

A finding touches a score when it names the person (their job number) or, being about a whole
source or stream, names a source one of the score's facts came from; a finding that names a KPI
touches only scores that read that KPI. An open or acknowledged ERROR finding holds every score
it touches; once HR dismisses or confirms it, the next scoring run releases them, and the new
score version names the finding and the decision. Only the people a finding touches are held:
one bad stream of one source must not stop a whole company's month.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from quality.findings import DECIDED, ERROR, UNRESOLVED
from schemas.tables import Finding

FactOrigin = tuple[str, str]
"""Where a fact a score read came from: (source, KPI code)."""

_FINDING_ID = re.compile(r"^finding (\d+) \(")


@dataclass(frozen=True)
class PeriodFindings:
    """The ERROR findings of a period that hold scores, and those HR has decided on."""

    holding: tuple[Finding, ...]
    decided: tuple[Finding, ...]

    def holds(self, job_number: str, read: Collection[FactOrigin]) -> list[str]:
        """Why the score of ``job_number`` is held, one reason per finding touching it."""
        return [hold_reason(f) for f in self.holding if touches(f, job_number, read)]

    def releases(self, job_number: str, read: Collection[FactOrigin]) -> dict[int, str]:
        """HR's decisions on the findings touching the score, by finding id."""
        return {f.id: release_reason(f) for f in self.decided if touches(f, job_number, read)}


def period_findings(session: Session, period: str) -> PeriodFindings:
    rows = session.scalars(
        select(Finding)
        .where(
            Finding.period == period,
            Finding.severity == ERROR,
            Finding.status.in_([*UNRESOLVED, *DECIDED]),
        )
        .order_by(Finding.id)
    ).all()
    return PeriodFindings(
        tuple(f for f in rows if f.status in UNRESOLVED),
        tuple(f for f in rows if f.status in DECIDED),
    )


def touches(finding: Finding, job_number: str, read: Collection[FactOrigin]) -> bool:
    """Whether the finding is about the person or a source of the facts their score read.
    A finding written without its place (only a subject) is read as the subject says: a job
    number, a source, or ``source/stream``."""
    read_kpi = finding.kpi_code is None or any(k == finding.kpi_code for _, k in read)
    if finding.job_number is not None:
        return finding.job_number == job_number and read_kpi
    source = finding.source or finding.subject.split("/", 1)[0]
    if finding.source is None and source == job_number:
        return read_kpi
    kpis = {k for s, k in read if s == source}
    return bool(kpis) and (finding.kpi_code is None or finding.kpi_code in kpis)


def hold_reason(finding: Finding) -> str:
    """``finding 12 (ERROR crm.orders_volume): ...``: the id HR acts on, and what was found."""
    what = finding.detail.get("message") if isinstance(finding.detail, dict) else None
    if not what:
        where = "/".join(p for p in (finding.source, finding.stream) if p) or finding.subject
        on = [finding.job_number, finding.kpi_code]
        what = f"{finding.count} flagged in {where}" + "".join(f", {p}" for p in on if p)
    return f"finding {finding.id} ({finding.severity} {finding.check_name}): {what}"


def release_reason(finding: Finding) -> str:
    note = f": {finding.note}" if finding.note else ""
    return f"finding {finding.id} {finding.status} by {finding.changed_by or 'unknown'}{note}"


def finding_id(hold: str) -> int | None:
    """The finding a hold reason names, if it names one."""
    matched = _FINDING_ID.match(hold)
    return None if matched is None else int(matched.group(1))
