"""``kpihub bench`` lands and normalises a sandbox company with the hub's own code and reports
each step; what it reports is what the store holds afterwards."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from orchestration.cli.main import app
from orchestration.partitions import closed_periods
from pipelines.facts import current_facts
from pipelines.stores import Stores
from schemas.tables import RawRecordVersion

runner = CliRunner()


def test_bench_reports_every_step_as_the_store_holds_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    args = ["bench", "--employees", "8", "--sources", "qms", "--database-url", url]
    result = runner.invoke(app, [*args, "--memory", "--json"])
    assert result.exit_code == 0, result.output
    steps = json.loads(result.output)
    period = closed_periods(1)[0]
    # QMS, and the sources identity needs (directories and person links), are landed.
    assert [(s["phase"], s["source"], s["subject"]) for s in steps] == [
        ("land", "crm", "users"), ("land", "crm", "orders"), ("land", "crm", "leads"),
        ("land", "crm", "customers"), ("land", "crm", "surveys"),
        ("land", "dingtalk", "departments"), ("land", "dingtalk", "users"),
        ("land", "dingtalk", "attendance"), ("land", "dingtalk", "leave_status"),
        ("land", "dingtalk", "approvals"),
        ("land", "erp", "hr_emp"), ("land", "erp", "hr_emp_badge"), ("land", "erp", "ar_receipt"),
        ("land", "erp", "sal_target"), ("land", "erp", "prd_instock"), ("land", "erp", "cb_cost"),
        ("land", "qms", "inspections"),
        ("normalise", "qms", period),
    ]  # fmt: skip
    stores = Stores.connect(url, url)
    with Session(stores.hub) as session:
        inspections = session.scalar(
            select(func.count()).where(
                RawRecordVersion.source == "qms", RawRecordVersion.stream == "inspections"
            )
        )
        facts = current_facts(session, period, ["semi_finished_yield_rate"])
    stores.dispose()
    by_step = {(s["phase"], s["subject"]): s for s in steps}
    assert by_step[("land", "inspections")]["items"] == inspections > 0
    assert by_step[("normalise", period)]["items"] == len(facts) > 0
    assert all(s["peak_mib"] > 0 and s["seconds"] > 0 for s in steps)


def test_bench_refuses_an_unknown_source() -> None:
    result = runner.invoke(app, ["bench", "--sources", "qms,lms"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: --sources takes some of attendance, crm, dingtalk, erp, evaluations, qms, "
        "not 'qms,lms'"
    )
