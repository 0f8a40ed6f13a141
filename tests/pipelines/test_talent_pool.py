"""The core talent pool of a month, read from the published scores: final, graded A, no open
ERROR finding on the person or the sources of their facts, and the run of consecutive months.

Five sellers over three months, contract amount against a target of 100 as the total; a cohort
under ten is graded by bands (A from 90):

    job     2026-08   2026-09   2026-10
    E00001  95 A      95 A      95 A      -> 3 months
    E00002  95 A      50 C      92 A      -> 1 month: September broke the run
    E00003  (held)    91 A      93 A      -> 2 months: a held score is not graded
    E00004  -         -         99 A      -> out: an open ERROR finding names E00004
    E00005  -         -         80 B      -> out: B
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from orchestration.cli.main import app
from pipelines.facts import save_facts
from pipelines.publishing import draft_scores, publish
from pipelines.stores import Stores
from pipelines.talent_pool import PoolMember, pool_rules, previous_period, talent_pool
from schemas.facts import Fact
from schemas.tables import Finding
from schemas.templates import TalentPool, load_template
from tests.pipelines.test_score_publishing import CONTRACT_ONLY, SALES_DEPARTMENT, seller

D = Decimal
MONTHS = {
    "2026-08": {"E00001": "95", "E00002": "95"},
    "2026-09": {"E00001": "95", "E00002": "50", "E00003": "91"},
    "2026-10": {"E00001": "95", "E00002": "92", "E00003": "93", "E00004": "99", "E00005": "80"},
}
AT = datetime(2026, 11, 2, tzinfo=UTC)


def finding(check: str, subject: str, period: str, status: str) -> Finding:
    return Finding(
        check_name=check,
        severity="ERROR",
        subject=subject,
        period=period,
        status=status,
        count=1,
        detail={},
        created_at=AT,
        updated_at=AT,
    )


def publish_months(stores: Stores, templates_dir: Path) -> dict[str, TalentPool]:
    """Publish the three months; E00004 has an open ERROR finding in October, crm a resolved one
    in September (which keeps nobody out)."""
    (templates_dir / "contract.yaml").write_text(CONTRACT_ONLY, encoding="utf-8")
    templates = [load_template(templates_dir / "contract.yaml")]
    for period, values in MONTHS.items():
        people = [seller(int(job[1:])) for job in sorted({*values, "E00003"})]
        with Session(stores.hub) as session, session.begin():
            save_facts(
                session,
                source="crm",
                period=period,
                kpi_codes=["contract_amount"],
                facts=[
                    Fact(job, period, "contract_amount", D(v), "CNY", "crm", ())
                    for job, v in values.items()
                ],
                run_id=f"run-{period}",
            )
        with Session(stores.hub) as session:
            drafts = draft_scores(session, period, templates, people)
        publish(stores, drafts, period, f"run-{period}")
    with Session(stores.hub) as session, session.begin():
        session.add(finding("people.badge", "E00004", "2026-10", "open"))
        session.add(finding("crm.gap", "crm", "2026-09", "resolved"))
    return pool_rules(templates)


def member(n: int, total: str, months: int) -> PoolMember:
    return PoolMember(
        f"E{n:05d}", f"销售{n}", SALES_DEPARTMENT, "contract", D(total), "A 优秀", months
    )


def test_the_pool_counts_consecutive_months(stores: Stores, tmp_path: Path) -> None:
    rules = publish_months(stores, tmp_path)
    assert talent_pool(stores, "2026-10", rules) == [
        member(1, "95.00", 3),
        member(2, "92.00", 1),
        member(3, "93.00", 2),
    ]
    assert talent_pool(stores, "2026-09", rules) == [member(1, "95.00", 2), member(3, "91.00", 1)]
    assert talent_pool(stores, "2026-07", rules) == []


def test_an_open_error_finding_on_a_source_ends_a_run(stores: Stores, tmp_path: Path) -> None:
    """An open ERROR on crm/orders in September takes everyone whose score read crm out of
    September's pool, so October's runs restart."""
    rules = publish_months(stores, tmp_path)
    with Session(stores.hub) as session, session.begin():
        session.add(finding("crm.orders_gap", "crm/orders", "2026-09", "open"))
    assert talent_pool(stores, "2026-09", rules) == []
    assert [(m.job_number, m.months) for m in talent_pool(stores, "2026-10", rules)] == [
        ("E00001", 1),
        ("E00002", 1),
        ("E00003", 1),
    ]


def test_previous_period_crosses_the_year() -> None:
    assert (previous_period("2026-01"), previous_period("2026-10")) == ("2025-12", "2026-09")


def test_the_cli_lists_the_pool_as_json_and_as_a_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.cli.inspect import open_stores
    from schemas.settings import get_settings

    templates_dir = tmp_path / "templates"
    templates_dir.mkdir()
    monkeypatch.setenv("KPIHUB_TEMPLATES_DIR", str(templates_dir))
    get_settings.cache_clear()
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    stores = open_stores()
    publish_months(stores, templates_dir)
    stores.dispose()

    result = runner.invoke(app, ["talent-pool", "--period", "2026-10", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output) == [
        {
            "job_number": f"E0000{n}",
            "name": f"销售{n}",
            "department": SALES_DEPARTMENT,
            "template": "contract",
            "total": total,
            "grade": "A 优秀",
            "months": months,
        }
        for n, total, months in ((1, "95.00", 3), (2, "92.00", 1), (3, "93.00", 2))
    ]
    table = runner.invoke(app, ["talent-pool", "--period", "2026-10"])
    assert table.exit_code == 0
    assert "Core talent pool 2026-10 (3)" in table.output
    bad = runner.invoke(app, ["talent-pool", "--period", "2026-13"])
    assert (bad.exit_code, bad.output.strip()) == (
        2,
        "error: period '2026-13' is not a month in the form YYYY-MM",
    )
