"""The sandbox company on real loopback HTTP, and the hub's steps run against it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from connectors.registry import Connector, discover
from pipelines.landing import LandingStats, land_stream
from pipelines.normalise import NormaliseStats, normalise_source
from pipelines.publishing import PublishStats, score_period
from pipelines.stores import Stores
from sandbox.model import World, generate_world
from sandbox.serving import SandboxServer
from schemas.templates import load_templates

AS_OF = date(2026, 11, 22)
PERIODS = ("2026-08", "2026-09", "2026-10")
SEED = 7
EMPLOYEES = 60


@pytest.fixture(scope="session")
def connectors() -> dict[str, Connector]:
    return dict(discover())


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """A shared sandbox; tests that change its data use ``own_sandbox`` instead."""
    with SandboxServer(generate_world(SEED, EMPLOYEES, AS_OF)) as server:
        yield server


@pytest.fixture
def own_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(generate_world(SEED, EMPLOYEES, AS_OF)) as server:
        yield server


# The sources the CRM -> score flow needs: CRM for the orders, DingTalk for the directory.
FLOW_SOURCES = ("crm", "dingtalk")
# The flow scores the sales staff on their contract amount alone: the demo's sales template also
# reads the ERP, the evaluations and attendance, which this flow does not land.
FLOW_TEMPLATES = Path(__file__).resolve().parent / "templates"


def sync(
    stores: Stores, server: SandboxServer, connectors: dict[str, Connector], run_id: str
) -> dict[str, LandingStats]:
    """Land the streams the CRM -> score flow reads: CRM orders and users for the facts and the
    identities, the DingTalk directory for the employee master. The other streams of these
    sources (attendance, approvals, leads, ...) feed other KPIs and have their own tests."""
    flow_streams = {"crm": ("users", "orders"), "dingtalk": ("departments", "users")}
    stats: dict[str, LandingStats] = {}
    endpoints = server.endpoints
    for connector in (connectors[name] for name in FLOW_SOURCES):
        source = connector.connect(endpoints)
        try:
            for name in flow_streams[connector.name]:
                stats[f"{connector.name}/{name}"] = land_stream(
                    stores.hub, source, connector.stream(name), run_id
                )
        finally:
            source.close()
    return stats


def run_period(
    stores: Stores, period: str, connectors: dict[str, Connector], run_id: str
) -> tuple[NormaliseStats, PublishStats]:
    facts = normalise_source(stores.hub, connectors["crm"], period, run_id, connectors)
    scores = score_period(stores, period, load_templates(FLOW_TEMPLATES), connectors, run_id)
    return facts, scores


def world_of(server: SandboxServer) -> World:
    return server.world
