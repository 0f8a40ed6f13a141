"""Grades within a cohort: one template's final scores of one period.

Forced distribution: the cohort sorted by total descending, ties by job number ascending (so a
tie is decided the same way on every run); the top share (rounded up by default) gets the top
grade, the bottom share (rounded down by default) the bottom grade, the rest the middle one. A
cohort smaller than the template's ``min_cohort`` gets absolute bands instead, since a share of a
handful of people is not a fair quota. Held scores are not in the cohort: releasing one changes
the cohort, and grading it again is what tells which grades move.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Literal

from schemas.templates import Band, Grading, Rounding

Method = Literal["distribution", "bands"]


@dataclass(frozen=True)
class Graded:
    """A person's place in the cohort: grade, rank (1 is the best) and cohort size."""

    job_number: str
    grade: str
    rank: int
    cohort_size: int
    method: Method


def ranked(totals: Mapping[str, Decimal]) -> list[str]:
    """Job numbers by total descending, ties by job number ascending."""
    return sorted(totals, key=lambda job_number: (-totals[job_number], job_number))


def head_count(cohort_size: int, share: Decimal, rounding: Rounding) -> int:
    """How many people a share of the cohort is: ceil(10% of 11) = 2, floor(20% of 11) = 2."""
    exact = Decimal(cohort_size) * share
    return int(exact.to_integral_value(ROUND_CEILING if rounding == "ceil" else ROUND_FLOOR))


def band_grade(bands: Sequence[Band], total: Decimal) -> str:
    """The first band (highest first) whose ``min_total`` the total reaches."""
    for band in bands:
        if total >= band.min_total:
            return band.grade
    return bands[-1].grade


def grade_cohort(grading: Grading, totals: Mapping[str, Decimal]) -> dict[str, Graded]:
    """Grade every job number of a cohort from its final total."""
    order = ranked(totals)
    size = len(order)
    distribution = grading.distribution
    if size < distribution.min_cohort:
        return {
            job_number: Graded(
                job_number, band_grade(grading.bands, totals[job_number]), rank, size, "bands"
            )
            for rank, job_number in enumerate(order, start=1)
        }
    top = head_count(size, distribution.top.share, distribution.top.rounding)
    bottom = min(
        head_count(size, distribution.bottom.share, distribution.bottom.rounding), size - top
    )
    graded: dict[str, Graded] = {}
    for rank, job_number in enumerate(order, start=1):
        if rank <= top:
            grade = distribution.top.grade
        elif rank > size - bottom:
            grade = distribution.bottom.grade
        else:
            grade = distribution.middle
        graded[job_number] = Graded(job_number, grade, rank, size, "distribution")
    return graded
