"""A stream is a declaration: where its records live, how it pages, what identifies a record and
how it is read incrementally. The engine does the looping, retrying and state."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from connectors.sdk.paginators import NoPaginator, Paginator
from schemas.envelope import RawRecord

if TYPE_CHECKING:
    from connectors.sdk.http import HttpSource


@dataclass(frozen=True)
class Rejected:
    """A record the stream could not accept (no key, wrong shape), kept for quarantine."""

    payload: Any
    reason: str
    detail: str


@dataclass(frozen=True)
class Page:
    """One page of records and the stream state to commit together with them."""

    number: int
    records: list[RawRecord]
    state: dict[str, Any]
    rejected: list[Rejected] = field(default_factory=list)
    final: bool = False
    served_twice: tuple[str, ...] = ()
    """Keys the source served more than once in this read (landed once): a reader that can
    tell a source's own repeats from its paging's says so here, for a finding."""


PeriodOf = Callable[[Mapping[str, Any]], "str | None"]
"""The month (``YYYY-MM``) a record's own event time places it in, or None when unreadable."""

Reader = Callable[["HttpSource", "Stream", "Mapping[str, Any] | None"], Iterator[Page]]


@dataclass(frozen=True)
class Stream:
    """Declaration of one source stream.

    ``cursor_field``/``cursor_param`` make the stream incremental: the request carries the last
    committed watermark minus ``lookback`` and re-fetched boundary records are dropped at landing
    by key and payload hash. A stream with unusual paging supplies its own ``reader``.

    A stream read from a database (connectors/sdk/odbc.py) names its ``table`` (or a ``query``
    to read from), its ``key_columns`` (several for a composite key; ``record_key`` alone when
    empty), ``batch_size`` rows per page, and the scale of each DECIMAL column in ``decimals`` so
    that amounts are the same exact strings whichever driver returned them. Its watermark travels
    as a bound query parameter, so ``cursor_field`` alone makes it incremental.
    """

    name: str
    path: str = ""
    record_key: str = "id"
    record_path: str = "data"
    method: str = "GET"
    params: Mapping[str, Any] = field(default_factory=dict)
    paginator: Paginator = field(default_factory=NoPaginator)
    cursor_field: str | None = None
    cursor_param: str | None = None
    lookback: timedelta = timedelta(0)
    updated_field: str | None = None
    window_field: str | None = None
    """For a date-windowed stream: the field that places a record in a day (``workDate``,
    ``punch_time``), so that what a re-read from ``lookback`` days back returns can be checked."""
    event_period: PeriodOf | None = None
    """For a stream whose records each belong to one month (an inspection, a punch, a receipt):
    the month a record's event time places it in, the same rule its mapping counts it by. The
    hub keeps it on the record's head, so normalising a month reads that month's records (and
    those whose time cannot be read), not every month landed."""
    record_schema: type[BaseModel] | None = None
    reader: Reader | None = None
    table: str | None = None
    query: str | None = None
    key_columns: tuple[str, ...] = ()
    batch_size: int = 1000
    decimals: Mapping[str, int] = field(default_factory=dict)

    @property
    def incremental(self) -> bool:
        if self.cursor_field is None:
            return False
        return self.cursor_param is not None or self.from_database

    @property
    def from_database(self) -> bool:
        return self.table is not None or self.query is not None


def schema_mismatch(stream: Stream, payload: dict[str, Any]) -> Rejected | None:
    """Why ``payload`` does not match the stream's declared schema, or None when it does.

    Every engine sets such a record aside the same way, so quarantine reads alike whichever
    transport brought it.
    """
    if stream.record_schema is None:
        return None
    try:
        stream.record_schema.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return Rejected(payload, "schema_mismatch", f"{where}: {first['msg']}")
    return None
