from __future__ import annotations

from pathlib import Path

import pytest

from schemas.catalog import CatalogError, load_catalog
from schemas.templates import TemplateError, load_templates

ENTRY = """
- code: contract_amount
  name_zh: 合同金额
  name_en: Contract amount
  unit: CNY
  direction: higher_is_better
  sources: [crm]
  aggregation: sum
  decimals: 2
  definition: Sum of signed orders in the month.
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kpis.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_catalog_defines_every_kpi_of_the_field() -> None:
    catalog = load_catalog()
    assert catalog.codes == (
        "contract_amount", "new_customers", "lead_conversion_rate", "repurchase_rate",
        "customer_satisfaction", "collection_amount", "output_qty", "cost_control",
        "semi_finished_yield_rate", "late_count", "absence_days", "manager_evaluation",
        "project_progress_rate", "innovation_contribution",
    )  # fmt: skip
    yield_rate = catalog.get("semi_finished_yield_rate")
    assert (yield_rate.unit, yield_rate.direction, yield_rate.sources) == (
        "%", "higher_is_better", ("qms",),
    )  # fmt: skip
    assert yield_rate.definition.startswith("Qualified semi-finished / inspected semi-finished")
    assert [k.code for k in catalog.from_source("dingtalk")] == ["late_count", "absence_days"]
    assert catalog.get("late_count").direction == "lower_is_better"
    assert catalog.unknown(["late_count", "lateness", "absence"]) == ["absence", "lateness"]
    with pytest.raises(KeyError, match="'lateness' is not in the KPI catalog"):
        catalog.get("lateness")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("unit: CNY", "unit: CNYY", "0.unit: Input should be 'CNY', '%', 'count', 'score', "),
        ("direction: higher_is_better", "direction: up", "0.direction: Input should be"),
        ("sources: [crm]", "sources: [cmr]", "0.sources.0: Input should be 'crm', 'erp'"),
        ("sources: [crm]", "sources: []", "0.sources: Tuple should have at least 1 item"),
        ("code: contract_amount", "code: Contract-Amount", "0.code: String should match pattern"),
        ("  decimals: 2\n", "", "0.decimals: Field required"),
    ],
)
def test_a_typo_names_file_path_and_reason(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = write(tmp_path, ENTRY.replace(old, new))
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert str(caught.value).startswith(f"{path}: {message}")


def test_a_code_defined_twice_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, ENTRY + ENTRY)
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert str(caught.value) == (
        f"{path}: (top level): Value error, KPI code(s) defined twice: contract_amount"
    )


def test_a_template_scoring_an_uncatalogued_kpi_is_refused(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(
        "code: sales\nversion: '1'\nname: Sales\nassign: [{department: 销售中心}]\n"
        "components:\n  - {kpi: contract_amount, weight: 0.5, target: 1000}\n"
        "  - {kpi: contract_amout, weight: 0.5, target: 1000}\n"
        "grading:\n  distribution:\n    top: {grade: A, share: 0.1, rounding: ceil}\n"
        "    bottom: {grade: C, share: 0.2, rounding: floor}\n    middle: B\n"
        "  bands: [{grade: A, min_total: 90}, {grade: C, min_total: 0}]\n"
        "talent_pool: {grades: [A]}\n",
        encoding="utf-8",
    )
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 't.yaml'}: components.1.kpi: 'contract_amout' is not in the KPI catalog"
    )
