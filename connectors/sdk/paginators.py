"""How a stream asks for the next page. Each paginator says what to send first and, given a
response, what to send next or that the stream has ended."""

from __future__ import annotations

from collections.abc import Callable
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


def _as_bool(value: Any) -> bool | None:
    """A flag as sources send it: a JSON bool, 0/1, or the strings "true"/"false"; None when it
    is absent or unreadable."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in {"true", "1", "yes"}:
            return True
        if text in {"false", "0", "no", ""}:
            return False
    return None


def _items(response: Any, path: str) -> list[Any]:
    node = response
    for part in [p for p in path.split(".") if p]:
        node = node.get(part) if isinstance(node, dict) else None
    if node is None:
        return []
    if not isinstance(node, list):
        raise PaginationError(f"{path!r} is not a list")
    return node


class OffsetPaginator:
    """Offset/limit paging with a has-more flag.

    The next offset advances by the number of items actually served, so a server that caps the
    limit below what was asked loses nothing. Paging ends when the flag is false or a page is
    empty. A body without the flag is read as "more" only when the page came back full: that
    neither stops after one page nor loops, since an empty page always ends it.
    """

    def __init__(
        self,
        *,
        offset_param: str = "offset",
        limit_param: str = "limit",
        limit: int = 100,
        has_more_field: str = "has_more",
    ) -> None:
        if limit < 1:
            raise ValueError("a page limit must be at least 1")
        self.offset_param = offset_param
        self.limit_param = limit_param
        self.limit = limit
        self.has_more_field = has_more_field
        self._offset = 0

    def start(self) -> dict[str, Any]:
        self._offset = 0
        return {self.offset_param: 0, self.limit_param: self.limit}

    def advance(self, response: Any, record_count: int) -> dict[str, Any] | None:
        if record_count == 0:
            return None
        raw = response.get(self.has_more_field) if isinstance(response, dict) else None
        more = _as_bool(raw)
        if raw is not None and more is None:
            raise PaginationError(f"{self.has_more_field!r} is {raw!r}, not a true/false flag")
        if more is None:
            more = record_count >= self.limit
        if not more:
            return None
        self._offset += record_count
        return {self.offset_param: self._offset, self.limit_param: self.limit}


KeyOf = Callable[[Any], str | None]


class PageNumberPaginator:
    """Page-number paging over a live table, where rows inserted or removed while it is paged
    shift the pages: an item can be served twice, another can slide past a page boundary unseen,
    and ``total`` changes between pages.

    A pass pages from 1 until ``page * page_size`` reaches the latest ``total`` (never one seen
    earlier) or a page comes back empty. ``new_items`` holds the items of the last page not
    served before in this read, so a reader lands each item once; keys are held for one read
    only, so a reader that reads a window at a time holds one window's keys.

    Finding skipped items: page boundaries cannot be overlapped with page-number paging, and a
    shift backwards (a row removed before the read position) leaves no trace on the pages read.
    So a pass is trusted only when it was quiet: ``total`` never changed, no item came twice and
    the distinct items seen equal ``total``. Otherwise the table moved under the read and the
    whole range is read again, until a full pass adds no new item; a table that will not settle
    within ``max_passes`` fails the read rather than lose an item silently (the state is not
    advanced, so the next run reads the range again). Re-reading costs requests only for ranges
    that visibly moved; a source whose ``total`` counts the items it serves twice never looks
    quiet and pays one confirming pass. A pass that adds nothing is trusted even if the table
    moved during it: what it could still have missed is new rows, which the next pull's lookback
    reads again.

    ``served_twice`` names, once the read has settled, the keys its last pass was served more
    than once: a source that repeats items on every pass (not only while its table moved, which
    a re-read cures) serves them twice for good, and that is worth a finding.
    """

    def __init__(
        self,
        *,
        record_key: str | KeyOf = "id",
        items_path: str = "items",
        page_param: str = "page",
        size_param: str = "page_size",
        page_size: int = 100,
        total_field: str = "total",
        max_passes: int = 4,
    ) -> None:
        if page_size < 1:
            raise ValueError("a page size must be at least 1")
        if max_passes < 1:
            raise ValueError("a read needs at least one pass")
        self.key_of: KeyOf = record_key if callable(record_key) else _field_key(record_key)
        self.items_path = items_path
        self.page_param = page_param
        self.size_param = size_param
        self.page_size = page_size
        self.total_field = total_field
        self.max_passes = max_passes
        self.new_items: list[Any] = []
        self._reset()

    def _reset(self) -> None:
        self._seen: set[str] = set()
        self._keyless = 0
        self._page = 1
        self.passes = 1
        self._pass_new = 0
        self._totals: set[int] = set()
        self._repeats = 0
        self.new_items = []
        self._pass_keys: set[str] = set()
        self._pass_repeated: set[str] = set()
        self.served_twice: tuple[str, ...] = ()

    def _request(self) -> dict[str, Any]:
        return {self.page_param: self._page, self.size_param: self.page_size}

    def start(self) -> dict[str, Any]:
        self._reset()
        return self._request()

    @property
    def seen(self) -> int:
        """Distinct items served so far in this read (items without a key included)."""
        return len(self._seen) + self._keyless

    def advance(self, response: Any, record_count: int) -> dict[str, Any] | None:
        items = _items(response, self.items_path)
        total = self._total(response)
        self._admit(items)
        if items and self._page * self.page_size < total:
            self._page += 1
            return self._request()
        return self._end_of_pass(total)

    def _total(self, response: Any) -> int:
        raw = response.get(self.total_field) if isinstance(response, dict) else None
        try:
            total = int(str(raw).strip())
        except ValueError:
            raise PaginationError(f"{self.total_field!r} is {raw!r}, not a count") from None
        if total < 0:
            raise PaginationError(f"{self.total_field!r} is negative ({total})")
        self._totals.add(total)
        return total

    def _admit(self, items: list[Any]) -> None:
        fresh: list[Any] = []
        for item in items:
            key = self.key_of(item)
            if key is None:
                # Nothing to dedupe on: surfaced once (the engine quarantines it), not re-served.
                if self.passes == 1:
                    self._keyless += 1
                    fresh.append(item)
                continue
            if key in self._pass_keys:
                self._pass_repeated.add(key)
            self._pass_keys.add(key)
            if key in self._seen:
                self._repeats += 1
                continue
            self._seen.add(key)
            fresh.append(item)
        self.new_items = fresh
        self._pass_new += len(fresh)

    def _end_of_pass(self, total: int) -> dict[str, Any] | None:
        quiet = len(self._totals) == 1 and self._repeats == 0 and self.seen == total
        settled = quiet if self.passes == 1 else self._pass_new == 0
        if settled:
            self.served_twice = tuple(sorted(self._pass_repeated))
            return None
        if self.passes >= self.max_passes:
            raise PaginationError(
                f"the table kept changing: {self.passes} passes still found new items "
                f"(latest total {total}, {self.seen} distinct items seen)"
            )
        self.passes += 1
        self._page = 1
        self._pass_new = 0
        self._pass_keys, self._pass_repeated = set(), set()
        return self._request()


def _field_key(name: str) -> KeyOf:
    def key_of(item: Any) -> str | None:
        value = item.get(name) if isinstance(item, dict) else None
        return None if value is None or value == "" else str(value)

    return key_of
