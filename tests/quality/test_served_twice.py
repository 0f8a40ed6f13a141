"""A source that serves the same record twice in one pull: landed once, and a finding per stream
and month that names the keys, so the repeat is seen even though it never reaches a fact."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.qms import CONNECTOR
from connectors.qms.streams import LOOKBACK_DAYS, WINDOW_DAYS
from connectors.sdk.calendar import pull_range, windows
from connectors.sdk.paginators import PageNumberPaginator
from pipelines.landing import land_stream
from pipelines.stores import Stores
from quality.served_twice import stream_kpi
from sandbox.apps.plant import served_page
from sandbox.model import World, generate_world
from sandbox.serving import SandboxServer
from schemas.catalog import load_catalog
from schemas.tables import Finding, RawRecordVersion

AS_OF = date(2026, 11, 22)
SEED = 7
PAGE_SIZE = 50


def _served_twice(world: World, duplicated: str) -> dict[str, set[str]]:
    """What the sandbox serves twice to a reader of ``PAGE_SIZE`` pages, by month: worked out
    from its own paging function over the windows the reader asks for."""
    found: dict[str, set[str]] = {}
    for first, last in windows(*pull_range(None, LOOKBACK_DAYS, AS_OF), WINDOW_DAYS):
        months = {f"{first:%Y-%m}", f"{last:%Y-%m}"}
        items = [
            i
            for p in world.periods
            for i in world.plant.inspections(p)
            if first <= i.inspected_at.date() <= last
        ]
        served: Counter[str] = Counter()
        for page in range(1, len(items) // (PAGE_SIZE - 1) + 2):
            chunk, _ = served_page(items, page, PAGE_SIZE, duplicated in months)
            served.update(i.inspection_id for i in chunk)
        by_id = {i.inspection_id: i for i in items}
        for key, n in served.items():
            if n > 1:
                found.setdefault(f"{by_id[key].inspected_at:%Y-%m}", set()).add(key)
    return found


def test_items_served_twice_are_landed_once_and_found(
    stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KPIHUB_TODAY", AS_OF.isoformat())
    world = generate_world(SEED, 60, AS_OF)
    (plant,) = [a for a in world.anomalies if a.kind == "duplicate_items"]
    paginator = PageNumberPaginator(
        record_key="inspection_id", items_path="items", page_size=PAGE_SIZE
    )
    stream = dataclasses.replace(CONNECTOR.stream("inspections"), paginator=paginator)
    with SandboxServer(world, systems=("qms",)) as server:
        source = CONNECTOR.connect(server.endpoints)
        try:
            stats = land_stream(stores.hub, source, stream, "run-1")
        finally:
            source.close()
    expected = _served_twice(world, plant.period)
    assert plant.period in expected
    assert stats.served_twice == set().union(*expected.values())
    with Session(stores.hub) as session:
        landed = list(session.scalars(select(RawRecordVersion.record_key)))
        findings = list(session.scalars(select(Finding).order_by(Finding.period)))
    assert len(landed) == len(set(landed)) == stats.landed
    assert [
        (f.check_name, f.kind, f.severity, f.source, f.stream, f.job_number, f.kpi_code, f.period)
        for f in findings
    ] == [
        ("qms.served_twice", "anomaly", "WARN", "qms", "inspections", None,
         "semi_finished_yield_rate", period)
        for period in sorted(expected)
    ]  # fmt: skip
    for finding in findings:
        assert finding.detail["records"] == sorted(expected[finding.period])
        assert finding.count == len(expected[finding.period])
    # The planted anomaly is one of them: same source, stream, no job number, KPI and month.
    assert (plant.source, plant.stream, plant.job_number, plant.kpi_code) == (
        "qms", "inspections", None, "semi_finished_yield_rate"
    )  # fmt: skip

    # The next pull is served the same again: the same findings, not new ones.
    with SandboxServer(world, systems=("qms",)) as server:
        source = CONNECTOR.connect(server.endpoints)
        try:
            land_stream(stores.hub, source, stream, "run-2")
        finally:
            source.close()
    with Session(stores.hub) as session:
        again = list(session.scalars(select(Finding).order_by(Finding.period)))
    assert [(f.id, f.count) for f in again] == [(f.id, f.count) for f in findings]


def test_a_stream_is_reported_against_the_kpi_its_volume_is_checked_for() -> None:
    catalog = load_catalog()
    assert stream_kpi(catalog, "qms", "inspections") == "semi_finished_yield_rate"
    assert stream_kpi(catalog, "crm", "orders") == "contract_amount"
    assert stream_kpi(catalog, "crm", "leads") is None
