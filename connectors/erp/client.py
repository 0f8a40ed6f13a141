"""How to reach the ERP: an ODBC connection string, with the user and password (when the
database needs them) appended from their own variables so the secret is never part of the
endpoint text."""

from __future__ import annotations

from connectors.sdk import OdbcSource, connection_string
from connectors.sdk.retry import RetryPolicy


def open_erp(
    endpoint: str, username: str = "", secret: str = "", *, retry: RetryPolicy | None = None
) -> OdbcSource:
    return OdbcSource(
        "erp", connection_string(endpoint, username, secret), secrets=(secret,), retry=retry
    )
