"""The files ``kpihub connector new NAME`` writes. ``{name}`` is the package name, ``{title}`` its
capitalised form and ``{upper}`` the upper-case stem of its environment variables."""

from __future__ import annotations

PACKAGE_INIT = '''"""{title}: TODO say in one line what this source holds for the hub."""

from connectors.{name}.client import open_{name}
from connectors.{name}.mapping import MAPPING
from connectors.{name}.streams import STREAMS
from connectors.registry import Connector, SourceEnv, register

CONNECTOR = register(
    Connector(
        name="{name}",
        title="{title}",
        env=SourceEnv(endpoint="KPIHUB_{upper}_BASE_URL", secret="KPIHUB_{upper}_API_KEY"),
        streams=STREAMS,
        open=open_{name},
        mapping=MAPPING,
    )
)
'''

CLIENT = '''"""How to reach {title}: an API key in a header, and a request budget below its rate
limit.

Other sources need other building blocks from connectors/sdk/auth.py (OAuth2 client
credentials, HTTP Basic); see docs/adding-a-connector.md.
"""

from __future__ import annotations

import httpx

from connectors.sdk import HttpSource, RateBudget
from connectors.sdk.auth import ApiKeyHeader

REQUESTS_PER_SECOND = 5.0


def open_{name}(endpoint: str, _username: str, api_key: str) -> HttpSource:
    client = httpx.Client(
        base_url=endpoint.rstrip("/"),
        auth=ApiKeyHeader(source="{name}", key=api_key, header="X-Api-Key"),
        timeout=httpx.Timeout(30.0, connect=5.0),
    )
    return HttpSource("{name}", client, rate=RateBudget(REQUESTS_PER_SECOND))
'''

STREAMS = '''"""{title} streams: one example, cursor-paged and incremental on ``updated_at``."""

from __future__ import annotations

from datetime import timedelta

from connectors.{name}.records import Item
from connectors.sdk import CursorPaginator, Stream

LOOKBACK = timedelta(hours=1)

STREAMS = (
    Stream(
        name="items",
        path="/api/items",
        record_key="id",
        record_path="data",
        paginator=CursorPaginator(cursor_param="cursor", next_field="next_cursor", limit=100),
        cursor_field="updated_at",
        cursor_param="updated_since",
        lookback=LOOKBACK,
        record_schema=Item,
    ),
)
'''

RECORDS = '''"""Declared shapes of {title} records: what the mapping relies on.

Extra fields pass through untouched.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Item(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    person_id: str
    value: str
    updated_at: str
'''

MAPPING = '''"""{title} raw records -> KPI observations keyed by {title}'s own person id.

TODO say which records count for a period and how they add up; a record that cannot be mapped is
quarantined with the reason, never dropped.
"""

from __future__ import annotations

from connectors.registry import FactMapping, MappingResult, RecordReader

KPI_CODE = "{name}_example"


def map_items(period: str, records: RecordReader) -> MappingResult:
    raise NotImplementedError(
        "{name}: write map_items in connectors/{name}/mapping.py "
        "(docs/adding-a-connector.md, step 6)"
    )


MAPPING = FactMapping(kpi_codes=(KPI_CODE,), streams=("items",), run=map_items)
'''

TWIN = '''"""The {title} twin: a tiny app serving the example stream ``items`` from the sandbox
company, one item per employee, with the paging, filtering and auth the real system has.

Make it answer like the real system (field names, paging, errors); the contract kit reads it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.model import World, iso_local
from sandbox.twins import register_twin
from sandbox.twins.serve import serve_app

# Small pages, so that a tiny company still pages (and meets faults between pages).
MAX_LIMIT = 5


def api_key(world: World) -> str:
    """A deterministic sandbox credential; not a secret, but handled like one."""
    return f"{name}-sandbox-{{world.seed}}"


def items(world: World) -> list[dict[str, Any]]:
    """One item per employee, a day apart, oldest first (the order cursor paging relies on)."""
    rows = [
        {{
            "id": f"I{{n + 1:05d}}",
            "person_id": person.job_number,
            "value": f"{{(n * 7) % 10}}.5",
            "updated_at": iso_local(world.end - timedelta(days=n, minutes=n)),
        }}
        for n, person in enumerate(world.employees)
    ]
    return sorted(rows, key=lambda r: (datetime.fromisoformat(r["updated_at"]), r["id"]))


def create_app(world: World, key: str) -> Starlette:
    rows = items(world)

    async def listing(request: Request) -> JSONResponse:
        if request.headers.get("x-api-key") != key:
            return JSONResponse({{"error": "unauthorized"}}, status_code=401)
        params = request.query_params
        selected = rows
        if params.get("updated_since"):
            since = datetime.fromisoformat(params["updated_since"].replace("Z", "+00:00"))
            selected = [r for r in rows if datetime.fromisoformat(r["updated_at"]) >= since]
        offset = int(params.get("cursor") or 0)
        limit = min(int(params.get("limit") or 100), MAX_LIMIT)
        more = offset + limit < len(selected)
        return JSONResponse(
            {{
                "data": selected[offset : offset + limit],
                "next_cursor": str(offset + limit) if more else None,
            }}
        )

    return Starlette(routes=[Route("/api/items", listing, methods=["GET"])])


@register_twin("{name}")
@contextmanager
def {name}_twin(world: World, faults: str) -> Iterator[Mapping[str, str]]:
    key = api_key(world)
    with serve_app(create_app(world, key), faults, seed=world.seed) as url:
        yield {{"KPIHUB_{upper}_BASE_URL": url, "KPIHUB_{upper}_API_KEY": key}}
'''

TEST = '''"""{title}: the mapping, on records written down here. It fails until map_items is
written and EXPECTED says which facts these records must give (docs/adding-a-connector.md, step 6).

The contract kit covers reading (tests/connectors/test_contract.py); this covers meaning.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from connectors.{name}.mapping import MAPPING
from connectors.registry import HeadRecord

PERIOD = "2026-10"
RECORDS = {{
    "items": [
        {{
            "id": "I00001",
            "person_id": "E00001",
            "value": "3.5",
            "updated_at": "2026-10-15T10:00:00+08:00",
        }},
        {{
            "id": "I00002",
            "person_id": "E00002",
            "value": "4.0",
            "updated_at": "2026-11-02T09:00:00+08:00",
        }},
    ]
}}
# (person id, kpi code, value) observations the records above must give for PERIOD; write them
# down.
EXPECTED: list[tuple[str, str, Decimal]] | None = None


class Landed:
    def __init__(self, records: dict[str, list[dict[str, object]]]) -> None:
        self.records = records

    def heads(
        self, stream: str, source: str | None = None, period: str | None = None
    ) -> Iterable[HeadRecord]:
        for n, payload in enumerate(self.records.get(stream, []), start=1):
            yield HeadRecord(version_id=n, record_key=str(payload["id"]), payload=payload)


def test_mapping_gives_the_expected_observations() -> None:
    result = MAPPING.run(PERIOD, Landed(RECORDS))
    found = [(o.person.person_id, o.kpi_code, o.value) for o in result.observations]
    assert EXPECTED is not None, f"write down EXPECTED; the mapping gave {{found}}"
    assert found == EXPECTED
'''
