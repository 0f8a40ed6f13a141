from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from schemas.settings import DEFAULT_TEMPLATES_DIR
from schemas.templates import TemplateError, load_template, load_templates

GOOD = """
code: sales
version: "1"
name: Sales
applies_to: {departments: [销售中心]}
components:
  - {kpi: contract_amount, weight: 1, target: 1000}
grades:
  - {grade: excellent, min_total: 110}
  - {grade: meets, min_total: 0}
"""


def write(tmp_path: Path, text: str, name: str = "t.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_demo_templates_load() -> None:
    templates = load_templates(DEFAULT_TEMPLATES_DIR)
    assert [t.code for t in templates] == ["sales"]
    assert templates[0].components[0].kpi == "contract_amount"


def test_grade_and_department_matching(tmp_path: Path) -> None:
    template = load_template(write(tmp_path, GOOD))
    assert template.grade_for(Decimal("110.00")) == "excellent"
    assert template.grade_for(Decimal("109.99")) == "meets"
    assert template.applies("销售中心/华东销售部")
    assert not template.applies("生产中心/一号产线")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            GOOD.replace("weight: 1", "weight: 0.5"),
            "(top level): Value error, component weights add up to 0.5, not 1",
        ),
        (
            GOOD.replace("target: 1000", "target: -5"),
            "components.0.target: Input should be greater than 0",
        ),
        (
            GOOD.replace("kpi: contract_amount,", "kpi: contract_amount, wieght: 1,"),
            "components.0.wieght: Extra inputs are not permitted",
        ),
        (
            GOOD.replace("min_total: 0", "min_total: 10"),
            "(top level): Value error, the last grade must have min_total 0",
        ),
        ("code: [unclosed", "not valid YAML"),
    ],
)
def test_template_errors_name_file_path_and_reason(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_duplicate_codes_are_refused(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(TemplateError, match="template code\\(s\\) defined twice: sales"):
        load_templates(tmp_path)
