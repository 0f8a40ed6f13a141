"""How to reach DingTalk: an app token in the query string, refreshed when DingTalk says it is no
longer valid, and a budget per API under DingTalk's limit of 20 calls a second per app and API.

DingTalk counts each API on its own, so calls to different APIs (a detail and the next listing
page, attendance and the directory walk) do not slow each other; the readers keep ``WORKERS``
requests in flight so that the budget, not the round trip, bounds a stream."""

from __future__ import annotations

import hashlib
from collections.abc import Generator

import httpx

from connectors.dingtalk.envelope import (
    BUSY,
    RATE_LIMITED,
    check_envelope,
    error_code,
    is_token_error,
)
from connectors.dingtalk.retry import DingTalkRetry
from connectors.sdk import HttpSource
from connectors.sdk.auth import RefreshingTokenAuth
from connectors.sdk.errors import AuthError, RetryableError
from connectors.sdk.rate import ApiBudgets, BudgetUse, RateBudget
from connectors.sdk.retry import RetryPolicy

REQUESTS_PER_SECOND = 20.0
"""DingTalk's limit per app and API on the standard edition; calls are spaced evenly at it."""
PER_WINDOW = 20
"""And no more than this many may fall within one second as DingTalk counts them, however
they bunch up on their way (see ``RateBudget``): no call is ever answered 90018."""
WORKERS = 8
"""Requests a reader keeps in flight: enough to fill a budget at round trips of ~400 ms."""
BUDGET_PREFIX = "dingtalk/"
UNPACED = frozenset({"/gettoken"})
"""Paths no per-API budget paces: a token is fetched once in two hours."""


class DingTalkTokenAuth(RefreshingTokenAuth):
    """``gettoken`` with appkey/appsecret; errcode 40014/40001/42001/33001 on a call (flat, or
    as the sub_code under 88) means the token is no longer valid."""

    requires_response_body = True

    def __init__(self, app_key: str, app_secret: str, retry: RetryPolicy | None = None) -> None:
        super().__init__("dingtalk", retry)
        self.app_key = app_key
        self.app_secret = app_secret

    def fetch_token(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, tuple[str, float]]:
        token_url = request.url.copy_with(
            path="/gettoken", params={"appkey": self.app_key, "appsecret": self.app_secret}
        )
        response = yield httpx.Request("GET", token_url)
        body = _json_or_none(response)
        code = error_code(body)
        if response.status_code >= 500 or code in BUSY or code in RATE_LIMITED:
            raise RetryableError(f"gettoken failed (HTTP {response.status_code}, errcode {code})")
        if not isinstance(body, dict) or code not in (0, None) or "access_token" not in body:
            raise AuthError("dingtalk", f"gettoken refused the app credentials (errcode {code})")
        return str(body["access_token"]), float(body.get("expires_in", 7200)) - 30

    def sign(self, request: httpx.Request, token: str) -> None:
        request.url = request.url.copy_set_param("access_token", token)

    def rejected(self, response: httpx.Response) -> bool:
        return response.status_code == 200 and is_token_error(_json_or_none(response))


def _json_or_none(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


def open_dingtalk(
    endpoint: str,
    app_key: str,
    app_secret: str,
    *,
    transport: httpx.BaseTransport | None = None,
) -> HttpSource:
    """``transport`` swaps what carries the requests (a recorded or stand-in server) while the
    token handling, envelope checks and retries stay the real ones."""
    client = httpx.Client(
        base_url=endpoint.rstrip("/"),
        auth=DingTalkTokenAuth(app_key, app_secret),
        timeout=httpx.Timeout(30.0, connect=5.0),
        transport=transport,
    )
    app = hashlib.sha256(app_key.encode()).hexdigest()[:8]
    scope = f"@{httpx.URL(endpoint).netloc.decode()} app {app}"
    return HttpSource(
        "dingtalk",
        client,
        rate=ApiBudgets(
            lambda path: budget_key(path, scope), REQUESTS_PER_SECOND, per_window=PER_WINDOW
        ),
        retry=DingTalkRetry.from_environ(),
        body_check=check_envelope,
        workers=WORKERS,
    )


def budget_key(path: str, scope: str) -> str | None:
    """``dingtalk/<API path> @<host> app <digest of the app key>``: one budget per API and app,
    shared by every client of that app in the process (two streams at once, a check right after
    a pull). The key names the app by a digest, so a report of budgets shows no credential."""
    if path in UNPACED:
        return None
    return f"{BUDGET_PREFIX}{path.lstrip('/')} {scope}"


def budget_usage() -> dict[str, BudgetUse]:
    """What each DingTalk API's budget granted in this process, by budget key."""
    return {k: u for k, u in RateBudget.usage().items() if k.startswith(BUDGET_PREFIX)}
