"""How to reach DingTalk: an app token in the query string, refreshed when DingTalk says it is no
longer valid, and a 20 QPS budget per app."""

from __future__ import annotations

import time
from collections.abc import Generator

import httpx

from connectors.dingtalk.envelope import check_envelope, error_code, is_token_error
from connectors.dingtalk.retry import DingTalkRetry
from connectors.sdk import HttpSource, RateBudget
from connectors.sdk.errors import AuthError, RetryableError

REQUESTS_PER_SECOND = 18.0


class DingTalkTokenAuth(httpx.Auth):
    """``gettoken`` with appkey/appsecret; one refresh and retry on 40014/40001/42001/33001."""

    requires_response_body = True

    def __init__(self, app_key: str, app_secret: str) -> None:
        self.app_key = app_key
        self.app_secret = app_secret
        self._token: str | None = None
        self._expires_at = 0.0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is None or time.monotonic() >= self._expires_at:
            yield from self._refresh(request)
        self._sign(request)
        response = yield request
        if response.status_code == 200 and is_token_error(_json_or_none(response)):
            yield from self._refresh(request)
            self._sign(request)
            yield request

    def _sign(self, request: httpx.Request) -> None:
        request.url = request.url.copy_set_param("access_token", self._token or "")

    def _refresh(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token_url = request.url.copy_with(
            path="/gettoken", params={"appkey": self.app_key, "appsecret": self.app_secret}
        )
        response = yield httpx.Request("GET", token_url)
        body = _json_or_none(response)
        code = error_code(body)
        if response.status_code >= 500 or code == -1:
            raise RetryableError(f"gettoken failed (HTTP {response.status_code}, errcode {code})")
        if not isinstance(body, dict) or code not in (0, None) or "access_token" not in body:
            raise AuthError("dingtalk", f"gettoken refused the app credentials (errcode {code})")
        self._token = str(body["access_token"])
        self._expires_at = time.monotonic() + max(0.0, float(body.get("expires_in", 7200)) - 60)


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
