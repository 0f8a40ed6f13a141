"""The same CRM, QMS and terminal endpoints loaded by dlt's ``rest_api`` source into SQLite
through dlt's sqlalchemy destination, merging on each stream's primary key: how a general
loader does against the same sandbox, so the hub's rates have a yardstick besides the physical
limit. dlt is the optional ``bench`` extra; without it this says so and measures nothing.

Each stream is its own pipeline run, timed from extraction to the committed load, and counted
by the rows dlt normalised for its table.
"""

from __future__ import annotations

import importlib.util
import os
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

DLT_STREAMS = ("crm/orders", "crm/leads", "crm/customers", "qms/inspections", "attendance/punches")


@dataclass(frozen=True)
class DltRate:
    stream: str
    records: int
    seconds: float

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def dlt_installed() -> bool:
    return importlib.util.find_spec("dlt") is not None


def _crm_token(env: dict[str, str]) -> str:
    answer = httpx.post(
        f"{env['KPIHUB_CRM_BASE_URL']}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": env["KPIHUB_CRM_CLIENT_ID"],
            "client_secret": env["KPIHUB_CRM_CLIENT_SECRET"],
        },
        timeout=60.0,
    )
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


def _days(first: date, last: date) -> Iterator[list[dict[str, str]]]:
    # A page of one item: a dependent resource is fed its parent's pages.
    for n in range((last - first).days + 1):
        yield [{"date": (first + timedelta(days=n)).isoformat()}]


def _config(stream: str, env: dict[str, str], first: date, last: date) -> dict[str, Any]:
    """The ``rest_api`` declaration of one stream: client, paginator, params, primary key."""
    import dlt
    from dlt.sources.helpers.rest_client.auth import APIKeyAuth, BearerTokenAuth, HttpBasicAuth
    from dlt.sources.helpers.rest_client.paginators import (
        JSONResponseCursorPaginator,
        OffsetPaginator,
        PageNumberPaginator,
    )

    system, name = stream.split("/", 1)
    merge = {"write_disposition": "merge"}
    if system == "crm":
        # No ``updated_since``: a first pull reads every record, as the hub's does.
        return {
            "client": {
                "base_url": env["KPIHUB_CRM_BASE_URL"],
                "auth": BearerTokenAuth(_crm_token(env)),
                "paginator": JSONResponseCursorPaginator(
                    cursor_path="next_cursor", cursor_param="cursor"
                ),
            },
            "resources": [
                {
                    "name": name,
                    "primary_key": "id",
                    **merge,
                    "endpoint": {
                        "path": f"api/v2/{name}",
                        "params": {"limit": 500},
                        "data_selector": "data",
                    },
                }
            ],
        }
    if system == "qms":
        return {
            "client": {
                "base_url": env["KPIHUB_QMS_BASE_URL"],
                "auth": APIKeyAuth(
                    name="X-Api-Key", api_key=env["KPIHUB_QMS_API_KEY"], location="header"
                ),
            },
            "resources": [
                {
                    "name": name,
                    "primary_key": "inspection_id",
                    **merge,
                    "endpoint": {
                        "path": "qms/v1/inspections",
                        "params": {
                            "from": first.isoformat(),
                            "to": last.isoformat(),
                            "page_size": 1000,
                        },
                        "paginator": PageNumberPaginator(
                            base_page=1, page_param="page", total_path=None
                        ),
                        "data_selector": "items",
                    },
                }
            ],
        }
    # A resource of its own, as dlt's docs have it, for the one request a day the API wants.
    days = dlt.resource(_days, name="days", selected=False)(first, last)
    return {
        "client": {
            "base_url": env["KPIHUB_ATTENDANCE_BASE_URL"],
            "auth": HttpBasicAuth(
                env["KPIHUB_ATTENDANCE_USERNAME"], env["KPIHUB_ATTENDANCE_PASSWORD"]
            ),
        },
        "resources": [
            days,
            {
                "name": name,
                "primary_key": ["card_no", "device_id", "punch_time"],
                **merge,
                "include_from_parent": [],
                "endpoint": {
                    "path": "att/api/punches",
                    "params": {"date": "{resources.days.date}"},
                    "paginator": OffsetPaginator(
                        limit=2000,
                        offset_param="offset",
                        limit_param="limit",
                        total_path=None,
                        has_more_path="has_more",
                    ),
                    "data_selector": "items",
                },
            },
        ],
    }


def load_with_dlt(
    env: dict[str, str],
    first: date,
    last: date,
    streams: tuple[str, ...],
    workdir: Path,
    on_stream: Callable[[str], None] | None = None,
) -> list[DltRate]:
    """Load each of ``streams`` (of ``DLT_STREAMS``) for the days ``first`` to ``last``."""
    import dlt
    from dlt.sources.rest_api import rest_api_source

    # dlt keeps its state and logs under these; the benchmark's scratch folder holds them.
    os.environ.setdefault("DLT_DATA_DIR", str(workdir / "dlt-data"))
    os.environ.setdefault("DLT_PROJECT_DIR", str(workdir))
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
    os.environ.setdefault("RUNTIME__REQUEST_MAX_ATTEMPTS", "20")
    target = workdir / "dlt.db"
    rates: list[DltRate] = []
    for stream in streams:
        if on_stream is not None:
            on_stream(stream)
        table = stream.split("/", 1)[1]
        pipeline = dlt.pipeline(
            pipeline_name=f"kpihub_bench_{stream.replace('/', '_')}",
            destination=dlt.destinations.sqlalchemy(credentials=f"sqlite:///{target}"),
            dataset_name=stream.split("/", 1)[0],
            pipelines_dir=str(workdir / "dlt-pipelines"),
        )
        started = time.perf_counter()
        source = rest_api_source(_config(stream, env, first, last))  # type: ignore[arg-type]
        with warnings.catch_warnings():
            # Its merge job's SQL draws a SQLAlchemy deprecation warning on every run.
            warnings.simplefilter("ignore")
            pipeline.run(source)
        seconds = time.perf_counter() - started
        counts = pipeline.last_trace.last_normalize_info.row_counts
        rates.append(DltRate(stream, int(counts.get(table, 0)), seconds))
    return rates
