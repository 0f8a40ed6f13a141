"""What every source client offers the hub, whatever carries its records (HTTP, ODBC, files).

Landing and orchestration speak only this protocol, so a source reached through a database driver
or a folder of uploaded files plugs in exactly like a REST API.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from connectors.sdk.stream import Page, Stream


class SourceClient(Protocol):
    """An open connection to one source system."""

    name: str
    requests_made: int

    def read(self, stream: Stream, state: Mapping[str, Any] | None = None) -> Iterator[Page]:
        """Pages of ``stream`` from ``state`` on; the last page carries the state to commit."""
        ...

    def close(self) -> None: ...
