"""How to reach the attendance terminals' server: HTTP Basic on every request."""

from __future__ import annotations

import httpx

from connectors.sdk import HttpSource


def open_attendance(
    endpoint: str,
    username: str,
    password: str,
    *,
    transport: httpx.BaseTransport | None = None,
) -> HttpSource:
    """Open the terminals' server at ``endpoint``. ``transport`` swaps what carries the requests
    (a recorded one, a proxy) without touching anything else."""
    client = httpx.Client(
        base_url=endpoint.rstrip("/"),
        auth=httpx.BasicAuth(username, password),
        timeout=httpx.Timeout(30.0, connect=5.0),
        transport=transport,
    )
    return HttpSource("attendance", client)
