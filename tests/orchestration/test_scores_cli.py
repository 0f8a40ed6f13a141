"""``kpihub scores``: filters that combine, and the XLSX export HR opens in Excel.

Four people scored by the demo's templates for 2026-10 (each cohort is under ten, so bands grade):

    E00001 sales, 华东销售部   contract 300000 / 250000 (erp) = 1.2 x 100 x 0.5 = 60; no survey
                               (excluded); collection 150000 / 200000 = 0.75 x 100 x 0.375 = 28.125;
                               evaluation 81 / 90 = 0.9 x 100 x 0.125 = 11.25; 99.375 x 0.9 (4 late)
                               - 5 (1 absence day) = 84.4375 -> 84.44, B
    E00002 sales, 华南销售部   330000 / 300000 = 1.1 -> 44; 4.2 / 4.2 -> 20; 200000 / 200000 -> 30;
                               90 / 90 -> 10; 104.00, A
    E00003 sales, 华东销售部   no evaluation: held, ungraded, with the points it has: 100000 /
                               300000 = 0.3333 x 100 x 0.4 = 13.332; + 20; 100000 / 200000 = 0.5
                               x 100 x 0.3 = 15; 48.332 -> 48.33
    E00101 admin, 行政部       evaluation 72 / 90 = 0.8 -> 80.00, B
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from orchestration.cli.main import app
from pipelines.assignment import Person
from pipelines.facts import save_facts
from pipelines.publishing import draft_scores, publish
from pipelines.stores import Stores
from schemas.facts import TARGET, Fact
from schemas.settings import DEFAULT_TEMPLATES_DIR
from schemas.templates import load_templates

PERIOD = "2026-10"
SALES = "星辰制造有限公司/销售中心"
PEOPLE = [
    Person("E00001", "销售1", f"{SALES}/华东销售部", "销售代表", leader=False),
    Person("E00002", "销售2", f"{SALES}/华南销售部", "销售代表", leader=False),
    Person("E00003", "销售3", f"{SALES}/华东销售部", "销售代表", leader=False),
    Person("E00101", "行政101", "星辰制造有限公司/行政部", "行政专员", leader=False),
]
ACTUALS = {
    ("crm", "contract_amount"): {"E00001": "300000", "E00002": "330000", "E00003": "100000"},
    ("crm", "customer_satisfaction"): {"E00002": "4.2", "E00003": "4.2"},
    ("erp", "collection_amount"): {"E00001": "150000", "E00002": "200000", "E00003": "100000"},
    ("evaluations", "manager_evaluation"): {"E00001": "81", "E00002": "90", "E00101": "72"},
    ("dingtalk", "late_count"): {"E00001": "4", "E00002": "0", "E00003": "0", "E00101": "0"},
    ("dingtalk", "absence_days"): {"E00001": "1", "E00002": "0", "E00003": "0", "E00101": "0"},
}

runner = CliRunner()


def save(stores: Stores, source: str, kpi: str, values: dict[str, str], kind: str) -> None:
    with Session(stores.hub) as session, session.begin():
        save_facts(
            session,
            source=source,
            period=PERIOD,
            kpi_codes=[kpi],
            facts=[
                Fact(job, PERIOD, kpi, Decimal(v), "CNY", source, (), kind=kind)
                for job, v in values.items()
            ],
            run_id="run-1",
        )


@pytest.fixture
def published() -> None:
    from orchestration.cli.inspect import open_stores

    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    stores = open_stores()
    for (source, kpi), values in ACTUALS.items():
        save(stores, source, kpi, values, "actual")
    save(stores, "erp", "contract_amount", {"E00001": "250000"}, TARGET)
    templates = load_templates(DEFAULT_TEMPLATES_DIR)
    with Session(stores.hub) as session:
        drafts = draft_scores(session, PERIOD, templates, PEOPLE)
    publish(stores, drafts, PERIOD, "run-1")
    stores.dispose()


def listed(*options: str) -> list[tuple[str, str, str | None, str]]:
    result = runner.invoke(app, ["scores", "--period", PERIOD, "--json", *options])
    assert result.exit_code == 0, result.output
    return [
        (r["job_number"], r["total"], r["grade"], r["status"]) for r in json.loads(result.output)
    ]


E1 = ("E00001", "84.44", "B 合格", "final")
E2 = ("E00002", "104.00", "A 优秀", "final")
E3 = ("E00003", "48.33", None, "held")
E101 = ("E00101", "80.00", "B 合格", "final")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ((), [E1, E2, E3, E101]),
        (("--department", "华东销售部"), [E1, E3]),
        (("--department", f"{SALES}/华南销售部"), [E2]),
        (("--department", "销售中心", "--grade", "A"), [E2]),
        (("--grade", "B 合格"), [E1, E101]),
        (("--template", "admin"), [E101]),
        (("--template", "sales", "--grade", "B"), [E1]),
        (("--held",), [E3]),
        (("--department", "销售中心", "--held"), [E3]),
        (("--held", "--grade", "A"), []),
        (("--department", "行政部", "--held"), []),
    ],
)
def test_filters_combine(published: None, options: tuple[str, ...], expected: list) -> None:
    assert listed(*options) == expected


def test_an_unknown_template_is_an_error_naming_the_known_ones(published: None) -> None:
    result = runner.invoke(app, ["scores", "--period", PERIOD, "--template", "salse"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: unknown template 'salse'; known: "
        "admin, customer_ops, line_manager, production, rnd, sales"
    )


def test_an_unknown_department_is_an_error_naming_the_known_ones(published: None) -> None:
    result = runner.invoke(app, ["scores", "--period", PERIOD, "--department", "财务部"])
    assert result.exit_code == 2
    known = ", ".join(
        sorted(["星辰制造有限公司", "销售中心", "华东销售部", "华南销售部", "行政部"])
    )
    assert result.output.strip() == f"error: unknown department '财务部'; known: {known}"


def test_without_period_the_last_closed_month_is_read(
    published: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The clock says the published month is the one that closed last.
    monkeypatch.setattr("orchestration.cli.options.last_closed_period", lambda: PERIOD)
    result = runner.invoke(app, ["scores", "--json", "--held"])
    assert result.exit_code == 0, result.output
    assert [r["job_number"] for r in json.loads(result.output)] == ["E00003"]
    traced = runner.invoke(app, ["trace", "E00002", "--json"])
    assert traced.exit_code == 0, traced.output
    assert json.loads(traced.output)["period"] == PERIOD
    pool = runner.invoke(app, ["talent-pool", "--json"])
    assert pool.exit_code == 0, pool.output
    assert [r["job_number"] for r in json.loads(pool.output)] == ["E00002"]
    facts = runner.invoke(app, ["facts", "--json", "--job-number", "E00101"])
    assert facts.exit_code == 0, facts.output
    assert {(f["kpi_code"], f["period"]) for f in json.loads(facts.output)} == {
        ("manager_evaluation", PERIOD), ("late_count", PERIOD), ("absence_days", PERIOD),
    }  # fmt: skip


def test_the_xlsx_export_has_every_number_under_two_header_rows(
    published: None, tmp_path: Path
) -> None:
    target = tmp_path / "scores.xlsx"
    result = runner.invoke(app, ["scores", "--period", PERIOD, "--xlsx", str(target)])
    assert result.exit_code == 0, result.output
    assert f"wrote 4 score(s) of {PERIOD} to {target}" in " ".join(result.output.split())
    sheet = openpyxl.load_workbook(target).active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    kpis = [
        ("合同金额", "contract_amount"),
        ("客户满意度", "customer_satisfaction"),
        ("回款金额", "collection_amount"),
        ("上级评价", "manager_evaluation"),
    ]
    assert rows[0] == (
        ["工号", "姓名", "部门", "模板", "版本"]
        + [f"{zh} {part}" for zh, _ in kpis for part in ("实际值", "目标值", "达成率", "得分")]
        + ["调整 迟到次数 (乘)", "调整 缺勤天数 (减)", "小计", "总分", "等级", "状态", "暂缓原因"]
    )
    assert rows[1] == (
        ["job_number", "name", "department", "template", "version"]
        + [
            f"{en} {part}"
            for _, en in kpis
            for part in ("actual", "target", "attainment", "points")
        ]
        + ["adjustment late_arrivals (multiply)", "adjustment absence (subtract)"]
        + ["subtotal", "total", "grade", "status", "hold_reasons"]
    )
    assert [r[0] for r in rows[2:]] == ["E00001", "E00002", "E00003", "E00101"]
    assert rows[2] == [
        "E00001", "销售1", f"{SALES}/华东销售部", "sales", 1,
        300000, 250000, 1.2, 60,
        None, 4.2, None, 0,
        150000, 200000, 0.75, 28.125,
        81, 90, 0.9, 11.25,
        0.9, 5,
        99.375, 84.44, "B 合格", "final", None,
    ]  # fmt: skip
    assert rows[4][-3:] == [None, "held", "manager_evaluation: no fact for 2026-10"]
    assert rows[5][5:9] == [None, None, None, None]  # admin has no contract component
    assert sheet["H3"].number_format == "0.00%"


def test_an_xlsx_in_a_missing_folder_is_a_one_line_error(published: None, tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "scores.xlsx"
    result = runner.invoke(app, ["scores", "--period", PERIOD, "--xlsx", str(target)])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: cannot write {target}: folder {target.parent} does not exist"
    )


def test_a_text_cell_that_looks_like_a_formula_is_written_as_text() -> None:
    from pipelines.score_export import as_text

    assert as_text("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    assert [as_text(v) for v in ("+1", "-2", "@SUM(A1)", "王伟")] == [
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "王伟",
    ]
    assert as_text(Decimal("-3.5")) == Decimal("-3.5")
