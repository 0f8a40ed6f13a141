"""How to reach DingTalk: an app token in the query string, refreshed when DingTalk says it is no
longer valid, and a 20 QPS budget per app."""

from __future__ import annotations

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
from connectors.sdk import HttpSource, RateBudget
from connectors.sdk.auth import RefreshingTokenAuth
from connectors.sdk.errors import AuthError, RetryableError
from connectors.sdk.retry import RetryPolicy

REQUESTS_PER_SECOND = 18.0


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
    return HttpSource(
        "dingtalk",
        client,
        rate=RateBudget.shared(f"dingtalk {endpoint} {app_key}", REQUESTS_PER_SECOND),
        retry=DingTalkRetry.from_environ(),
        body_check=check_envelope,
    )
