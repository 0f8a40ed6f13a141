"""Two runs landing one stream at once: the second waits for the first and lands nothing twice,
or, told not to wait, stops with one line naming the run that holds the stream."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.crm import CONNECTOR
from pipelines.landing import LandingStats, land_stream
from pipelines.leases import LeaseHeld, acquire, release
from pipelines.stores import Stores
from sandbox.model import World, generate_world
from sandbox.serving import SandboxServer
from schemas.settings import get_settings
from schemas.tables import RawRecordVersion, StreamLease


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(9, 30, date(2026, 11, 20))


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[SandboxServer]:
    with SandboxServer(world, systems=("crm",)) as running:
        yield running


def test_two_runs_at_once_land_every_version_exactly_once(
    stores: Stores, server: SandboxServer, world: World
) -> None:
    results: dict[str, LandingStats] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(run_id: str) -> None:
        source = CONNECTOR.connect(server.endpoints)
        try:
            start.wait()
            results[run_id] = land_stream(stores.hub, source, CONNECTOR.stream("orders"), run_id)
        except BaseException as exc:
            errors.append(exc)
        finally:
            source.close()

    threads = [threading.Thread(target=run, args=(f"run-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(r.landed for r in results.values()) == [0, len(world.orders)]
    with Session(stores.hub) as session:
        versions = session.scalar(select(func.count()).select_from(RawRecordVersion))
        leases = session.scalars(select(StreamLease)).all()
    assert versions == len(world.orders)
    assert leases == []  # both released


def test_a_run_told_not_to_wait_names_the_run_holding_the_stream(
    stores: Stores, server: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KPIHUB_LEASE_WAIT_SECONDS", "0")
    get_settings.cache_clear()
    acquire(stores.hub, "crm", "orders", "run-holder")
    source = CONNECTOR.connect(server.endpoints)
    try:
        with pytest.raises(LeaseHeld) as caught:
            land_stream(stores.hub, source, CONNECTOR.stream("orders"), "run-late")
    finally:
        source.close()
        release(stores.hub, "crm", "orders", "run-holder")
    message = str(caught.value)
    assert message.startswith("crm/orders is being synced by run run-holder (since ")
    assert message.endswith(" Asia/Shanghai); try again when it has finished")
    with Session(stores.hub) as session:
        assert session.scalar(select(func.count()).select_from(RawRecordVersion)) == 0


def test_the_lease_of_a_run_that_died_expires(stores: Stores) -> None:
    from datetime import timedelta

    from connectors.sdk.timeparse import now_utc

    acquire(stores.hub, "crm", "orders", "run-killed")
    with Session(stores.hub) as session, session.begin():
        lease = session.get(StreamLease, ("crm", "orders"))
        assert lease is not None
        lease.expires_at = now_utc() - timedelta(seconds=1)
    acquire(stores.hub, "crm", "orders", "run-next")
    with Session(stores.hub) as session:
        assert session.get(StreamLease, ("crm", "orders")).holder == "run-next"  # type: ignore[union-attr]
