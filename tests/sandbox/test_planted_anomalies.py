"""The planted anomalies: enough of them, of enough kinds, drawn from the seed, and consistent
with the ground truth the hub's facts are compared with."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from statistics import median

import pytest

from sandbox.ground_truth import truth
from sandbox.model import generate_world


@pytest.mark.parametrize("seed", [42, 11])
def test_a_200_person_company_has_15_planted_anomalies_of_8_kinds(seed: int) -> None:
    world = generate_world(seed=seed, employees=200)
    kinds = Counter(a.kind for a in world.anomalies)
    assert len(world.anomalies) >= 15 and len(kinds) >= 8, kinds
    assert {a.period for a in world.anomalies} <= set(world.closed_periods)
    again = generate_world(seed=seed, employees=200, as_of=world.as_of)
    assert [a.as_dict() for a in again.anomalies] == [a.as_dict() for a in world.anomalies]


def test_the_ground_truth_carries_the_plants() -> None:
    world = generate_world(seed=42, employees=200)
    for plant in world.anomalies:
        if plant.kind == "output_drop":
            rows = {
                r.period: r.value
                for p in world.closed_periods
                for r in truth(world, p, ("output_qty",))
                if r.job_number == plant.job_number
            }
            others = [v for p, v in rows.items() if p != plant.period]
            # a tenth of a usual month (months cut short by the calendar are not usual)
            assert rows[plant.period] * 5 < median(others), (plant, rows)
        if plant.kind == "survey_flood" and plant.job_number:
            (row,) = [
                r
                for r in truth(world, plant.period, ("customer_satisfaction",))
                if r.job_number == plant.job_number
            ]
            assert row.value < Decimal(2)
