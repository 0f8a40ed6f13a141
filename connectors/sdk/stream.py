"""A stream is a declaration: where its records live, how it pages, what identifies a record and
how it is read incrementally. The engine does the looping, retrying and state."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

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


Reader = Callable[["HttpSource", "Stream", "Mapping[str, Any] | None"], Iterator[Page]]


@dataclass(frozen=True)
class Stream:
    """Declaration of one source stream.

    ``cursor_field``/``cursor_param`` make the stream incremental: the request carries the last
    committed watermark minus ``lookback`` and re-fetched boundary records are dropped at landing
    by key and payload hash. A stream with unusual paging supplies its own ``reader``.
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
    record_schema: type[BaseModel] | None = None
    reader: Reader | None = None

    @property
    def incremental(self) -> bool:
        return self.cursor_field is not None and self.cursor_param is not None
