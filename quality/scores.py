"""What every anomaly detector reports: a value, the baseline it was judged against and how far
from it it lies (a robust z-score on median and MAD), and where it was seen."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MAD_SCALE = 1.4826
"""1.4826 x MAD estimates the standard deviation of normally distributed values."""


@dataclass(frozen=True)
class Score:
    """How far one value lies from its baseline, in robust standard deviations."""

    value: float
    median: float
    scale: float
    z: float
    baseline: tuple[float, ...]


def robust_z(
    value: float,
    baseline: Sequence[float],
    *,
    relative_floor: float = 0.0,
    absolute_floor: float = 0.0,
) -> Score:
    """``(value - median) / scale`` with scale = max(1.4826 x MAD, floors). The floors keep a
    flat baseline (MAD 0) from making every wobble infinitely far; with no floor and a flat
    baseline, any difference is infinite and equality is 0."""
    median = statistics.median(baseline)
    mad = statistics.median(abs(b - median) for b in baseline)
    scale = max(MAD_SCALE * mad, relative_floor * abs(median), absolute_floor)
    if scale == 0:
        z = 0.0 if value == median else float("inf") if value > median else float("-inf")
    else:
        z = (value - median) / scale
    return Score(value, median, scale, z, tuple(baseline))


@dataclass(frozen=True)
class Anomaly:
    """One anomalous fact or stream volume, with what it was compared with."""

    source: str
    kpi_code: str
    period: str
    method: str
    score: Score
    job_number: str | None = None
    stream: str | None = None
    value: str = ""
    record_keys: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
