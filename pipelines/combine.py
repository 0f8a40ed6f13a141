"""Observations of one job number become one fact, as the KPI catalog's ``aggregation`` says.

Sums and counts add up; a ratio is sum of numerators / sum of denominators x 100 and a mean is
sum / count, each divided once per job number after every id of the person was resolved; the
``latest`` value is the one from the newest record version. Values are rounded half up to the
catalog's decimals, as HR rounds them by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from schemas.catalog import Kpi
from schemas.facts import ACTUAL, Observation

HUNDRED = Decimal(100)


@dataclass
class Tally:
    """What one job number's observations of one KPI add up to so far."""

    value: Decimal = Decimal(0)
    weight: Decimal = Decimal(0)
    latest: tuple[int, Decimal] | None = None
    inputs: set[int] = field(default_factory=set)

    def add(self, observation: Observation) -> None:
        self.value += observation.value
        self.weight += observation.weight
        self.inputs.update(observation.inputs)
        newest = max(observation.inputs, default=0)
        if self.latest is None or newest >= self.latest[0]:
            self.latest = (newest, observation.value)

    def result(self, kpi: Kpi, kind: str = ACTUAL) -> Decimal | None:
        """The fact's value, or None when there is nothing to divide by (no leads, no
        inspections): such a person has no fact rather than a made-up zero. A target is the
        newest planned value, whatever the KPI's aggregation."""
        aggregation = kpi.aggregation if kind == ACTUAL else "latest"
        if aggregation in ("sum", "count"):
            value = self.value
        elif aggregation == "latest":
            if self.latest is None:
                return None
            value = self.latest[1]
        elif not self.weight:
            return None
        elif aggregation == "ratio":
            value = self.value * HUNDRED / self.weight
        else:
            value = self.value / self.weight
        return value.quantize(Decimal(1).scaleb(-kpi.decimals), ROUND_HALF_UP)
