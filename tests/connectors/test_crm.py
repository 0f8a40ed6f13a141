"""The CRM connector's leads, customers and surveys against the sandbox twin over real HTTP,
counted exactly against the sandbox company's own model, and pulled incrementally."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from connectors.crm import CONNECTOR
from connectors.crm.records import Survey
from connectors.sdk.timeparse import parse_instant
from pipelines.landing import land_stream
from pipelines.stores import Stores
from sandbox.model import World, generate_world
from sandbox.serving import SandboxServer

AS_OF = date(2026, 11, 22)
SEED = 7
EMPLOYEES = 15

# Each stream's records in the model, and the time stamp the CRM pages them by.
MODEL: dict[str, tuple[Callable[[World], list[Any]], Callable[[Any], datetime]]] = {
    "leads": (lambda w: w.crm.leads, lambda lead: lead.updated_at),
    "customers": (lambda w: w.crm.customers, lambda c: c.updated_at or c.created_at),
    "surveys": (lambda w: w.crm.surveys, lambda s: s.submitted_at),
}


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(SEED, EMPLOYEES, AS_OF)


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[SandboxServer]:
    with SandboxServer(world, systems=("crm",)) as running:
        yield running


def test_the_crm_declares_every_resource_of_the_spec() -> None:
    assert [s.name for s in CONNECTOR.streams] == [
        "users",
        "orders",
        "leads",
        "customers",
        "surveys",
    ]


# 129 surveys: 89 of the customers' own and the 40 of the planted survey flood.
@pytest.mark.parametrize(("stream", "count"), [("leads", 51), ("customers", 54), ("surveys", 129)])
def test_a_full_pull_is_every_record_of_the_model(
    world: World, server: SandboxServer, stream: str, count: int
) -> None:
    rows, updated = MODEL[stream]
    source = CONNECTOR.connect(server.endpoints)
    try:
        pages = list(source.read(CONNECTOR.stream(stream), None))
    finally:
        source.close()
    records = [r for p in pages for r in p.records]
    assert all(not p.rejected for p in pages)
    assert len(records) == len(rows(world)) == count
    assert {r.record_key for r in records} == {row.id for row in rows(world)}
    newest = max(updated(row) for row in rows(world))
    assert pages[-1].final and parse_instant(pages[-1].state["watermark"]) == newest


@pytest.mark.parametrize("stream", ["leads", "customers", "surveys"])
def test_a_second_pull_asks_from_the_watermark_less_an_hour_and_lands_nothing(
    stores: Stores, world: World, server: SandboxServer, stream: str
) -> None:
    rows, updated = MODEL[stream]
    source = CONNECTOR.connect(server.endpoints)
    # What the CRM answered, not what was sent: a request refused and retried (a 429 when
    # another client of the same credentials used the second's budget) is one ask, not two.
    asked: list[str | None] = []
    source.client.event_hooks["response"].append(
        lambda response: (
            asked.append(response.request.url.params.get("updated_since"))
            if response.request.url.path.startswith("/api/") and response.status_code == 200
            else None
        )
    )
    declared = CONNECTOR.stream(stream)
    try:
        first = land_stream(stores.hub, source, declared, "run-1")
        asked.clear()
        second = land_stream(stores.hub, source, declared, "run-2")
    finally:
        source.close()
    assert first.landed == len(rows(world))
    since = parse_instant(str(first.watermark)) - timedelta(hours=1)
    assert asked == [since.isoformat()]
    assert second.pulled == sum(1 for row in rows(world) if updated(row) >= since)
    assert second.pulled < first.pulled
    assert (second.landed, second.changed, second.rejected) == (0, 0, 0)


def test_a_token_expired_between_streams_is_refreshed(world: World) -> None:
    with SandboxServer(world, systems=("crm",)) as own:
        source = CONNECTOR.connect(own.endpoints)
        tokens: list[str] = []
        source.client.event_hooks["request"].append(
            lambda request: (
                tokens.append(request.url.path) if request.url.path == "/oauth/token" else None
            )
        )
        try:
            first = list(source.read(CONNECTOR.stream("leads"), None))
            httpx.post(f"{own.crm.url}/_sandbox/tokens/expire").raise_for_status()
            second = list(source.read(CONNECTOR.stream("surveys"), None))
        finally:
            source.close()
    assert sum(len(p.records) for p in first) == len(world.crm.leads)
    assert sum(len(p.records) for p in second) == len(world.crm.surveys)
    assert len(tokens) == 2


def test_a_survey_score_may_arrive_as_a_string_and_unknown_fields_pass() -> None:
    survey = Survey.model_validate(
        {
            "id": "SV1",
            "updated_at": "2026-10-03T09:15:00+08:00",
            "order_id": "OR1",
            "owner_id": "U0001",
            "score": "4",
            "submitted_at": "2026-10-03T09:15:00+08:00",
            "channel": "sms",
        }
    )
    assert survey.score == 4
    assert survey.model_extra == {"channel": "sms"}
    with pytest.raises(ValidationError, match="score"):
        Survey.model_validate({**survey.model_dump(), "score": "very good"})


def test_two_clients_of_one_credential_stay_within_the_crm_limit_together(world: World) -> None:
    """The CRM counts 10 requests/s per client id, whoever sends them."""
    from concurrent.futures import ThreadPoolExecutor

    with SandboxServer(world, systems=("crm",)) as own:
        sources = [CONNECTOR.connect(own.endpoints) for _ in range(2)]
        statuses: list[int] = []
        for source in sources:
            source.client.event_hooks["response"].append(
                lambda response: (
                    statuses.append(response.status_code)
                    if response.request.url.path.startswith("/api/")
                    else None
                )
            )

        def pull(source: Any) -> int:
            declared = CONNECTOR.stream("leads")
            return sum(len(p.records) for _ in range(6) for p in source.read(declared, None))

        try:
            with ThreadPoolExecutor(2) as pool:
                counts = list(pool.map(pull, sources))
        finally:
            for source in sources:
                source.close()
    assert counts == [6 * len(world.crm.leads)] * 2
    assert statuses == [200] * 12
