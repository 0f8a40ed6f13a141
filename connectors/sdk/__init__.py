"""The connector SDK: stream declarations and the engines that read them."""

from connectors.sdk.errors import AuthError, ConnectorError, StreamError
from connectors.sdk.http import HttpSource
from connectors.sdk.odbc import OdbcSource, connection_string
from connectors.sdk.paginators import CursorPaginator, NoPaginator
from connectors.sdk.rate import RateBudget
from connectors.sdk.retry import RetryPolicy
from connectors.sdk.source import SourceClient
from connectors.sdk.stream import Page, Rejected, Stream

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
