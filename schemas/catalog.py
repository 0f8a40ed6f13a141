"""The KPI catalog: what every KPI code means, in words a manager can read, and how it behaves.

Mappings produce facts only for codes in the catalog, templates may only score catalogued KPIs,
and a typo in either is reported with the file, the path inside it and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from schemas.yamlfile import load_yaml_model

DEFAULT_CATALOG = Path(__file__).resolve().parent.parent / "pipelines" / "kpis.yaml"
Source = Literal["crm", "erp", "qms", "attendance", "dingtalk", "evaluations"]
SOURCES: tuple[str, ...] = get_args(Source)
CODE_PATTERN = r"^[a-z][a-z0-9_]*$"
# What an alert threshold may be in each unit (others: not negative). Rates may go negative
# (a cost centre over budget), so only their upper end is fixed.
ALERT_BOUNDS: dict[str, tuple[Decimal, Decimal | None]] = {
    "%": (Decimal(-100), Decimal(100)),
    "score": (Decimal(1), Decimal(5)),
    "points": (Decimal(0), Decimal(100)),
}


class CatalogError(ValueError):
    """The KPI catalog could not be loaded or is inconsistent; the message says where and why."""


class ClockRule(BaseModel):
    """How to read a punch stream for a terminal whose clock is off: which payload fields name
    the terminal, the person and the punch time (epoch seconds or ISO text)."""

    model_config = ConfigDict(extra="forbid")

    device: str
    person: str
    time: str
    min_people: int = Field(default=3, ge=1)
    """A day of a terminal with fewer people punching says nothing about its clock."""
    floor_minutes: float = Field(default=10.0, gt=0)
    """The smallest scale of a terminal's day-to-day median first punch: arrivals of a few
    people wander by minutes, a clock an hour off does not."""
    min_days: int = Field(default=2, ge=1)
    """Days in the month a terminal must be off before it is reported: a clock that is wrong
    stays wrong until someone sets it."""


class AnomalyRule(BaseModel):
    """How anomaly detection judges one KPI. The defaults suit most KPIs; a KPI whose natural
    values jump (small counts, ratios of few items) raises its floors instead of being noisy.

    A value is anomalous when ``|value - median| / scale >= threshold``, where the scale is the
    largest of 1.4826 x MAD, ``relative_floor`` x |median| and ``absolute_floor``: the floors
    keep a steady history (MAD near 0) from turning small wobbles into findings.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    threshold: float = Field(default=5.0, gt=0)
    history_months: int = Field(default=6, ge=1, le=36)
    min_history: int = Field(default=5, ge=2)
    """Fewer trailing months than this: the cohort is the baseline (a MAD of a few points is
    noise)."""
    min_cohort: int = Field(default=5, ge=3)
    relative_floor: float = Field(default=0.1, ge=0)
    absolute_floor: float = Field(default=1.0, ge=0)
    min_records: int = Field(default=1, ge=1)
    basis: Literal["value", "per_record"] | None = None
    """``per_record`` compares the value per source record behind it (a sum over fewer working
    days is not an anomaly); None: ``per_record`` for sums, ``value`` otherwise."""
    severity: Literal["WARN", "ERROR"] = "WARN"
    volume_streams: tuple[str, ...] = ()
    """Streams (``source/stream``) whose record volume is checked and reported against this KPI."""
    volume_time_fields: dict[str, str] = Field(default_factory=dict)
    """For a stream whose records carry no source time stamp: the payload field (epoch seconds
    or ISO text) that dates each record."""
    volume_threshold: float = Field(default=6.0, gt=0)
    volume_relative_floor: float = Field(default=0.02, ge=0)
    duplicate_fields: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Per stream (``source/stream``): the payload fields that, all equal on two records behind
    one person's fact, mean one event was booked twice (under two record keys)."""
    uniform_by: str | None = None
    """A payload field naming who gave a fact's value (an evaluator): someone whose values for
    ``uniform_min_facts`` or more people in a month are all the same is reported."""
    uniform_min_facts: int = Field(default=5, ge=2)
    clock_streams: dict[str, ClockRule] = Field(default_factory=dict)
    """Punch streams (``source/stream``) checked for a terminal whose clock is off: its
    median first punch of a day far from its usual one."""


class Kpi(BaseModel):
    """One KPI as HR defines it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=CODE_PATTERN)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    unit: Literal["CNY", "%", "count", "score", "pcs", "days", "points"]
    direction: Literal["higher_is_better", "lower_is_better"]
    sources: tuple[Source, ...] = Field(min_length=1)
    aggregation: Literal["sum", "count", "mean", "ratio", "latest"]
    decimals: int = Field(ge=0, le=6)
    definition: str = Field(min_length=10)
    target_source: Source | None = None
    anomaly: AnomalyRule = Field(default_factory=AnomalyRule)
    alert_below: Decimal | None = None
    """A person whose value (in the KPI's unit) falls under this gets a reminder, and so do
    their leaders: for KPIs where higher is better (``alert_below: 90`` on a yield in %)."""
    alert_above: Decimal | None = None
    """The same for KPIs where lower is better: a value over this sends the reminder."""

    @model_validator(mode="after")
    def _alert_threshold_fits(self) -> Kpi:
        """A threshold that cannot be what HR meant (the wrong way round, a fraction where the
        KPI is stored in percent) is reported as a catalog error, not sent as reminders."""
        if self.alert_below is not None and self.alert_above is not None:
            raise ValueError("give alert_below or alert_above, not both: a KPI alerts one way")
        field_name = "alert_below" if self.alert_below is not None else "alert_above"
        threshold = self.alert_below if self.alert_below is not None else self.alert_above
        if threshold is None:
            return self
        wanted = "alert_below" if self.direction == "higher_is_better" else "alert_above"
        if field_name != wanted:
            raise ValueError(
                f"{field_name} does not fit a KPI where {self.direction.replace('_', ' ')}: "
                f"use {wanted}"
            )
        if not threshold.is_finite():
            raise ValueError(f"{field_name} {threshold} is not a number")
        if self.unit == "%" and 0 < abs(threshold) < 1:
            percent = format((threshold * 100).normalize(), "f")
            raise ValueError(
                f"{field_name} {threshold} reads as a fraction, but rates are stored in percent "
                f"(x 100%): write {percent} for {percent}%"
            )
        low, high = ALERT_BOUNDS.get(self.unit, (Decimal(0), None))
        if threshold < low or (high is not None and threshold > high):
            bounds = f"[{low}, {high}]" if high is not None else f">= {low}"
            raise ValueError(f"{field_name} {threshold} is outside {bounds} ({self.unit})")
        return self

    @property
    def alert_threshold(self) -> tuple[Decimal, bool] | None:
        """The threshold and whether crossing it means going above it; None without one."""
        if self.alert_below is not None:
            return self.alert_below, False
        if self.alert_above is not None:
            return self.alert_above, True
        return None

    def crosses_alert(self, value: Decimal) -> bool:
        """Strictly past the threshold: a yield of exactly 90% is not under 90%."""
        found = self.alert_threshold
        if found is None:
            return False
        threshold, above = found
        return value > threshold if above else value < threshold


class Catalog(RootModel[list[Kpi]]):
    """The whole catalog, in the order HR listed it."""

    @model_validator(mode="after")
    def _unique_codes(self) -> Catalog:
        codes = [k.code for k in self.root]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ValueError(f"KPI code(s) defined twice: {', '.join(twice)}")
        return self

    def __contains__(self, code: object) -> bool:
        return any(k.code == code for k in self.root)

    def get(self, code: str) -> Kpi:
        for kpi in self.root:
            if kpi.code == code:
                return kpi
        raise KeyError(f"{code!r} is not in the KPI catalog")

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(k.code for k in self.root)

    def from_source(self, source: str) -> tuple[Kpi, ...]:
        return tuple(k for k in self.root if source in k.sources)

    def unknown(self, codes: Iterable[str]) -> list[str]:
        """The codes of ``codes`` the catalog does not define, sorted."""
        return sorted({c for c in codes if c not in self})


def load_catalog(path: Path = DEFAULT_CATALOG) -> Catalog:
    return load_yaml_model(path, Catalog, CatalogError)
