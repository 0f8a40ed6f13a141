"""Scoring templates: the demo templates load, and every mistake is one line naming the file, the
path inside the YAML and the reason."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import pytest

from schemas.settings import DEFAULT_TEMPLATES_DIR
from schemas.templates import TemplateError, load_template, load_templates

GOOD = """\
code: sales
version: "1"
name: Sales
assign:
  - department: 销售中心
components:
  - {kpi: contract_amount, weight: 0.4, target: 300000, target_from: erp}
  - {kpi: customer_satisfaction, weight: 0.2, target: 4.2, when_missing: exclude}
  - {kpi: collection_amount, weight: 0.3, target: 200000, target_from: erp}
  - {kpi: manager_evaluation, weight: 0.1, target: 90}
adjustments:
  - {rule: late_arrivals, kind: multiply, kpi: late_count, more_than: 3, factor: 0.9}
  - {rule: absence, kind: subtract, kpi: absence_days, per_unit: 5}
grading:
  distribution:
    min_cohort: 10
    top: {grade: A 优秀, share: 0.10, rounding: ceil}
    bottom: {grade: C 待改进, share: 0.20, rounding: floor}
    middle: B 合格
  bands:
    - {grade: A 优秀, min_total: 90}
    - {grade: B 合格, min_total: 60}
    - {grade: C 待改进, min_total: 0}
talent_pool:
  grades: [A 优秀]
"""


def write(tmp_path: Path, text: str, name: str = "t.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_demo_templates_cover_every_role() -> None:
    templates = {t.code: t for t in load_templates(DEFAULT_TEMPLATES_DIR)}
    assert sorted(templates) == [
        "admin", "customer_ops", "line_manager", "production", "rnd", "sales"
    ]  # fmt: skip
    weights = {
        code: [(c.kpi, str(c.weight)) for c in t.components] for code, t in templates.items()
    }
    assert weights == {
        "sales": [
            ("contract_amount", "0.4"),
            ("customer_satisfaction", "0.2"),
            ("collection_amount", "0.3"),
            ("manager_evaluation", "0.1"),
        ],
        "customer_ops": [
            ("lead_conversion_rate", "0.3"),
            ("customer_satisfaction", "0.4"),
            ("repurchase_rate", "0.3"),
        ],
        "production": [
            ("semi_finished_yield_rate", "0.5"),
            ("output_qty", "0.3"),
            ("manager_evaluation", "0.2"),
        ],
        "line_manager": [("cost_control", "0.6"), ("manager_evaluation", "0.4")],
        "rnd": [("project_progress_rate", "0.4"), ("innovation_contribution", "0.6")],
        "admin": [("manager_evaluation", "1")],
    }
    targets = {
        (code, c.kpi): (c.target, c.target_from)
        for code, t in templates.items()
        for c in t.components
    }
    assert targets[("sales", "contract_amount")] == (Decimal(300000), "erp")
    assert targets[("sales", "customer_satisfaction")] == (Decimal("4.2"), None)
    assert targets[("sales", "manager_evaluation")] == (Decimal(90), None)
    assert targets[("production", "semi_finished_yield_rate")] == (Decimal(95), None)
    assert targets[("production", "output_qty")] == (Decimal(2000), "erp")
    assert targets[("line_manager", "cost_control")] == (Decimal(5), None)
    assert targets[("rnd", "project_progress_rate")] == (Decimal(100), None)
    assert targets[("rnd", "innovation_contribution")] == (Decimal(90), None)
    for template in templates.values():
        assert [(a.rule, a.kind, a.kpi) for a in template.adjustments] == [
            ("late_arrivals", "multiply", "late_count"),
            ("absence", "subtract", "absence_days"),
        ]
        distribution = template.grading.distribution
        assert (distribution.top.grade, distribution.middle, distribution.bottom.grade) == (
            "A 优秀",
            "B 合格",
            "C 待改进",
        )
        assert template.talent_pool.grades == ["A 优秀"]
    assert [r.model_dump() for r in templates["line_manager"].assign] == [
        {"department": "生产中心", "title": None, "leader": True}
    ]


def test_defaults_come_from_the_catalog_and_the_schema(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("target: 90}", "target: 90, direction: lower}"))
    template = load_template(path)
    contract, satisfaction, _, evaluation = template.components
    # Direction from the catalog unless overridden; cap 1.2 and hold by default.
    assert (contract.direction, contract.cap, contract.when_missing) == (
        "higher",
        Decimal("1.2"),
        "hold",
    )
    assert satisfaction.when_missing == "exclude"
    assert evaluation.direction == "lower"
    grading = template.grading
    assert (grading.distribution.min_cohort, grading.distribution.top.share) == (
        10,
        Decimal("0.10"),
    )
    assert (grading.distribution.top.rounding, grading.distribution.bottom.rounding) == (
        "ceil",
        "floor",
    )
    assert [(b.grade, b.min_total) for b in grading.bands] == [
        ("A 优秀", Decimal(90)),
        ("B 合格", Decimal(60)),
        ("C 待改进", Decimal(0)),
    ]
    assert template.content_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("old", "new", "where_and_why"),
    [
        (
            "kpi: collection_amount",
            "kpi: colection_amount",
            "components.2.kpi: 'colection_amount' is not in the KPI catalog",
        ),
        (
            "weight: 0.3, target: 200000",
            "weight: 0.2, target: 200000",
            "components: component weights add up to 0.9, not 1",
        ),
        (
            "when_missing: exclude",
            "when_missing: skip",
            "components.1.when_missing: Input should be 'hold', 'zero' or 'exclude'",
        ),
        (
            "weight: 0.1,",
            "weight: 0.10001,",
            "components.3.weight: Decimal input should have no more than 4 decimal places",
        ),
        (
            "target: 4.2,",
            "target: 4.2, target_from: erp,",
            "components.1.target_from: the KPI catalog takes no erp target for "
            "customer_satisfaction (its target_source is none)",
        ),
        (
            "{kpi: manager_evaluation, weight: 0.1, target: 90}",
            "{kpi: manager_evaluation, weight: 0.1}",
            "components.3: a component needs a target, a target_from source, or both",
        ),
        (
            "target: 90}",
            "target: 90, wieght: 1}",
            "components.3.wieght: Extra inputs are not permitted",
        ),
        (
            "target: 90}",
            "target: 90, direction: down}",
            "components.3.direction: Input should be 'higher' or 'lower'",
        ),
        (
            "kpi: late_count",
            "kpi: late_cnt",
            "adjustments.0.kpi: 'late_cnt' is not in the KPI catalog",
        ),
        (
            "kind: subtract",
            "kind: add",
            "adjustments.1: Input tag 'add' found using 'kind' does not match any of the "
            "expected tags: 'multiply', 'subtract'",
        ),
        (
            "factor: 0.9",
            "factor: -0.9",
            "adjustments.0.factor: Input should be greater than or equal to 0",
        ),
        (
            "share: 0.20",
            "share: 0.95",
            "grading.distribution: top share 0.1 and bottom share 0.95 add up to more than 1",
        ),
        (
            "rounding: ceil",
            "rounding: up",
            "grading.distribution.top.rounding: Input should be 'ceil' or 'floor'",
        ),
        (
            "min_total: 0}",
            "min_total: 10}",
            "grading.bands: the last band must have min_total 0 so every total gets a grade",
        ),
        (
            "grades: [A 优秀]",
            "grades: [S 卓越]",
            "talent_pool: grade(s) S 卓越 are not given by the grading (A 优秀, B 合格, C 待改进)",
        ),
        (
            "  - department: 销售中心",
            "  - {}",
            "assign.0: a rule needs at least one of department, title, leader",
        ),
        ('version: "1"\n', "", "version: Field required"),
    ],
)
def test_a_template_error_is_one_line_naming_file_path_and_reason(
    tmp_path: Path, old: str, new: str, where_and_why: str
) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert str(caught.value) == f"{path}: {where_and_why}"


def test_broken_yaml_is_one_line_with_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "code: [unclosed\n")
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert str(caught.value) == (
        f"{path}: not valid YAML: line 2, column 1: expected ',' or ']', but got '<stream end>'"
    )


def test_a_code_defined_twice_names_both_files(tmp_path: Path) -> None:
    first = write(tmp_path, GOOD, "a.yaml")
    second = write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    assert str(caught.value) == (
        f"{second}: code: template code 'sales' is already defined in {first}"
    )


def test_an_error_in_one_file_of_the_folder_names_that_file(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.yaml")
    broken = write(
        tmp_path, GOOD.replace("code: sales", "code: ops").replace("0.4", "0.5"), "b.yaml"
    )
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    assert str(caught.value) == f"{broken}: components: component weights add up to 1.1, not 1"


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path}: no scoring template (*.yaml) found (KPIHUB_TEMPLATES_DIR)"
    )
