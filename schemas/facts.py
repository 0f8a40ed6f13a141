"""KPI facts as mappings produce them (keyed by the source system's own person id) and as the hub
keeps them (keyed by job number), always with the raw record versions they came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class PersonRef:
    """A person as one source system knows them, e.g. ``PersonRef("crm", "U1001")``."""

    system: str
    person_id: str


@dataclass(frozen=True)
class SourceFact:
    """A KPI value for one person and period, before identity resolution."""

    person: PersonRef
    period: str
    kpi_code: str
    value: Decimal
    unit: str
    inputs: tuple[int, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Fact:
    """A KPI value for one job number and period, ready to be versioned in the hub store."""

    job_number: str
    period: str
    kpi_code: str
    value: Decimal
    unit: str
    source: str
    inputs: tuple[int, ...]


@dataclass(frozen=True)
class QuarantinedRecord:
    """A raw record version that could not become part of a fact, and why."""

    source: str
    stream: str
    record_key: str
    raw_version_id: int | None
    period: str | None
    reason: str
    detail: str
