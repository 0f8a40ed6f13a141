"""Connector errors: each names the source, the stream, the page and why, never a secret."""

from __future__ import annotations

import re

_SECRET_QUERY = re.compile(
    r"(?i)(access_token|appsecret|client_secret|secret|password|api_key|token|sign)=([^&\s\"']+)"
)


def redact(text: str) -> str:
    """Mask credentials that travel in URLs or bodies (DingTalk puts its token in the query)."""
    return _SECRET_QUERY.sub(lambda m: f"{m.group(1)}=***", text)


class ConnectorError(Exception):
    """Base error of the connector SDK."""


class AuthError(ConnectorError):
    """The source refused the credentials; retrying will not help."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = redact(reason)
        super().__init__(f"{source}: authentication failed: {self.reason}")


class StreamError(ConnectorError):
    """A stream could not be read; no state was advanced past the last good page."""

    def __init__(self, source: str, stream: str, page: int, reason: str) -> None:
        self.source = source
        self.stream = stream
        self.page = page
        self.reason = redact(reason)
        super().__init__(f"{source}/{stream} page {page}: {self.reason}")


class RetryableError(ConnectorError):
    """A transient failure (5xx, 429, busy); ``retry_after`` is the server's hint in seconds."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        self.reason = redact(reason)
        self.retry_after = retry_after
        super().__init__(self.reason)
