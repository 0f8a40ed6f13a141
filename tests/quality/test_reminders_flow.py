"""Personal reminders from the catalog's alert thresholds: a month scored through Dagster queues
one work notification per person, KPI and month past its threshold, to the person and their
leaders as the landed DingTalk directory names them, and the sandbox's DingTalk receives it once
however often the month is run again."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from orchestration.home import set_up
from orchestration.resources import StoresResource
from orchestration.sensors import deliver_alerts
from pipelines.directory import Department, Directory, Member, reminder_receivers
from pipelines.facts import current_facts
from pipelines.stores import Stores
from quality.alerts.reminders import Reading, reminders_enabled, threshold_reminders
from sandbox.company import Employee
from sandbox.model import World, generate_world
from sandbox.serving import SandboxServer
from schemas.catalog import Kpi, load_catalog
from schemas.settings import Settings, get_settings
from schemas.tables import OutboxAlert

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
SEED = 42
EMPLOYEES = 40
YIELD = "semi_finished_yield_rate"
YIELD_NAME = "半成品合格率"


@pytest.fixture(autouse=True)
def _only_sandbox_sinks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Only the sinks the sandbox configures: another test may have exported some."""
    for name in list(os.environ):
        if name.startswith(("KPIHUB_ALERT_", "KPIHUB_DINGTALK_")):
            monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _collapse(world: World) -> tuple[Employee, str]:
    [planted] = [a for a in world.anomalies if a.kind == "yield_collapse"]
    [worker] = [e for e in world.employees if e.job_number == planted.job_number]
    return worker, planted.period


def _home_leader(world: World, person: Employee) -> Employee:
    """The sandbox's own truth: each department's leader is the first person placed there."""
    [leader] = [
        e
        for e in world.employees
        if e.leader and e is not person and e.dept_ids[0] == person.dept_ids[0]
    ]
    return leader


def _score(defs: dg.Definitions, period: str) -> dg.ExecuteInProcessResult:
    result = defs.resolve_job_def("score_period").execute_in_process(
        instance=dg.DagsterInstance.get(), partition_key=period, run_config=QUIET
    )
    assert result.success, period
    return result


def _facts_metadata(result: dg.ExecuteInProcessResult, source: str) -> dict[str, Any]:
    key = dg.AssetKey(["facts", source])
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
    materialization = getattr(event.event_specific_data, "materialization", None)
    assert isinstance(materialization, dg.AssetMaterialization)
    return {k: v.value for k, v in materialization.metadata.items()}


def _deliver(url: str) -> str:
    context = dg.build_sensor_context(
        resources={"stores": StoresResource(database_url=url, hr_store_url=url)}
    )
    reason = deliver_alerts(context)
    assert isinstance(reason, dg.SkipReason)
    return str(reason.skip_message)


def _yield_notices(server: SandboxServer) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = server.dingtalk.server.config.app.state.notifications.sent
    return [n for n in sent if n["msg"]["markdown"]["title"].startswith(f"KPI Hub: {YIELD_NAME}")]


def test_a_collapsed_yield_reaches_the_worker_and_their_leader_once(
    _isolated_home: Path,
) -> None:
    settings = get_settings()
    set_up(settings)
    world = generate_world(seed=SEED, employees=EMPLOYEES)
    worker, period = _collapse(world)
    leader = _home_leader(world, worker)
    with SandboxServer(world) as server:
        os.environ.update(server.endpoints)
        os.environ["KPIHUB_HISTORY_MONTHS"] = "1"
        get_settings.cache_clear()
        from orchestration.definitions import build_definitions

        defs = build_definitions()
        sync = defs.resolve_job_def("sync_sources").execute_in_process(
            instance=dg.DagsterInstance.get(), run_config=QUIET
        )
        assert sync.success
        first = _facts_metadata(_score(defs, period), "qms")
        url = get_settings().hub_url
        _deliver(url)
        again = _facts_metadata(_score(defs, period), "qms")
        _deliver(url)
        notices = _yield_notices(server)
        agent_id = server.endpoints["KPIHUB_DINGTALK_AGENT_ID"]

    assert (first["reminders_due"], first["reminders_queued"]) == (1, 1)
    assert first["reminders_not_in_directory"] == 0
    # The month run again finds the same person under the threshold and queues nothing new.
    assert (again["reminders_due"], again["reminders_queued"]) == (1, 0)

    stores = Stores.connect(get_settings().hub_url, get_settings().hr_url)
    with Session(stores.hub) as session:
        [fact] = [
            f for f in current_facts(session, period, [YIELD]) if f.job_number == worker.job_number
        ]
        [row] = [
            r
            for r in session.query(OutboxAlert).filter(OutboxAlert.sink == "dingtalk_notify")
            if r.payload["kpi_code"] == YIELD
        ]
    stores.dispose()
    value = fact.value.quantize(Decimal("0.01"))
    assert Decimal(55) <= value <= Decimal(70)  # the sandbox plants 55-70% for the month
    assert (row.delivery_key, row.status, row.attempts) == (
        f"reminder:{worker.job_number}:{YIELD}:{period}",
        "sent",
        1,
    )
    [notice] = notices
    assert notice == {
        "task_id": notice["task_id"],
        "agent_id": agent_id,
        "userid_list": [worker.userid, leader.userid],
        "to_all_user": False,
        "msg": {
            "msgtype": "markdown",
            "markdown": {
                "title": f"KPI Hub: {YIELD_NAME} {period}",
                "text": f"#### {YIELD_NAME} {period}\n\n{worker.job_number}: {YIELD_NAME} is "
                f"{value}%, under its alert threshold of 90%.\n",
            },
        },
    }


def test_without_the_work_notification_sink_nothing_is_queued() -> None:
    assert not reminders_enabled(Settings())
    configured = Settings(
        KPIHUB_DINGTALK_BASE_URL="http://127.0.0.1:1",
        KPIHUB_DINGTALK_APP_KEY="key",
        KPIHUB_DINGTALK_APP_SECRET="not-a-real-secret",
        KPIHUB_DINGTALK_AGENT_ID="1000",
    )
    assert reminders_enabled(configured)
    without_agent = Settings(
        KPIHUB_DINGTALK_BASE_URL="http://127.0.0.1:1",
        KPIHUB_DINGTALK_APP_KEY="key",
        KPIHUB_DINGTALK_APP_SECRET="not-a-real-secret",
    )
    assert not reminders_enabled(without_agent)


def _directory() -> Directory:
    departments = [
        Department(1, "公司", 0),
        Department(230, "生产中心", 1),
        Department(231, "一号产线", 230),
        Department(232, "二号产线", 230),
    ]
    members = [
        Member("u-head", "E00001", "主任", (230,), True),
        Member("u-lead1", "E00002", "线长", (231,), True),
        Member("u-w1", "E00003", "工人", (231,), False),
        Member("u-w2", "E00004", "工人", (232, 231), False),
        # Leads line 2 first; line 1 is only a second membership, not theirs to lead.
        Member("u-lead2", "E00005", "线长", (232, 231), True),
    ]
    return Directory.of(departments, members)


def test_leaders_are_found_up_the_department_tree() -> None:
    receivers = reminder_receivers(_directory())
    assert receivers("E00003") == ("u-w1", ("u-lead1",))
    assert receivers("E00004") == ("u-w2", ("u-lead2",))
    # A leader's reminder goes to the leader of the department above.
    assert receivers("E00002") == ("u-lead1", ("u-head",))
    # Nobody leads above the top.
    assert receivers("E00001") == ("u-head", ())
    assert receivers("E09999") is None


def test_the_plan_counts_people_the_directory_does_not_know() -> None:
    catalog = load_catalog()
    readings = [
        Reading("E00003", YIELD, "2026-10", Decimal("88.5")),
        Reading("E00004", YIELD, "2026-10", Decimal("90")),  # exactly 90 is not under 90
        Reading("E09999", YIELD, "2026-10", Decimal("61.25")),
        Reading("E00002", "late_count", "2026-10", Decimal("4")),
        Reading("E00003", "late_count", "2026-10", Decimal("3")),
        Reading("E00003", "contract_amount", "2026-10", Decimal("0")),  # no threshold
    ]
    plan = threshold_reminders(readings, catalog, reminder_receivers(_directory()))
    assert (plan.crossed, plan.not_in_directory) == (3, ["E09999"])
    assert [(a.delivery_key, a.payload["userid_list"], a.payload["text"]) for a in plan.alerts] == [
        (
            "reminder:E00002:late_count:2026-10",
            ["u-lead1", "u-head"],
            "#### 迟到次数 2026-10\n\nE00002: 迟到次数 is 4, over its alert threshold of 3.\n",
        ),
        (
            f"reminder:E00003:{YIELD}:2026-10",
            ["u-w1", "u-lead1"],
            f"#### {YIELD_NAME} 2026-10\n\nE00003: {YIELD_NAME} is 88.50%, under its alert "
            "threshold of 90%.\n",
        ),
    ]


def _kpi(**changes: Any) -> dict[str, Any]:
    entry = load_catalog().get(YIELD).model_dump(exclude={"anomaly"})
    return {**entry, "alert_below": None, **changes}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"alert_below": 0.9}, "reads as a fraction, but rates are stored in percent"),
        ({"alert_below": 120}, "alert_below 120 is outside [-100, 100] (%)"),
        ({"alert_above": 95}, "alert_above does not fit a KPI where higher is better"),
        ({"alert_below": 90, "alert_above": 99}, "give alert_below or alert_above, not both"),
    ],
)
def test_a_threshold_that_cannot_be_meant_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        Kpi.model_validate(_kpi(**changes))


def test_the_catalog_alerts_on_yield_under_90_and_more_than_3_late_arrivals() -> None:
    catalog = load_catalog()
    thresholds = {k.code: k.alert_threshold for k in catalog.root if k.alert_threshold}
    assert thresholds == {YIELD: (Decimal(90), False), "late_count": (Decimal(3), True)}
