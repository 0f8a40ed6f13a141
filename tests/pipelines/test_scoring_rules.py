"""The scoring rules with exact numbers, each worked out by hand next to the assertion.

Attainment = actual / target (or target / actual when lower is better), clamped to [0, cap],
rounded half up to 4 decimals; points = attainment x 100 x weight; adjustments in the template's
order; floor at 0; round half up to 2 decimals.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from pipelines.assignment import Assigned, Person, Unassigned, assign, assign_person
from pipelines.grading import grade_cohort, head_count
from pipelines.scoring import (
    FactValue,
    attainment,
    renormalised,
    score_person,
    total_from,
)
from pipelines.talent_pool import in_talent_pool
from schemas.settings import DEFAULT_TEMPLATES_DIR
from schemas.templates import ScoringTemplate, load_templates

D = Decimal
PERIOD = "2026-10"
LATENESS = {"rule": "late_arrivals", "kind": "multiply", "kpi": "late_count", "more_than": 3,
            "factor": "0.9"}  # fmt: skip
ABSENCE = {"rule": "absence", "kind": "subtract", "kpi": "absence_days", "per_unit": 5}
GRADING = {
    "distribution": {
        "min_cohort": 10,
        "top": {"grade": "A 优秀", "share": "0.10", "rounding": "ceil"},
        "bottom": {"grade": "C 待改进", "share": "0.20", "rounding": "floor"},
        "middle": "B 合格",
    },
    "bands": [
        {"grade": "A 优秀", "min_total": 90},
        {"grade": "B 合格", "min_total": 60},
        {"grade": "C 待改进", "min_total": 0},
    ],
}


def template(
    components: list[dict[str, Any]],
    adjustments: list[dict[str, Any]] | None = None,
    assign_rules: list[dict[str, Any]] | None = None,
    code: str = "t",
) -> ScoringTemplate:
    return ScoringTemplate.model_validate(
        {
            "code": code,
            "version": "1",
            "name": "Test",
            "assign": assign_rules or [{"department": "销售中心"}],
            "components": components,
            "adjustments": adjustments or [],
            "grading": GRADING,
            "talent_pool": {"grades": ["A 优秀"]},
        }
    )


def facts(**values: str | int) -> dict[str, FactValue]:
    """Facts by KPI code; fact ids are 1, 2, 3 ... in argument order."""
    return {kpi: FactValue(n, D(str(v))) for n, (kpi, v) in enumerate(values.items(), start=1)}


def one(kpi: str, target: int | str, **extra: Any) -> ScoringTemplate:
    return template([{"kpi": kpi, "weight": 1, "target": target, **extra}])


# --- attainment ---------------------------------------------------------------------------------


def test_higher_is_better_is_actual_over_target() -> None:
    # 330000 / 300000 = 1.1; 1.1 x 100 x 0.4 = 44; 4.2 / 4.2 = 1; 1 x 100 x 0.6 = 60.
    sales = template(
        [
            {"kpi": "contract_amount", "weight": "0.4", "target": 300000},
            {"kpi": "customer_satisfaction", "weight": "0.6", "target": "4.2"},
        ]
    )
    score = score_person(
        sales,
        job_number="E00001",
        period=PERIOD,
        actuals=facts(contract_amount=330000, customer_satisfaction="4.2"),
    )
    contract, satisfaction = score.components
    assert (contract.direction, contract.attainment, contract.points) == ("higher", D("1.1"), D(44))
    assert (satisfaction.attainment, satisfaction.points) == (D(1), D(60))
    assert (score.subtotal, score.total, score.status) == (D(104), D("104.00"), "final")


def test_lower_is_better_is_target_over_actual() -> None:
    # absence_days is lower-is-better in the catalog: target 2, actual 4 -> 2 / 4 = 0.5;
    # actual 3 -> 2 / 3 = 0.666666... -> 0.6667 (half up) -> 66.67 points.
    absence = one("absence_days", 2)
    assert absence.components[0].direction == "lower"
    half = score_person(absence, job_number="E1", period=PERIOD, actuals=facts(absence_days=4))
    assert (half.components[0].attainment, half.total) == (D("0.5"), D("50.00"))
    third = score_person(absence, job_number="E1", period=PERIOD, actuals=facts(absence_days=3))
    assert (third.components[0].attainment, third.total) == (D("0.6667"), D("66.67"))


def test_a_template_can_override_the_catalogs_direction() -> None:
    # late arrivals scored higher-is-better by override: 3 / 2 = 1.5 -> capped at 1.2.
    flipped = one("late_count", 2, direction="higher")
    assert attainment(D(3), D(2), "higher", D("1.2")) == D("1.2")
    score = score_person(flipped, job_number="E1", period=PERIOD, actuals=facts(late_count=3))
    assert (score.components[0].direction, score.total) == ("higher", D("120.00"))


def test_attainment_is_capped_per_component() -> None:
    # 500000 / 300000 = 1.6667 -> default cap 1.2 -> 1.2 x 100 x 1 = 120;
    # with cap 1.5: 1.5 -> 150.
    default_cap = one("contract_amount", 300000)
    assert default_cap.components[0].cap == D("1.2")
    capped = score_person(
        default_cap, job_number="E1", period=PERIOD, actuals=facts(contract_amount=500000)
    )
    assert (capped.components[0].attainment, capped.total) == (D("1.2"), D("120.00"))
    wider = one("contract_amount", 300000, cap="1.5")
    score = score_person(
        wider, job_number="E1", period=PERIOD, actuals=facts(contract_amount=500000)
    )
    assert (score.components[0].cap, score.components[0].attainment) == (D("1.5"), D("1.5"))
    assert score.total == D("150.00")


def test_zero_actual_gives_the_cap_when_lower_is_better_and_zero_when_higher() -> None:
    # No absence at all: target / 0 is the cap, 1.2 -> 120 points. No orders: 0 / 300000 = 0.
    lower = score_person(
        one("absence_days", 2), job_number="E1", period=PERIOD, actuals=facts(absence_days=0)
    )
    assert (lower.components[0].attainment, lower.total) == (D("1.2"), D("120.00"))
    higher = score_person(
        one("contract_amount", 300000),
        job_number="E1",
        period=PERIOD,
        actuals=facts(contract_amount=0),
    )
    assert (higher.components[0].attainment, higher.total) == (D(0), D("0.00"))


def test_a_line_over_budget_attains_zero() -> None:
    # cost_control -4.72% against a 5% saving target: -4.72 / 5 = -0.944 -> clamped to 0.
    score = score_person(
        one("cost_control", 5), job_number="E1", period=PERIOD, actuals=facts(cost_control="-4.72")
    )
    assert (score.components[0].attainment, score.total) == (D(0), D("0.00"))


def test_attainment_rounds_half_up_to_four_decimals() -> None:
    # 12345 / 100000 = 0.12345 -> 0.1235 (half up; half-even would give 0.1234).
    assert attainment(D(12345), D(100000), "higher", D("1.2")) == D("0.1235")
    # 1 / 3 = 0.33333... -> 0.3333.
    assert attainment(D(1), D(3), "higher", D("1.2")) == D("0.3333")


def test_total_rounds_half_up_to_two_decimals_and_points_are_not_rounded_before() -> None:
    # 6665 / 10000 = 0.6665; x 100 x 0.5 = 33.325 points (kept as is);
    # 0.5 -> x 100 x 0.5 = 25; subtotal 58.325 -> 58.33 (half up; half-even gives 58.32).
    two = template(
        [
            {"kpi": "contract_amount", "weight": "0.5", "target": 10000},
            {"kpi": "collection_amount", "weight": "0.5", "target": 10000},
        ]
    )
    score = score_person(
        two,
        job_number="E1",
        period=PERIOD,
        actuals=facts(contract_amount=6665, collection_amount=5000),
    )
    assert [c.points for c in score.components] == [D("33.325"), D(25)]
    assert (score.subtotal, score.total) == (D("58.325"), D("58.33"))


# --- targets ------------------------------------------------------------------------------------


def test_the_persons_erp_target_wins_over_the_templates_and_says_so() -> None:
    # ERP target 250000: 300000 / 250000 = 1.2 -> 120 points; without one the template's 300000:
    # 300000 / 300000 = 1 -> 100 points.
    erp = one("contract_amount", 300000, target_from="erp")
    own = score_person(
        erp,
        job_number="E1",
        period=PERIOD,
        actuals=facts(contract_amount=300000),
        targets={"contract_amount": FactValue(77, D(250000))},
    )
    [component] = own.components
    assert (component.target, component.target_source, component.target_fact_id) == (
        D(250000),
        "erp",
        77,
    )
    assert own.total == D("120.00")
    assert own.fact_ids == (1, 77)
    fallback = score_person(
        erp, job_number="E1", period=PERIOD, actuals=facts(contract_amount=300000)
    )
    [component] = fallback.components
    assert (component.target, component.target_source, component.target_fact_id) == (
        D(300000),
        "template",
        None,
    )
    assert fallback.total == D("100.00")


def test_a_zero_erp_target_holds_the_score_instead_of_falling_back() -> None:
    erp = one("contract_amount", 300000, target_from="erp")
    score = score_person(
        erp,
        job_number="E1",
        period=PERIOD,
        actuals=facts(contract_amount=300000),
        targets={"contract_amount": FactValue(77, D(0))},
    )
    assert score.status == "held"
    assert score.hold_reasons == ("contract_amount: the erp target is 0, not a usable target",)


def test_no_erp_target_and_no_template_target_holds_the_score() -> None:
    without_fallback = template([{"kpi": "output_qty", "weight": 1, "target_from": "erp"}])
    score = score_person(
        without_fallback, job_number="E1", period=PERIOD, actuals=facts(output_qty=2000)
    )
    assert score.status == "held"
    assert score.hold_reasons == ("output_qty: no erp target for the month",)
    [component] = score.components
    assert (component.status, component.actual, component.target) == ("missing", D(2000), None)


# --- when_missing -------------------------------------------------------------------------------

SALES = [
    {"kpi": "contract_amount", "weight": "0.4", "target": 300000},
    {"kpi": "customer_satisfaction", "weight": "0.2", "target": "4.2"},
    {"kpi": "collection_amount", "weight": "0.3", "target": 200000},
    {"kpi": "manager_evaluation", "weight": "0.1", "target": 90},
]
# contract 270000 / 300000 = 0.9; collection 180000 / 200000 = 0.9; evaluation 81 / 90 = 0.9.
WITHOUT_SATISFACTION = {"contract_amount": 270000, "collection_amount": 180000,
                        "manager_evaluation": 81}  # fmt: skip


def with_missing(mode: str) -> list[dict[str, Any]]:
    return [dict(c, when_missing=mode) if c["kpi"] == "customer_satisfaction" else c for c in SALES]


def test_hold_keeps_the_weights_and_holds_the_score_with_the_reason() -> None:
    score = score_person(
        template(SALES), job_number="E1", period=PERIOD, actuals=facts(**WITHOUT_SATISFACTION)
    )
    assert score.status == "held"
    assert score.hold_reasons == ("customer_satisfaction: no fact for 2026-10",)
    held = score.components[1]
    assert (held.status, held.attainment, held.points, held.weight_used) == (
        "missing", None, D(0), D("0.2")
    )  # fmt: skip
    # What the person has at least: 36 + 27 + 9 = 72.
    assert [c.points for c in score.components] == [D(36), D(0), D(27), D(9)]
    assert score.total == D("72.00")


def test_zero_scores_the_missing_component_zero_and_the_score_is_final() -> None:
    score = score_person(
        template(with_missing("zero")),
        job_number="E1",
        period=PERIOD,
        actuals=facts(**WITHOUT_SATISFACTION),
    )
    zero = score.components[1]
    assert (zero.status, zero.attainment, zero.points) == ("zero", D(0), D(0))
    assert zero.note == "customer_satisfaction: no fact for 2026-10; scored zero by the template"
    assert (score.status, score.total) == ("final", D("72.00"))


def test_exclude_renormalises_the_other_weights_and_records_them() -> None:
    # Without satisfaction the weights 0.4, 0.3, 0.1 sum to 0.8: used 0.5, 0.375, 0.125.
    # 0.9 x 100 x 0.5 = 45; 0.9 x 100 x 0.375 = 33.75; 0.9 x 100 x 0.125 = 11.25; total 90.
    score = score_person(
        template(with_missing("exclude")),
        job_number="E1",
        period=PERIOD,
        actuals=facts(**WITHOUT_SATISFACTION),
    )
    assert [c.weight_used for c in score.components] == [D("0.5"), D(0), D("0.375"), D("0.125")]
    assert [c.weight for c in score.components] == [D("0.4"), D("0.2"), D("0.3"), D("0.1")]
    assert [c.points for c in score.components] == [D(45), D(0), D("33.75"), D("11.25")]
    assert score.components[1].status == "excluded"
    assert (score.status, score.total) == ("final", D("90.00"))


def test_renormalised_weights_round_half_up_to_four_decimals() -> None:
    # 0.3 / 0.7 = 0.428571... -> 0.4286; 0.4 / 0.7 = 0.571428... -> 0.5714.
    assert renormalised([D("0.3"), None, D("0.4")]) == [D("0.4286"), D(0), D("0.5714")]
    assert renormalised([D("0.3"), D("0.7")]) == [D("0.3"), D("0.7")]


def test_excluding_every_component_holds_the_score() -> None:
    only = template([{"kpi": "customer_satisfaction", "weight": 1, "target": "4.2",
                      "when_missing": "exclude"}])  # fmt: skip
    score = score_person(only, job_number="E1", period=PERIOD, actuals={})
    assert score.status == "held"
    assert score.hold_reasons == ("every component is missing and excluded: nothing to score",)
    assert score.total == D("0.00")


# --- adjustments --------------------------------------------------------------------------------


def adjusted(adjustments: list[dict[str, Any]], **attendance: int) -> Any:
    """A one-component template scoring 80 points (contract 240000 / 300000 = 0.8)."""
    return score_person(
        template([{"kpi": "contract_amount", "weight": 1, "target": 300000}], adjustments),
        job_number="E1",
        period=PERIOD,
        actuals=facts(contract_amount=240000, **attendance),
    )


def test_more_than_three_late_arrivals_multiplies_the_total_by_0_9() -> None:
    # 80 x 0.9 = 72.
    score = adjusted([LATENESS], late_count=4)
    [late] = score.adjustments
    assert (late.applied, late.kind, late.amount, late.value) == (True, "multiply", D("0.9"), D(4))
    assert (late.total_before, late.total_after, late.fact_ids) == (D(80), D("72.0"), (2,))
    assert score.total == D("72.00")


def test_three_late_arrivals_deduct_nothing() -> None:
    score = adjusted([LATENESS], late_count=3)
    [late] = score.adjustments
    assert (late.applied, late.amount, late.total_after) == (False, None, D(80))
    assert score.total == D("80.00")


def test_lateness_reads_the_late_arrival_fact_so_leave_cover_counts_as_the_facts_say() -> None:
    """Five late mornings, two of them covered by an approved leave: the attendance facts
    already excuse the covered ones, so the fact says 3 and nothing is deducted. The same five
    mornings without cover are a fact of 5 and cost 10%."""
    covered = adjusted([LATENESS], late_count=5 - 2)
    uncovered = adjusted([LATENESS], late_count=5)
    assert (covered.adjustments[0].value, covered.adjustments[0].applied) == (D(3), False)
    assert covered.total == D("80.00")
    assert (uncovered.adjustments[0].value, uncovered.adjustments[0].applied) == (D(5), True)
    assert uncovered.total == D("72.00")


def test_each_absence_day_subtracts_five_points() -> None:
    # 80 - 2 x 5 = 70; no absence subtracts nothing.
    score = adjusted([ABSENCE], absence_days=2)
    [absence] = score.adjustments
    assert (absence.applied, absence.kind, absence.amount) == (True, "subtract", D(10))
    assert score.total == D("70.00")
    none = adjusted([ABSENCE], absence_days=0)
    assert (none.adjustments[0].applied, none.total) == (False, D("80.00"))


def test_adjustments_run_in_the_templates_order() -> None:
    # Lateness first: 80 x 0.9 = 72, then - 10 = 62. Absence first: 80 - 10 = 70, x 0.9 = 63.
    assert adjusted([LATENESS, ABSENCE], late_count=4, absence_days=2).total == D("62.00")
    assert adjusted([ABSENCE, LATENESS], late_count=4, absence_days=2).total == D("63.00")


def test_the_total_is_floored_at_zero() -> None:
    # 80 - 17 x 5 = -5 -> 0.00.
    score = adjusted([ABSENCE], absence_days=17)
    assert score.adjustments[0].total_after == D(-5)
    assert score.total == D("0.00")


def test_a_missing_attendance_fact_holds_unless_the_rule_is_skipped() -> None:
    held = adjusted([LATENESS])
    assert (held.status, held.hold_reasons) == ("held", ("late_count: no fact for 2026-10",))
    skipped = adjusted([dict(LATENESS, when_missing="skip")])
    assert (skipped.status, skipped.total) == ("final", D("80.00"))
    assert skipped.adjustments[0].note == (
        "late_count: no fact for 2026-10; rule late_arrivals skipped"
    )


def test_the_total_recomputes_from_the_recorded_numbers() -> None:
    score = score_person(
        template(with_missing("exclude"), [LATENESS, ABSENCE]),
        job_number="E1",
        period=PERIOD,
        actuals=facts(**WITHOUT_SATISFACTION, late_count=4, absence_days=1),
    )
    # 90 x 0.9 = 81; 81 - 5 = 76.
    applied = [(a.kind, a.amount) for a in score.adjustments if a.amount is not None]
    assert applied == [("multiply", D("0.9")), ("subtract", D(5))]
    recomputed = total_from(
        (c.attainment * 100 * c.weight_used for c in score.components if c.attainment is not None),
        applied,
    )
    assert recomputed == score.total == D("76.00")


def test_hold_reasons_from_outside_the_rules_hold_the_score() -> None:
    score = score_person(
        one("contract_amount", 300000),
        job_number="E1",
        period=PERIOD,
        actuals=facts(contract_amount=300000),
        hold_reasons=("late_count: open ERROR finding attendance.missing_punches",),
    )
    assert (score.status, score.total) == ("held", D("100.00"))
    assert score.hold_reasons == ("late_count: open ERROR finding attendance.missing_punches",)


# --- grading ------------------------------------------------------------------------------------

GRADING_MODEL = template(SALES).grading
A, B, C = "A 优秀", "B 合格", "C 待改进"


def cohort(*totals: str) -> dict[str, Decimal]:
    return {f"E{n:05d}": D(t) for n, t in enumerate(totals, start=1)}


def grades(totals: dict[str, Decimal]) -> dict[str, str]:
    return {j: g.grade for j, g in grade_cohort(GRADING_MODEL, totals).items()}


def test_head_counts_round_as_the_template_says() -> None:
    # 10% of 10 = 1; 10% of 11 = 1.1 -> ceil 2; 20% of 11 = 2.2 -> floor 2; 20% of 14 = 2.8 -> 2.
    assert head_count(10, D("0.10"), "ceil") == 1
    assert head_count(11, D("0.10"), "ceil") == 2
    assert head_count(11, D("0.20"), "floor") == 2
    assert head_count(14, D("0.20"), "floor") == 2


def test_a_cohort_of_ten_is_graded_by_forced_distribution() -> None:
    # ceil(10% x 10) = 1 A, floor(20% x 10) = 2 C, 7 B; the A has 50, under the bands' 60.
    totals = cohort("50", "45", "44", "43", "42", "41", "40", "39", "38", "37")
    graded = grade_cohort(GRADING_MODEL, totals)
    expected = [A] + [B] * 7 + [C] * 2
    assert [graded[j].grade for j in sorted(totals)] == expected
    assert {g.method for g in graded.values()} == {"distribution"}
    assert [graded[j].rank for j in sorted(totals)] == list(range(1, 11))
    assert {g.cohort_size for g in graded.values()} == {10}


def test_a_cohort_of_nine_is_graded_by_the_absolute_bands() -> None:
    # A >= 90, C < 60, B in between; the boundaries themselves: 90 is A, 60 is B, 59.99 is C.
    totals = cohort("99", "90", "89.99", "75", "60", "59.99", "30", "0", "61")
    graded = grade_cohort(GRADING_MODEL, totals)
    assert [graded[j].grade for j in sorted(totals)] == [A, A, B, B, B, C, C, C, B]
    assert {g.method for g in graded.values()} == {"bands"}
    assert [graded[j].rank for j in sorted(totals)] == [1, 2, 3, 4, 6, 7, 8, 9, 5]


def test_ties_are_decided_by_job_number_ascending() -> None:
    # E00003 and E00007 tie at the top with 95: E00003 ranks first and takes the one A.
    # E00001 and E00002 tie at the bottom with 10: E00002 ranks last; both are in the bottom 2.
    totals = cohort("10", "10", "95", "50", "50", "50", "95", "50", "50", "11")
    graded = grade_cohort(GRADING_MODEL, totals)
    assert (graded["E00003"].rank, graded["E00003"].grade) == (1, "A 优秀")
    assert (graded["E00007"].rank, graded["E00007"].grade) == (2, "B 合格")
    assert (graded["E00001"].rank, graded["E00002"].rank) == (9, 10)
    assert graded["E00010"].grade == "B 合格"  # 11 is 8th: not in the bottom two
    assert (graded["E00001"].grade, graded["E00002"].grade) == ("C 待改进", "C 待改进")


def test_releasing_a_held_score_regrades_its_cohort() -> None:
    """Ten final scores and one held, which is not graded. Released with 20, it makes a cohort
    of eleven: ceil(10% x 11) = 2 A and floor(20% x 11) = 2 C, so E00002 (80, 2nd) rises to A,
    E00009 (40, now 9th of 11) leaves the bottom two for B, and E00011 is graded C."""
    final = cohort("90", "80", "70", "65", "60", "55", "50", "45", "40", "35")
    before = grades(final)
    assert before == {
        "E00001": "A 优秀", "E00002": "B 合格", "E00003": "B 合格", "E00004": "B 合格",
        "E00005": "B 合格", "E00006": "B 合格", "E00007": "B 合格", "E00008": "B 合格",
        "E00009": "C 待改进", "E00010": "C 待改进",
    }  # fmt: skip
    released = grade_cohort(GRADING_MODEL, {**final, "E00011": D(20)})
    changed = {j: (before.get(j), g.grade) for j, g in released.items() if before.get(j) != g.grade}
    assert changed == {
        "E00002": ("B 合格", "A 优秀"),
        "E00009": ("C 待改进", "B 合格"),
        "E00011": (None, "C 待改进"),
    }
    assert (released["E00011"].rank, released["E00011"].cohort_size) == (11, 11)


def test_a_release_that_reaches_ten_switches_from_bands_to_distribution() -> None:
    # Nine final scores between 60 and 90: all B by the bands. The tenth makes a cohort of ten:
    # 1 A (the best, 89) and 2 C (the two lowest, 62 and 61) by forced distribution.
    final = cohort("89", "88", "87", "86", "85", "84", "83", "62", "61")
    assert set(grades(final).values()) == {"B 合格"}
    after = grades({**final, "E00010": D(70)})
    assert [j for j, g in after.items() if g != "B 合格"] == ["E00001", "E00008", "E00009"]
    assert (after["E00001"], after["E00008"], after["E00009"]) == ("A 优秀", "C 待改进", "C 待改进")


# --- talent pool --------------------------------------------------------------------------------


def test_the_talent_pool_takes_final_a_grades_without_open_errors() -> None:
    rule = template(SALES).talent_pool
    assert in_talent_pool(rule, grade="A 优秀", status="final", open_error_findings=0)
    assert not in_talent_pool(rule, grade="B 合格", status="final", open_error_findings=0)
    assert not in_talent_pool(rule, grade="A 优秀", status="held", open_error_findings=0)
    assert not in_talent_pool(rule, grade="A 优秀", status="final", open_error_findings=1)
    assert not in_talent_pool(rule, grade=None, status="held", open_error_findings=0)


# --- assignment ---------------------------------------------------------------------------------

PRODUCTION = template(SALES, assign_rules=[{"department": "生产中心"}], code="production")
LINE_MANAGER = template(
    SALES, assign_rules=[{"department": "生产中心", "leader": True}], code="line_manager"
)
LINE_ONE = template(SALES, assign_rules=[{"department": "一号产线"}], code="line_one")
BY_TITLE = template(SALES, assign_rules=[{"title": "操作工"}], code="operators")
LINE = "星辰制造有限公司/生产中心/一号产线"


def template_of(templates: list[ScoringTemplate], person: Person) -> str:
    found = assign_person(templates, person)
    assert isinstance(found, Assigned), found
    return found.template.code


def test_a_more_specific_rule_wins() -> None:
    leader = Person("E00082", "甲", LINE, "操作工", leader=True)
    worker = Person("E00084", "乙", LINE, "操作工", leader=False)
    assert template_of([PRODUCTION, LINE_MANAGER], leader) == "line_manager"
    assert template_of([PRODUCTION, LINE_MANAGER], worker) == "production"
    # Between department rules, the deeper department is the more specific.
    assert template_of([PRODUCTION, LINE_ONE], worker) == "line_one"


def test_unknown_leader_flag_does_not_match_a_leader_rule() -> None:
    from_erp_only = Person("E00082", "甲", "一号产线", None, leader=None)
    found = assign_person([LINE_MANAGER], from_erp_only)
    assert isinstance(found, Unassigned)
    assert found.reason == (
        "no template's rule matches department 一号产线, title (none), leader flag unknown"
    )


def test_equally_specific_templates_leave_the_person_unassigned_with_the_reason() -> None:
    worker = Person("E00084", "乙", LINE, "操作工", leader=False)
    assigned, unassigned = assign([PRODUCTION, BY_TITLE], [worker])
    assert assigned == []
    assert [(u.person.job_number, u.reason) for u in unassigned] == [
        (
            "E00084",
            "templates operators, production match equally well "
            "(production: department 生产中心; operators: title 操作工)",
        )
    ]


def test_a_person_no_template_matches_is_listed_with_why() -> None:
    guest = Person("E09999", "丙", "星辰制造有限公司/财务部", "会计", leader=False)
    assigned, unassigned = assign([PRODUCTION], [guest])
    assert assigned == []
    assert [(u.person.job_number, u.reason) for u in unassigned] == [
        (
            "E09999",
            "no template's rule matches department 星辰制造有限公司/财务部, title 会计, "
            "not a leader",
        )
    ]


def test_every_demo_employee_matches_one_template() -> None:
    """The sandbox company (seed 42, 200 people) as its DingTalk directory lists them: the
    department path of their first department, the title and the leader flag."""
    from sandbox.model import generate_world

    world = generate_world(42, 200, date(2026, 11, 22))
    parents = {d.dept_id: d for d in world.departments}

    def path(dept_id: int) -> str:
        names: list[str] = []
        while dept_id in parents:
            names.append(parents[dept_id].name)
            dept_id = parents[dept_id].parent_id
        return "/".join(reversed(names))

    people = [
        Person(e.job_number, e.name, path(e.dept_ids[0]), e.title, e.leader)
        for e in world.employees
    ]
    assigned, unassigned = assign(load_templates(DEFAULT_TEMPLATES_DIR), people)
    assert unassigned == []
    counts: dict[str, int] = {}
    for a in assigned:
        counts[a.template.code] = counts.get(a.template.code, 0) + 1
    assert counts == {
        "sales": 60, "customer_ops": 20, "production": 78, "line_manager": 2, "rnd": 24,
        "admin": 16,
    }  # fmt: skip
    managers = sorted(a.person.job_number for a in assigned if a.template.code == "line_manager")
    assert managers == sorted(
        e.job_number for e in world.employees if e.role == "production" and e.leader
    )


@pytest.mark.parametrize("mode", ["hold", "zero", "exclude"])
def test_when_missing_never_gives_a_silent_zero(mode: str) -> None:
    """Whatever the mode, the missing component says so in its status and note."""
    score = score_person(
        template(with_missing(mode)),
        job_number="E1",
        period=PERIOD,
        actuals=facts(**WITHOUT_SATISFACTION),
    )
    missing = score.components[1]
    assert missing.status == {"hold": "missing", "zero": "zero", "exclude": "excluded"}[mode]
    assert missing.note is not None and missing.note.startswith("customer_satisfaction: no fact")
