"""The connector SDK: stream declarations and the engines that read them.

The names are loaded when first used: a command that only needs a time helper or an error class
does not pay for the HTTP client, the ODBC driver and the retry library.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.sdk.errors import AuthError, ConnectorError, StreamError
    from connectors.sdk.http import HttpSource
    from connectors.sdk.odbc import OdbcSource, connection_string
    from connectors.sdk.paginators import CursorPaginator, NoPaginator
    from connectors.sdk.rate import RateBudget
    from connectors.sdk.retry import RetryPolicy
    from connectors.sdk.source import SourceClient
    from connectors.sdk.stream import Page, Rejected, Stream

_MODULE_OF = {
    "AuthError": "errors",
    "ConnectorError": "errors",
    "StreamError": "errors",
    "HttpSource": "http",
    "OdbcSource": "odbc",
    "connection_string": "odbc",
    "CursorPaginator": "paginators",
    "NoPaginator": "paginators",
    "RateBudget": "rate",
    "RetryPolicy": "retry",
    "SourceClient": "source",
    "Page": "stream",
    "Rejected": "stream",
    "Stream": "stream",
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"connectors.sdk.{module}"), name)


__all__ = [
    "AuthError",
    "ConnectorError",
    "CursorPaginator",
    "HttpSource",
    "NoPaginator",
    "OdbcSource",
    "Page",
    "RateBudget",
    "Rejected",
    "RetryPolicy",
    "SourceClient",
    "Stream",
    "StreamError",
    "connection_string",
]
