"""Authentication as httpx auth flows: the token dance happens inside the client, so every stream
gets refresh-on-expiry without knowing about it."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator

import httpx

from connectors.sdk.errors import AuthError, RetryableError
from connectors.sdk.retry import RetryPolicy, parse_retry_after


class RefreshingTokenAuth(httpx.Auth):
    """A token that expires: fetched before the first request, refreshed when the source rejects
    it, and never kept once the source has said it is no longer valid.

    A source may reject a token just refreshed (an expiry between two requests, a replica that has
    not heard of it yet), so a request is signed and sent again after each refresh, up to
    ``refreshes`` times; after that the rejection is transient to the request's retry policy,
    which starts over with a fresh token. The token endpoint has retries of its own: a 5xx or a
    rate limit there is waited out, while a refusal of the credentials fails at once, since no
    retry can mend a wrong secret. Subclasses say how to fetch, sign and recognise a rejection.

    Requests sent side by side share the token. When it expires, or is rejected under several of
    them at once, one thread fetches the next while the others wait for it, and a request
    rejected with a token that has already been replaced takes the replacement: refreshing
    again would only stampede the token endpoint (and may void the token the others just got).
    """

    refreshes = 2

    def __init__(self, source: str, retry: RetryPolicy | None = None) -> None:
        self.source = source
        self.retry = retry or RetryPolicy.from_environ()
        self._token: str | None = None
        self._expires_at = 0.0
        self._generation = 0
        self._lock = threading.Lock()

    def fetch_token(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, tuple[str, float]]:
        """Ask for a token; returns it and its lifetime in seconds. Raises ``RetryableError``
        when the endpoint is unwell, ``AuthError`` when it refuses the credentials."""
        raise NotImplementedError

    def sign(self, request: httpx.Request, token: str) -> None:
        raise NotImplementedError

    def rejected(self, response: httpx.Response) -> bool:
        raise NotImplementedError

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        refused: int | None = None
        for _ in range(self.refreshes + 1):
            token, generation = yield from self._usable(request, refused)
            self.sign(request, token)
            response = yield request
            if not self.rejected(response):
                return
            refused = generation
        self._forget(refused)
        raise RetryableError(f"the token was rejected again after {self.refreshes} refreshes")

    def _usable(
        self, request: httpx.Request, refused: int | None
    ) -> Generator[httpx.Request, httpx.Response, tuple[str, int]]:
        """The token to sign with and its generation: the current one while it is valid and is
        not the one ``refused`` names, else a new one. The lock is held while fetching, so
        the threads that need a token meanwhile wait for this one."""
        with self._lock:
            self._forget_locked(refused)
            if self._token is None or time.monotonic() >= self._expires_at:
                yield from self._refresh(request)
            assert self._token is not None
            return self._token, self._generation

    def _forget(self, refused: int | None) -> None:
        with self._lock:
            self._forget_locked(refused)

    def _forget_locked(self, refused: int | None) -> None:
        """Drop the token of generation ``refused`` unless a newer one has replaced it."""
        if refused is not None and refused == self._generation:
            self._token = None

    def _refresh(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self._token = None
        wait = self.retry.initial_backoff
        for attempt in range(1, self.retry.attempts + 1):
            try:
                token, lifetime = yield from self.fetch_token(request)
            except RetryableError as exc:
                if attempt == self.retry.attempts:
                    raise
                hint = exc.retry_after if exc.retry_after and exc.retry_after > 0 else wait
                self.retry.sleep(min(hint, self.retry.max_retry_after))
                wait = min(wait * 2, self.retry.max_backoff)
                continue
            self._token = token
            self._generation += 1
            # Refresh a little early so a token never expires between check and use.
            self._expires_at = time.monotonic() + max(0.0, lifetime - 30)
            return


class OAuth2ClientCredentials(RefreshingTokenAuth):
    """OAuth2 client credentials; a 401 on a data call means the token is no longer valid."""

    requires_response_body = True

    def __init__(
        self,
        *,
        source: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(source, retry)
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret

    def fetch_token(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, tuple[str, float]]:
        response = yield httpx.Request(
            "POST",
            self.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
        )
        if response.status_code == 429 or response.status_code >= 500:
            raise RetryableError(
                f"token endpoint answered HTTP {response.status_code}",
                parse_retry_after(response.headers.get("Retry-After")),
            )
        if response.status_code != 200:
            raise AuthError(self.source, f"token endpoint answered HTTP {response.status_code}")
        try:
            body = response.json()
            return str(body["access_token"]), float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise AuthError(self.source, f"token response was not understood ({exc})") from None

    def sign(self, request: httpx.Request, token: str) -> None:
        request.headers["Authorization"] = f"Bearer {token}"

    def rejected(self, response: httpx.Response) -> bool:
        return response.status_code == 401


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
