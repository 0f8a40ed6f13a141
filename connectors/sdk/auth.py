"""Authentication as httpx auth flows: the token dance happens inside the client, so every stream
gets refresh-on-expiry without knowing about it."""

from __future__ import annotations

import time
from collections.abc import Generator

import httpx

from connectors.sdk.errors import AuthError, RetryableError
from connectors.sdk.retry import parse_retry_after


class OAuth2ClientCredentials(httpx.Auth):
    """OAuth2 client credentials; a 401 on a data call refreshes the token and retries once."""

    def __init__(self, *, source: str, token_url: str, client_id: str, client_secret: str) -> None:
        self.source = source
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self._token: str | None = None
        self._expires_at = 0.0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is None or time.monotonic() >= self._expires_at:
            yield from self._refresh()
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401:
            yield from self._refresh()
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request

    def _refresh(self) -> Generator[httpx.Request, httpx.Response, None]:
        token_request = httpx.Request(
            "POST",
            self.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
        )
        response = yield token_request
        response.read()
        if response.status_code == 429 or response.status_code >= 500:
            raise RetryableError(
                f"token endpoint answered HTTP {response.status_code}",
                parse_retry_after(response.headers.get("Retry-After")),
            )
        if response.status_code != 200:
            raise AuthError(self.source, f"token endpoint answered HTTP {response.status_code}")
        try:
            body = response.json()
            self._token = str(body["access_token"])
            expires_in = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise AuthError(self.source, f"token response was not understood ({exc})") from None
        # Refresh a little early so a token never expires between check and use.
        self._expires_at = time.monotonic() + max(0.0, expires_in - 30)


class ApiKeyHeader(httpx.Auth):
    """A static API key sent in a header on every request (QMS: ``X-Api-Key``).

    A refused key fails at once with an ``AuthError`` naming the header, never the key: there is
    nothing to refresh, and retrying a wrong key only fills the source's audit log.
    """

    def __init__(self, *, source: str, key: str, header: str = "X-Api-Key") -> None:
        self.source = source
        self.header = header
        self._key = key

    def __repr__(self) -> str:
        return f"ApiKeyHeader(source={self.source!r}, header={self.header!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.header] = self._key
        response = yield request
        if response.status_code in (401, 403):
            raise AuthError(
                self.source,
                f"the API key in header {self.header} was refused (HTTP {response.status_code})",
            )
