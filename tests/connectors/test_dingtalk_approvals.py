"""DingTalk approvals: listed by creation time, so a first pull reaches back before the first day
it keeps, and an instance still RUNNING is asked for again until it finishes."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.dingtalk import CONNECTOR
from connectors.dingtalk.approvals import FILED_AHEAD_DAYS
from connectors.sdk.calendar import history_start
from pipelines.landing import land_stream, load_state
from pipelines.stores import Stores
from sandbox.clock import SHANGHAI, epoch_ms, local
from sandbox.model import generate_world
from sandbox.serving import SandboxServer
from schemas.tables import RawRecordVersion

DAY = date(2026, 11, 19)  # seed 2 has approvals covering it, and covering 2026-10-01
SEED, EMPLOYEES = 2, 60


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def test_a_running_instance_is_fetched_again_until_it_finishes(
    stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KPIHUB_HISTORY_MONTHS", "0")
    world = generate_world(SEED, EMPLOYEES, DAY)
    # The morning before: the approvals covering DAY were filed at 07:30 and are decided 09:30.
    clock = Clock(local(DAY - timedelta(days=1), 8, 0))
    world.clock = clock
    approvals = [a for p in world.periods for a in world.attendance.month(p).approvals]
    covering = sorted(a.instance_id for a in approvals if a.day == DAY)
    assert covering
    stream = CONNECTOR.stream("approvals")
    with SandboxServer(world, systems=("dingtalk",)) as server:
        source = CONNECTOR.connect(server.endpoints)
        asked: list[str] = []
        source.client.event_hooks["request"].append(
            lambda request: (
                asked.append(json.loads(request.content)["process_instance_id"])
                if request.url.path.endswith("/processinstance/get")
                else None
            )
        )
        try:
            monkeypatch.setenv("KPIHUB_TODAY", (DAY - timedelta(days=1)).isoformat())
            land_stream(stores.hub, source, stream, "run-1")
            with Session(stores.hub) as session:
                first = load_state(session, "dingtalk", "approvals")
            clock.moment = local(DAY, 10, 0)
            monkeypatch.setenv("KPIHUB_TODAY", DAY.isoformat())
            asked.clear()
            land_stream(stores.hub, source, stream, "run-2")
            with Session(stores.hub) as session:
                second = load_state(session, "dingtalk", "approvals")
                versions = {
                    (v.record_key, v.payload["status"], v.payload["result"])
                    for v in session.scalars(
                        select(RawRecordVersion).where(RawRecordVersion.record_key.in_(covering))
                    )
                }
        finally:
            source.close()
    assert first is not None and second is not None
    assert first["revisit"] == covering
    assert set(covering) <= set(asked)
    assert second["revisit"] == []
    results = {
        a.instance_id: a.result for p in world.periods for a in world.attendance.month(p).approvals
    }
    assert versions == {(i, "RUNNING", "") for i in covering} | {
        (i, "COMPLETED", results[i]) for i in covering
    }


def test_a_first_pull_lists_approvals_filed_before_the_first_day_it_keeps(
    stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = generate_world(SEED, EMPLOYEES, DAY)
    monkeypatch.setenv("KPIHUB_TODAY", DAY.isoformat())
    monkeypatch.setenv("KPIHUB_HISTORY_MONTHS", "1")
    first_day = history_start(DAY)
    asked: list[dict[str, int]] = []
    with SandboxServer(world, systems=("dingtalk",)) as server:
        source = CONNECTOR.connect(server.endpoints)
        source.client.event_hooks["request"].append(
            lambda request: (
                asked.append(json.loads(request.content))
                if request.url.path.endswith("/processinstance/listids")
                else None
            )
        )
        try:
            land_stream(stores.hub, source, CONNECTOR.stream("approvals"), "run-1")
        finally:
            source.close()
        with Session(stores.hub) as session:
            keys = set(session.scalars(select(RawRecordVersion.record_key)))
    reach = epoch_ms(
        datetime.combine(
            first_day - timedelta(days=FILED_AHEAD_DAYS), datetime.min.time(), SHANGHAI
        )
    )
    assert min(body["start_time"] for body in asked) == reach
    # An approval filed on the last day of the month before, for the first day kept, is there.
    approvals = [a for p in world.periods for a in world.attendance.month(p).approvals]
    early = {a.instance_id for a in approvals if a.day >= first_day > a.created.date()}
    assert early and early <= keys
