"""``kpihub sandbox up | down | truth`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from typer.testing import CliRunner

from orchestration.cli.main import app
from sandbox.ground_truth import truth
from sandbox.model import generate_world

runner = CliRunner()


def test_truth_json_lists_every_crm_employee() -> None:
    world = generate_world(9, 30)
    period = world.periods[-2]
    result = runner.invoke(
        app, ["sandbox", "truth", "--seed", "9", "--employees", "30", "--period", period, "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows == [
        {"job_number": r.job_number, "kpi_code": r.kpi_code, "period": period,
         "value": str(r.value)}
        for r in truth(world, period)
    ]  # fmt: skip
    assert {r["kpi_code"] for r in rows} == {
        "absence_days", "collection_amount", "contract_amount", "customer_satisfaction",
        "late_count", "lead_conversion_rate", "new_customers", "output_qty", "repurchase_rate",
        "semi_finished_yield_rate", "cost_control",
    }  # fmt: skip
    people = {e.job_number for e in world.employees}
    assert {r["job_number"] for r in rows if r["kpi_code"] == "late_count"} == people


def test_truth_refuses_a_bad_period() -> None:
    result = runner.invoke(app, ["sandbox", "truth", "--period", "2026-1"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: period '2026-1' is not a month in the form YYYY-MM"


def test_up_writes_endpoints_and_down_removes_them(_isolated_home: Path) -> None:
    up = runner.invoke(app, ["sandbox", "up", "--seed", "4", "--employees", "15"])
    try:
        assert up.exit_code == 0, up.output
        env = dict(
            line.split("=", 1) for line in (_isolated_home / "sources.env").read_text().splitlines()
        )
        assert sorted(env) == [
            "KPIHUB_ALERT_ROBOT_SECRET", "KPIHUB_ALERT_ROBOT_URL", "KPIHUB_ALERT_SMTP_HOST",
            "KPIHUB_ALERT_SMTP_PORT", "KPIHUB_ALERT_WEBHOOK_TOKEN", "KPIHUB_ALERT_WEBHOOK_URL",
            "KPIHUB_ATTENDANCE_BASE_URL", "KPIHUB_ATTENDANCE_PASSWORD",
            "KPIHUB_ATTENDANCE_USERNAME", "KPIHUB_CRM_BASE_URL", "KPIHUB_CRM_CLIENT_ID",
            "KPIHUB_CRM_CLIENT_SECRET", "KPIHUB_DINGTALK_AGENT_ID", "KPIHUB_DINGTALK_API_URL",
            "KPIHUB_DINGTALK_APP_KEY", "KPIHUB_DINGTALK_APP_SECRET", "KPIHUB_DINGTALK_BASE_URL",
            "KPIHUB_DINGTALK_LOGIN_URL", "KPIHUB_ERP_ODBC", "KPIHUB_EVALUATIONS_DIR",
            "KPIHUB_PORTAL_HR_ROLES", "KPIHUB_QMS_API_KEY", "KPIHUB_QMS_BASE_URL",
        ]  # fmt: skip
        assert env["KPIHUB_EVALUATIONS_DIR"] == str(_isolated_home / "sandbox" / "evaluations")
        assert env["KPIHUB_ERP_ODBC"] == (
            f"DRIVER=SQLite3;Database={_isolated_home / 'sandbox' / 'erp-4-15.db'}"
        )
        assert env["KPIHUB_CRM_BASE_URL"] in up.output
        token = httpx.post(
            f"{env['KPIHUB_CRM_BASE_URL']}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": env["KPIHUB_CRM_CLIENT_ID"],
                "client_secret": env["KPIHUB_CRM_CLIENT_SECRET"],
            },
        )
        assert token.status_code == 200
        again = runner.invoke(app, ["sandbox", "up", "--seed", "4", "--employees", "15"])
        assert "already running" in again.output
    finally:
        down = runner.invoke(app, ["sandbox", "down"])
    assert down.exit_code == 0
    assert "Sandbox stopped" in down.output
    assert (_isolated_home / "sources.env").read_text() == ""
    assert not (_isolated_home / "sandbox.json").exists()
    assert runner.invoke(app, ["sandbox", "down"]).output.strip() == "No sandbox is running."
