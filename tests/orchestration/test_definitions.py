"""The code location loads, and its graph is built from the connector registry."""

from __future__ import annotations

import dagster as dg

from orchestration.definitions import build_definitions
from orchestration.partitions import closed_periods, monthly


def test_definitions_load_with_every_registered_source() -> None:
    defs = build_definitions()
    keys = sorted(spec.key.to_user_string() for spec in defs.resolve_all_asset_specs())
    assert keys == [
        "attendance/punches", "attendance/shifts",
        "crm/customers", "crm/leads", "crm/orders", "crm/surveys", "crm/users",
        "dingtalk/approvals", "dingtalk/attendance", "dingtalk/departments",
        "dingtalk/leave_status", "dingtalk/users",
        "erp/ar_receipt", "erp/cb_cost", "erp/hr_emp", "erp/hr_emp_badge", "erp/prd_instock",
        "erp/sal_target",
        "evaluations/evaluations",
        "facts/attendance", "facts/crm", "facts/dingtalk", "facts/erp", "facts/evaluations",
        "facts/qms",
        "qms/inspections",
        "scores",
    ]  # fmt: skip
    graph = defs.resolve_asset_graph()
    sources = ("attendance", "crm", "dingtalk", "erp", "evaluations", "qms")
    assert graph.get(dg.AssetKey(["scores"])).parent_keys == {
        dg.AssetKey(["facts", name]) for name in sources
    }
    identity = {
        dg.AssetKey(key)
        for key in (
            ["crm", "users"], ["dingtalk", "departments"], ["dingtalk", "users"],
            ["erp", "hr_emp"], ["erp", "hr_emp_badge"],
        )
    }  # fmt: skip
    # Every fact asset waits for the identities; attendance also for DingTalk's leave.
    assert graph.get(dg.AssetKey(["facts", "qms"])).parent_keys == identity | {
        dg.AssetKey(["qms", "inspections"])
    }
    assert graph.get(dg.AssetKey(["facts", "attendance"])).parent_keys == identity | {
        dg.AssetKey(key)
        for key in (
            ["attendance", "shifts"],
            ["attendance", "punches"],
            ["dingtalk", "leave_status"],
        )
    }
    assert {job.name for job in defs.resolve_all_job_defs()} >= {"sync_sources", "score_period"}


def test_credentials_are_environment_variables_not_values() -> None:
    defs = build_definitions()
    crm = defs.resources["crm_source"]
    assert isinstance(crm.secret, dg.EnvVar)
    assert crm.secret.env_var_name == "KPIHUB_CRM_CLIENT_SECRET"
    dingtalk = defs.resources["dingtalk_source"]
    assert dingtalk.secret.env_var_name == "KPIHUB_DINGTALK_APP_SECRET"
    # A source without a user name or a secret has none to leak.
    qms = defs.resources["qms_source"]
    assert (qms.endpoint.env_var_name, qms.username, qms.secret.env_var_name) == (
        "KPIHUB_QMS_BASE_URL", "", "KPIHUB_QMS_API_KEY",
    )  # fmt: skip
    evaluations = defs.resources["evaluations_source"]
    assert (evaluations.endpoint.env_var_name, evaluations.username, evaluations.secret) == (
        "KPIHUB_EVALUATIONS_DIR", "", "",
    )  # fmt: skip


def test_periods_are_shanghai_months() -> None:
    assert monthly.timezone == "Asia/Shanghai"
    keys = monthly.get_partition_keys()
    assert keys[0] == "2025-01"
    from datetime import datetime
    from zoneinfo import ZoneInfo

    shanghai = ZoneInfo("Asia/Shanghai")
    assert closed_periods(3, datetime(2026, 1, 15, tzinfo=shanghai)) == [
        "2025-10",
        "2025-11",
        "2025-12",
    ]
    # 2026-11-01 00:30 in Shanghai is still October in UTC; October has closed in Shanghai.
    assert closed_periods(1, datetime(2026, 10, 31, 16, 30, tzinfo=ZoneInfo("UTC"))) == ["2026-10"]
