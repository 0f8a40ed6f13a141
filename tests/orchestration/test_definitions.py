"""The code location loads, and its graph is built from the connector registry."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from pydantic import ValidationError

from connectors.sdk.calendar import history_months
from orchestration.definitions import build_definitions
from orchestration.jobs import monthly_close
from orchestration.partitions import closed_periods, first_period, monthly
from schemas.settings import Settings

SHANGHAI = ZoneInfo("Asia/Shanghai")


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
    # From the first month of the history kept (six closed months) to the last closed one.
    assert keys == closed_periods(history_months())
    assert first_period(date(2026, 12, 1)) == "2026-06"
    assert closed_periods(3, datetime(2026, 1, 15, tzinfo=SHANGHAI)) == [
        "2025-10",
        "2025-11",
        "2025-12",
    ]
    # 2026-11-01 00:30 in Shanghai is still October in UTC; October has closed in Shanghai.
    assert closed_periods(1, datetime(2026, 10, 31, 16, 30, tzinfo=ZoneInfo("UTC"))) == ["2026-10"]


def test_schedules_have_names_descriptions_and_run_in_shanghai() -> None:
    defs = build_definitions()
    daily = defs.resolve_schedule_def("daily_sync")
    close = defs.resolve_schedule_def("monthly_close")
    assert (daily.job_name, daily.cron_schedule, daily.execution_timezone) == (
        "sync_sources", "0 2 * * *", "Asia/Shanghai",
    )  # fmt: skip
    assert (close.job_name, close.cron_schedule, close.execution_timezone) == (
        "score_period", "0 3 3 * *", "Asia/Shanghai",
    )  # fmt: skip
    assert daily.default_status == close.default_status == dg.DefaultScheduleStatus.RUNNING
    assert daily.description == (
        "Every day at 02:00 Asia/Shanghai: pull every source stream incrementally and land the "
        "new record versions."
    )
    assert close.description == (
        "On day 3 of every month at 03:00 Asia/Shanghai: normalise the previous month's facts, "
        "then score and publish it (KPIHUB_CLOSE_DAY, KPIHUB_CLOSE_HOUR)."
    )


@pytest.mark.parametrize(
    ("fired", "period"),
    [
        (datetime(2026, 11, 3, 3, 0, tzinfo=SHANGHAI), "2026-10"),
        (datetime(2027, 1, 3, 3, 0, tzinfo=SHANGHAI), "2026-12"),
        # The tick's time in UTC is still the 2nd; in Shanghai it is the 3rd.
        (datetime(2026, 11, 2, 19, 0, tzinfo=ZoneInfo("UTC")), "2026-10"),
    ],
)
def test_the_monthly_close_scores_the_month_that_ended(fired: datetime, period: str) -> None:
    defs = build_definitions()
    close = defs.resolve_schedule_def("monthly_close")
    with dg.build_schedule_context(
        scheduled_execution_time=fired, repository_def=defs.get_repository_def()
    ) as context:
        result = close.evaluate_tick(context)
    assert [r.partition_key for r in result.run_requests or []] == [period]


def test_the_close_day_and_hour_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPIHUB_CLOSE_DAY", "5")
    monkeypatch.setenv("KPIHUB_CLOSE_HOUR", "7")
    close = monthly_close(Settings())
    assert (close.cron_schedule, close.execution_timezone) == ("0 7 5 * *", "Asia/Shanghai")
    assert close.description is not None and "day 5 of every month at 07:00" in close.description
    monkeypatch.setenv("KPIHUB_CLOSE_DAY", "31")  # not every month has it
    with pytest.raises(ValidationError, match="KPIHUB_CLOSE_DAY"):
        Settings()
