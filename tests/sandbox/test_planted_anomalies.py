"""The planted anomalies: enough of them, of enough kinds, drawn from the seed, and consistent
with the ground truth the hub's facts are compared with."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from statistics import median

import pytest

from sandbox.attendance_data import Attendance
from sandbox.evaluations_data import evaluations
from sandbox.ground_truth import truth
from sandbox.model import generate_world
from sandbox.plant_data import Plant


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


@pytest.mark.parametrize("seed", [42, 11])
def test_the_200_person_manifest_counts(seed: int) -> None:
    kinds = Counter(a.kind for a in generate_world(seed=seed, employees=200).anomalies)
    assert kinds == {
        "output_drop": 5, "contract_amount_spike": 3, "survey_flood": 2,
        "receipt_booked_twice": 2, "yield_collapse": 1, "missing_punches": 1,
        "duplicate_items": 1, "receipt_misposted": 1, "half_day_loss": 1,
        "evaluator_full_marks": 1, "terminal_clock_late": 1,
    }  # fmt: skip


def test_later_plants_grow_with_the_company() -> None:
    kinds = Counter(a.kind for a in generate_world(seed=42, employees=400).anomalies)
    assert (
        kinds["evaluator_full_marks"],
        kinds["terminal_clock_late"],
        kinds["receipt_booked_twice"],
    ) == (2, 2, 4)


def test_an_evaluator_gives_everyone_100_and_nobody_else_changes() -> None:
    world = generate_world(seed=42, employees=200)
    (plant,) = [a for a in world.anomalies if a.kind == "evaluator_full_marks"]
    ((leader, period),) = world.full_marks
    planted = evaluations(world, plant.period)
    world.full_marks = frozenset()
    drawn = evaluations(world, plant.period)
    assert len(planted) == len(drawn)
    evaluator = world.employee(leader)
    assert evaluator is not None and period == plant.period
    changed = [(p, d) for p, d in zip(planted, drawn, strict=True) if p != d]
    team = [p for p in planted if p.evaluator == evaluator.name]
    assert team and all(p.value == Decimal(100) for p in team)
    assert plant.detail == f"evaluator {leader} gives all {len(team)} people they evaluate 100"
    # Only the values of that team moved (those drawn as 100 already stay as they were).
    assert {p.job_number for p, _ in changed} <= {p.job_number for p in team}
    assert all(p.value == 100 and p.evaluator == evaluator.name for p, _ in changed)
    assert all(d.value < 100 for _, d in changed)


def test_a_terminal_clock_an_hour_late_shifts_only_its_punches_of_that_week() -> None:
    world = generate_world(seed=42, employees=200)
    (plant,) = [a for a in world.anomalies if a.kind == "terminal_clock_late"]
    (drift,) = world.attendance.drifts
    natural = Attendance(
        world.seed, world.size, world.company, world.as_of, world.attendance.outage
    )
    moved = 0
    for day in sorted(drift.days):
        for planted, drawn in zip(world.attendance.on(day), natural.on(day), strict=True):
            if planted.clock_late:
                moved += 1
                assert planted.arrival == (drawn.arrival and drawn.arrival + timedelta(hours=1))
                assert planted.departure == (
                    drawn.departure and drawn.departure + timedelta(hours=1)
                )
            else:
                assert planted == drawn
    assert moved == 40 * len(drift.days) and len(drift.days) == 5
    assert plant.detail.startswith(f"terminal {drift.device} stamps every punch an hour late")
    # Another month is untouched.
    other = world.closed_periods[0]
    assert world.attendance.month(other).days == natural.month(other).days


def test_a_receipt_booked_twice_is_a_copy_under_a_new_fid() -> None:
    world = generate_world(seed=42, employees=200)
    plants = [a for a in world.anomalies if a.kind == "receipt_booked_twice"]
    natural = Plant(
        world.seed, world.size, world.company, world.as_of, world.plant.collapse,
        world.plant.drops, world.plant.lost_afternoon,
    )  # fmt: skip
    for plant in plants:
        copy = world.plant.doubled_receipt(plant.job_number or "", plant.period)
        assert copy is not None
        receipts = world.plant.receipts(plant.period)
        assert list(receipts[: len(natural.receipts(plant.period))]) == list(
            natural.receipts(plant.period)
        )
        (original,) = [
            r for r in receipts
            if r is not copy and (r.job_number, r.material, r.qty, r.day) ==
            (copy.job_number, copy.material, copy.qty, copy.day)
        ]  # fmt: skip
        assert original.fid != copy.fid and copy.status == "C"
        assert plant.detail.endswith(f"booked a second time as FID {copy.fid}")
