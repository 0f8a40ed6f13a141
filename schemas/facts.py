"""KPI facts as mappings produce them (observations keyed by the source system's own person id)
and as the hub keeps them (keyed by job number), always with the raw record versions they came
from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

ACTUAL = "actual"
TARGET = "target"
REVISED = "revised"
MANUAL = "manual"
"""A fact is what a person achieved (``actual``) or what was planned for them (``target``), both
from the source systems; or it was decided in the review cycle: a target ``revised`` by an
approved target change, which outranks the source's target, or the ``manual`` adjustment points
HR approved. The last two have the approvals as their source records."""
REVIEW_SOURCE = "review"
"""The source of the facts decided in the review cycle; their records are the approvals."""
MANUAL_ADJUSTMENT = "manual_adjustment"
"""The KPI code of the manual adjustment fact: the sum of a person's approved adjustments."""


@dataclass(frozen=True)
class PersonRef:
    """A person as one source system knows them, e.g. ``PersonRef("crm", "U1001")``."""

    system: str
    person_id: str


@dataclass(frozen=True)
class Observation:
    """One contribution to a KPI for one person, before identity resolution.

    Mappings emit observations rather than finished values so that a person known by two ids (a
    badge handed over mid-month, two CRM accounts) is combined only after both are resolved: a
    ratio or a mean carries its denominator as ``weight`` and is divided once per job number.
    ``on`` is the local day of the underlying event, for ids whose holder changes over time.
    An observation without inputs says the person was measured and had nothing (a zero).
    A ``target`` observation is a planned value: the newest one is the person's target.
    """

    person: PersonRef
    kpi_code: str
    value: Decimal
    weight: Decimal = Decimal(0)
    on: date | None = None
    inputs: tuple[int, ...] = field(default_factory=tuple)
    kind: str = ACTUAL


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
    kind: str = ACTUAL


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
