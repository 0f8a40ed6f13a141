"""``kpihub bench`` at a tiny size: one JSON object with every figure, counts that are what the
store holds afterwards, only the streams asked for (plus identity), and a clear word when dlt is
not installed. How fast is reported, never asserted."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from connectors.registry import discover
from orchestration.bench import landing_plan
from orchestration.cli.main import app
from pipelines.facts import current_facts
from pipelines.stores import Stores
from sandbox.model import generate_world
from sandbox.serving import SandboxServer
from schemas.tables import RawRecordVersion, Score

runner = CliRunner()
IDENTITY = [
    "crm/users", "dingtalk/departments", "dingtalk/users", "erp/hr_emp", "erp/hr_emp_badge",
]  # fmt: skip
STAGE_KEYS = {"pull", "land", "normalise", "check", "score", "publish"}


def _bench(tmp_path: Path) -> tuple[dict[str, Any], str, str]:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    args = ["bench", "--employees", "20", "--sources", "qms", "--database-url", url]
    result = runner.invoke(app, [*args, "--trace-samples", "20", "--shell-traces", "1", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr, url


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def test_the_identity_streams_come_with_any_source() -> None:
    everyone = discover()
    plan = [f"{c.name}/{s.name}" for c, s in landing_plan(("qms",), everyone)]
    assert plan == [*IDENTITY, "qms/inspections"]
    attendance = [f"{c.name}/{s.name}" for c, s in landing_plan(("attendance",), everyone)]
    # The terminals' mapping reads DingTalk's approved leave: it comes too, nothing else does.
    assert attendance == [
        "attendance/shifts", "attendance/punches", "crm/users", "dingtalk/departments",
        "dingtalk/users", "dingtalk/leave_status", "erp/hr_emp", "erp/hr_emp_badge",
    ]  # fmt: skip


def test_bench_reports_every_figure_as_the_store_holds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("orchestration.bench_dlt.dlt_installed", lambda: False)
    report, stderr, url = _bench(tmp_path)
    # Without dlt the rest is measured, and one line says why dlt is not.
    assert "dlt is not installed" in stderr
    assert report["dlt"]["records_per_s"] is None and report["dlt"]["ratio"] is None
    for key in (
        "employees", "source_records", "stages", "end_to_end_s", "peak_rss_mb",
        "incremental_ratio", "trace_ms", "dlt", "limits",
    ):  # fmt: skip
        assert key in report, key
    assert report["employees"] == 20
    assert set(report["stages"]) == STAGE_KEYS
    for name, stage in report["stages"].items():
        assert set(stage) == {"seconds", "records", "records_per_s"}, name
        assert all(_number(v) for v in stage.values()), name
    assert _number(report["end_to_end_s"]) and report["peak_rss_mb"] > 0
    assert _number(report["incremental_ratio"])
    assert all(_number(report["trace_ms"][k]) for k in ("p50", "p95", "cli_p50"))
    assert _number(report["limits"]["sandbox_records_per_s"])
    used = report["limits"]["dingtalk_budget_used"]
    assert used is None or 0 < used <= 1.05
    # Only QMS and the identity streams are landed.
    landed = {item["stream"]: item for item in report["landed"]}
    assert sorted(landed) == [*IDENTITY, "qms/inspections"]
    assert [row["stream"] for row in report["streams"]] == ["qms/inspections"]
    stores = Stores.connect(url, url)
    with Session(stores.hub) as session:
        versions = dict(
            session.execute(
                select(
                    RawRecordVersion.source + "/" + RawRecordVersion.stream, func.count()
                ).group_by(RawRecordVersion.source, RawRecordVersion.stream)
            ).all()
        )
        period = report["periods"][-1]
        facts = current_facts(session, period, ["semi_finished_yield_rate"])
    with Session(stores.hr) as session:
        scored = session.scalar(select(func.count()).where(Score.period == period))
    stores.dispose()
    assert set(versions) == set(landed)
    assert versions["qms/inspections"] > 0
    # A first pull lands every record it pulls, once; the re-sync adds only what changed.
    assert all(landed[s]["new_versions"] <= versions[s] for s in versions)
    assert sum(item["records"] for item in landed.values()) == report["source_records"]
    assert report["stages"]["pull"]["records"] == report["source_records"]
    assert report["stages"]["land"]["records"] == report["source_records"]
    assert report["stages"]["normalise"]["records"] == len(facts) > 0
    assert report["stages"]["publish"]["records"] == scored == 20
    assert report["streams"][0]["records"] == landed["qms/inspections"]["records"]


def test_bench_sets_the_hub_beside_dlt_on_the_same_records(tmp_path: Path) -> None:
    pytest.importorskip("dlt")
    report, stderr, _ = _bench(tmp_path)
    assert "dlt is not installed" not in stderr
    assert report["dlt"]["records_per_s"] > 0 and report["dlt"]["ratio"] > 0
    (row,) = report["streams"]
    landed = {item["stream"]: item for item in report["landed"]}
    # dlt merges on the primary key: it keeps as many inspections as the hub landed.
    assert row["dlt_records"] == landed["qms/inspections"]["records"] == row["records"]
    assert row["hub_to_dlt"] > 0 and row["hub_to_plain"] > 0


def test_the_sandbox_changes_a_share_of_its_changeable_records_now() -> None:
    world = generate_world(5, 40, date(2026, 11, 22))
    with SandboxServer(world, systems=("crm", "erp")) as server:
        before = {o.id: o.status for o in world.orders}
        changed = server.change_records(0.01)
        moved = [o for o in world.orders if before[o.id] != o.status]
    assert set(changed) == {"crm/orders", "erp/prd_instock", "erp/ar_receipt"}
    assert changed["crm/orders"] == len(moved) >= 1
    assert all(o.status == "cancelled" and o.updated_at == world.now().replace(microsecond=0)
               for o in moved)  # fmt: skip
    assert all(n >= 1 for n in changed.values())


def test_bench_refuses_an_unknown_source() -> None:
    result = runner.invoke(app, ["bench", "--sources", "qms,lms"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: --sources takes some of attendance, crm, dingtalk, erp, evaluations, qms, "
        "not 'qms,lms'"
    )
