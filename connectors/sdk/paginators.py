"""How a stream asks for the next page. Each paginator says what to send first and, given a
response, what to send next or that the stream has ended."""

from __future__ import annotations

from typing import Any, Protocol

from connectors.sdk.errors import ConnectorError


class PaginationError(ConnectorError):
    """The source's paging went wrong (e.g. it handed back a cursor it already gave)."""


class Paginator(Protocol):
    def start(self) -> dict[str, Any]: ...

    def advance(self, response: Any, record_count: int) -> dict[str, Any] | None: ...


class NoPaginator:
    """A stream that answers in one response."""

    def start(self) -> dict[str, Any]:
        return {}

    def advance(self, response: Any, record_count: int) -> dict[str, Any] | None:
        return None


class CursorPaginator:
    """Opaque-cursor paging: ``next_cursor`` in the body until it is null.

    The first request sends no cursor at all (a null initial cursor must not end paging), and a
    cursor that comes back twice is an error instead of an endless loop.
    """

    def __init__(
        self,
        *,
        cursor_param: str = "cursor",
        next_field: str = "next_cursor",
        limit_param: str | None = "limit",
        limit: int = 100,
    ) -> None:
        self.cursor_param = cursor_param
        self.next_field = next_field
        self.limit_param = limit_param
        self.limit = limit
        self._seen: set[str] = set()

    def start(self) -> dict[str, Any]:
        self._seen = set()
        return {self.limit_param: self.limit} if self.limit_param else {}

    def advance(self, response: Any, record_count: int) -> dict[str, Any] | None:
        cursor = response.get(self.next_field) if isinstance(response, dict) else None
        if cursor in (None, "", 0, "0"):
            return None
        cursor = str(cursor)
        if cursor in self._seen:
            raise PaginationError(f"the source repeated cursor {cursor!r}; paging would not end")
        self._seen.add(cursor)
        params: dict[str, Any] = {self.cursor_param: cursor}
        if self.limit_param:
            params[self.limit_param] = self.limit
        return params
