"""The HTTP stream engine: one client per source with its auth, rate budget and retry policy;
reads a declared stream page by page and hands each page over with the state to commit with it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

import httpx

from connectors.sdk.errors import AuthError, ConnectorError, RetryableError, StreamError
from connectors.sdk.paginators import PaginationError
from connectors.sdk.rate import RateBudget, RatePolicy, Throttled
from connectors.sdk.retry import RetryPolicy, parse_retry_after
from connectors.sdk.stream import Page, Rejected, Stream, schema_mismatch
from connectors.sdk.timeparse import parse_instant
from schemas.envelope import RawRecord

BodyCheck = Callable[[Any], None]


def check_status(response: httpx.Response) -> None:
    """Map HTTP status to the SDK's errors: transient ones are retried, the rest fail the page."""
    status = response.status_code
    if status == 429:
        raise Throttled("HTTP 429", parse_retry_after(response.headers.get("Retry-After")))
    if status >= 500:
        raise RetryableError(
            f"HTTP {status}", parse_retry_after(response.headers.get("Retry-After"))
        )
    if status == 401 or status == 403:
        raise AuthError("", f"HTTP {status}")
    if status >= 400:
        raise ConnectorError(f"HTTP {status}: {response.text[:200]}")


class HttpSource:
    """A source reached over HTTP. ``body_check`` lets a source treat errors inside a 200
    envelope (DingTalk's ``errcode``) as errors.

    Safe to share between threads (the httpx client is): a reader may fetch pages side by side.
    ``rate`` paces every request that goes on the wire, those its auth flow sends (a retry with a
    refreshed token) included, since the source counts each of them against its limit."""

    def __init__(
        self,
        name: str,
        client: httpx.Client,
        *,
        rate: RatePolicy | None = None,
        retry: RetryPolicy | None = None,
        body_check: BodyCheck | None = None,
        workers: int = 1,
    ) -> None:
        self.name = name
        self.workers = workers
        """Requests a reader may keep in flight at once (1: one after another)."""
        self.client = client
        self.rate = rate
        self.retry = retry or RetryPolicy.from_environ()
        self.body_check = body_check
        self.requests_made = 0
        self.throttled_answers = 0
        """Answers that said "too fast" (429, 90018): none, when the budget is right."""
        self._count_lock = threading.Lock()
        self._sending = threading.local()
        client.event_hooks["request"].append(self._pace)
        client.event_hooks["response"].append(self._answered)

    def close(self) -> None:
        self.client.close()

    def budget_of(self, path: str) -> RateBudget | None:
        """The budget a request to ``path`` (relative to the client's base URL) spends."""
        return self.rate.for_path(path) if self.rate is not None else None

    def _pace(self, request: httpx.Request) -> None:
        """Wait for the request's slot; a thread sends one request at a time, so the call it
        was granted is the thread's until the answer (or the failure) comes."""
        self._answered()
        budget = self.budget_of(self._relative(request.url.path))
        if budget is not None:
            self._sending.call = budget.acquire()

    def _answered(self, response: httpx.Response | None = None) -> None:
        call = getattr(self._sending, "call", None)
        if call is not None:
            self._sending.call = None
            call.answered()

    def _relative(self, path: str) -> str:
        base = self.client.base_url.path.rstrip("/")
        return path[len(base) :] if base and path.startswith(base) else path

    def request_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        stream: str = "",
        page: int = 0,
    ) -> Any:
        """One logical request: retried on transient failures, parsed, envelope-checked."""

        def attempt() -> Any:
            with self._count_lock:
                self.requests_made += 1
            try:
                response = self.client.request(
                    method, path, params=dict(params or {}), json=dict(body) if body else None
                )
            finally:
                self._answered()  # a request that failed on its way was answered by failing
            try:
                check_status(response)
                try:
                    payload = response.json()
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    # A page cut off in transit reads as malformed JSON; asking again usually
                    # heals it. One that stays malformed fails the stream, naming the page.
                    raise RetryableError(f"malformed JSON: {exc}") from None
                if self.body_check is not None:
                    self.body_check(payload)
            except Throttled:
                with self._count_lock:
                    self.throttled_answers += 1
                budget = self.budget_of(path)
                if budget is not None:
                    budget.throttled()
                raise
            return payload

        try:
            return self.retry.run(attempt)
        except AuthError as exc:
            raise AuthError(self.name, exc.reason) from None
        except StreamError:
            raise
        except RetryableError as exc:
            raise StreamError(self.name, stream, page, f"gave up after retries: {exc}") from None
        except httpx.TransportError as exc:
            where = _where(exc)
            raise StreamError(
                self.name, stream, page, f"connection{where} failed after retries: {exc!r}"
            ) from None
        except ConnectorError as exc:
            raise StreamError(self.name, stream, page, str(exc)) from None

    def read(self, stream: Stream, state: Mapping[str, Any] | None = None) -> Iterator[Page]:
        reader = stream.reader or read_paged
        yield from reader(self, stream, state)


def _where(exc: httpx.TransportError) -> str:
    """ " to <scheme://host/path>" of the failed request, without its query (DingTalk sends its
    token there), so an operator sees which endpoint is down."""
    try:
        url = exc.request.url
    except RuntimeError:  # raised before a request existed
        return ""
    return f" to {url.scheme}://{url.netloc.decode()}{url.path}"


def dig(payload: Any, path: str) -> Any:
    """Follow a dotted path (``result.list``) into a JSON body."""
    node = payload
    for part in [p for p in path.split(".") if p]:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def wrap_records(
    source: HttpSource,
    stream: Stream,
    items: list[Any],
    extracted_at: datetime,
) -> tuple[list[RawRecord], list[Rejected]]:
    """Envelope each record; a record without its key or of the wrong shape is set aside."""
    records: list[RawRecord] = []
    rejected: list[Rejected] = []
    updated_field = stream.updated_field or stream.cursor_field
    for item in items:
        if not isinstance(item, dict):
            detail = f"expected an object, got {item!r:.80}"
            rejected.append(Rejected(item, "not_an_object", detail))
            continue
        key = item.get(stream.record_key)
        if key is None or key == "":
            rejected.append(
                Rejected(item, "missing_record_key", f"record has no {stream.record_key!r}")
            )
            continue
        mismatch = schema_mismatch(stream, item)
        if mismatch is not None:
            rejected.append(mismatch)
            continue
        updated = item.get(updated_field) if updated_field else None
        records.append(
            RawRecord.wrap(
                source=source.name,
                stream=stream.name,
                record_key=str(key),
                payload=item,
                source_updated_at=parse_instant(updated) if updated else None,
                extracted_at=extracted_at,
            )
        )
    return records, rejected


def read_paged(
    source: HttpSource, stream: Stream, state: Mapping[str, Any] | None
) -> Iterator[Page]:
    """The default reader: request, extract, wrap, advance until the paginator says stop.

    The watermark moves only with the final page, so a crash mid-stream restarts from the old
    watermark and landing drops what it already has.
    """
    from connectors.sdk.timeparse import now_utc

    previous = (state or {}).get("watermark")
    params: dict[str, Any] = dict(stream.params)
    if stream.incremental and previous:
        since = parse_instant(previous) - stream.lookback
        params[stream.cursor_param or ""] = since.isoformat()
    high: datetime | None = parse_instant(previous) if previous else None
    try:
        request = {**params, **stream.paginator.start()}
    except PaginationError as exc:
        raise StreamError(source.name, stream.name, 1, str(exc)) from None
    number = 1
    while True:
        is_get = stream.method.upper() == "GET"
        response = source.request_json(
            stream.method,
            stream.path,
            params=request if is_get else None,
            body=None if is_get else request,
            stream=stream.name,
            page=number,
        )
        items = dig(response, stream.record_path)
        if items is None:
            items = []
        if not isinstance(items, list):
            raise StreamError(
                source.name, stream.name, number, f"{stream.record_path!r} is not a list"
            )
        records, rejected = wrap_records(source, stream, items, now_utc())
        if stream.incremental:
            for record in records:
                value = record.payload.get(stream.cursor_field or "")
                if value:
                    instant = parse_instant(value)
                    high = instant if high is None or instant > high else high
        try:
            following = stream.paginator.advance(response, len(items))
        except PaginationError as exc:
            raise StreamError(source.name, stream.name, number, str(exc)) from None
        final = following is None
        new_state: dict[str, Any] = {}
        if stream.incremental:
            mark = high if final else (parse_instant(previous) if previous else None)
            new_state = {"watermark": mark.isoformat() if mark else None}
        yield Page(number=number, records=records, state=new_state, rejected=rejected, final=final)
        if final:
            return
        request = {**params, **(following or {})}
        number += 1


__all__ = ["HttpSource", "dig", "read_paged", "wrap_records"]
