"""A source whose clock runs ahead: its records are landed, counted in a finding, and never move
the watermark past the hub's now plus the tolerance (else the next pull would skip records)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.crm import CONNECTOR
from connectors.sdk.timeparse import SHANGHAI, now_utc, parse_instant
from pipelines.landing import land_stream
from pipelines.stores import Stores
from sandbox.model import generate_world
from sandbox.serving import SandboxServer
from schemas.settings import get_settings
from schemas.tables import Finding, RawRecordVersion

AHEAD = timedelta(days=3)


@pytest.fixture
def tolerance(monkeypatch: pytest.MonkeyPatch) -> timedelta:
    monkeypatch.setenv("KPIHUB_CLOCK_TOLERANCE_SECONDS", "120")
    get_settings.cache_clear()
    return timedelta(seconds=120)


def test_records_stamped_ahead_are_landed_flagged_and_hold_the_watermark(
    stores: Stores, tolerance: timedelta
) -> None:
    # The CRM's clock runs three days ahead: it has already served their changes.
    ahead_day = (datetime.now(UTC) + AHEAD).astimezone(SHANGHAI).date()
    world = generate_world(23, 120, ahead_day)
    world.clock = lambda: datetime.now(UTC) + AHEAD
    with SandboxServer(world, systems=("crm",)) as server:
        source = CONNECTOR.connect(server.endpoints)
        try:
            before = now_utc()
            stats = land_stream(stores.hub, source, CONNECTOR.stream("orders"), "run-1")
            after = now_utc()
        finally:
            source.close()
    served = [o for o in world.orders if o.updated_at <= world.now()]
    ahead = {o.id for o in served if o.updated_at > after + tolerance}
    maybe = {o.id for o in served if o.updated_at > before + tolerance}
    assert ahead, "the world must have changes in the day ahead"
    assert ahead <= set(stats.future_stamped) <= maybe
    assert stats.landed == len(served)
    mark = parse_instant(str(stats.watermark))
    assert before + tolerance <= mark <= after + tolerance
    assert stats.watermark_held is True
    with Session(stores.hub) as session:
        landed = set(session.scalars(select(RawRecordVersion.record_key)))
        finding = session.scalars(select(Finding)).one()
    assert ahead <= landed
    assert (finding.check_name, finding.subject, finding.severity, finding.status) == (
        "crm.future_stamped_records",
        "crm/orders",
        "WARN",
        "open",
    )
    assert finding.count == len(stats.future_stamped)
    assert set(finding.detail["records"]) == set(stats.future_stamped)


def test_a_source_on_time_commits_its_newest_stamp(stores: Stores, tolerance: timedelta) -> None:
    world = generate_world(23, 40, datetime(2026, 11, 20).date())
    with SandboxServer(world, systems=("crm",)) as server:
        source = CONNECTOR.connect(server.endpoints)
        try:
            stats = land_stream(stores.hub, source, CONNECTOR.stream("orders"), "run-1")
        finally:
            source.close()
    assert parse_instant(str(stats.watermark)) == max(o.updated_at for o in world.orders)
    assert (stats.future_stamped, stats.watermark_held) == ({}, False)
    with Session(stores.hub) as session:
        assert session.scalars(select(Finding)).all() == []
