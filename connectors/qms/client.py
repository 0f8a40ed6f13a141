"""How to reach the QMS: a static API key in ``X-Api-Key``; its occasional 503s are retried by
the engine's retry policy."""

from __future__ import annotations

import httpx

from connectors.sdk import HttpSource
from connectors.sdk.auth import ApiKeyHeader

API_KEY_HEADER = "X-Api-Key"


def open_qms(
    endpoint: str, _username: str, api_key: str, *, transport: httpx.BaseTransport | None = None
) -> HttpSource:
    """Open the QMS at ``endpoint``; it has no user name, only a key. ``transport`` swaps what
    carries the requests (a recorded one, a proxy) without touching anything else."""
    auth = ApiKeyHeader(source="qms", key=api_key, header=API_KEY_HEADER)
    client = httpx.Client(
        base_url=endpoint.rstrip("/"),
        auth=auth,
        timeout=httpx.Timeout(30.0, connect=5.0),
        transport=transport,
    )
    return HttpSource("qms", client)
