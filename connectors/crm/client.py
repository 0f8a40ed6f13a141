"""How to reach the CRM: OAuth2 client credentials and a 10 requests/s budget."""

from __future__ import annotations

import httpx

from connectors.sdk import HttpSource, RateBudget
from connectors.sdk.auth import OAuth2ClientCredentials

REQUESTS_PER_SECOND = 9.0


def open_crm(endpoint: str, client_id: str, client_secret: str) -> HttpSource:
    base = endpoint.rstrip("/")
    auth = OAuth2ClientCredentials(
        source="crm",
        token_url=f"{base}/oauth/token",
        client_id=client_id,
        client_secret=client_secret,
    )
    client = httpx.Client(base_url=base, auth=auth, timeout=httpx.Timeout(30.0, connect=5.0))
    budget = RateBudget.shared(f"crm {base} {client_id}", REQUESTS_PER_SECOND)
    return HttpSource("crm", client, rate=budget)
