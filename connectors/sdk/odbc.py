"""The ODBC stream engine: reads a table (or a query) through pyodbc, in watermark order, one
``fetchmany`` batch per page, with the state to commit on the final page.

The same code serves the SQLite, PostgreSQL (psqlODBC) and MariaDB drivers in the tests, and SQL
Server through FreeTDS in the target companies. Drivers return different Python types for the same
column (SQLite hands a DECIMAL back as text, PostgreSQL as ``Decimal``), so every value is
normalised (``normalise``) into one JSON form: the same row gives the same payload and the same
payload hash whichever driver read it.

Time stamps in these databases are naive local times (Asia/Shanghai); they stay naive in the
payload (ISO 8601 without an offset) exactly as the source shows them, and the watermark state
carries the +08:00 offset so that it compares correctly with every other instant in the hub.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import pyodbc

from connectors.sdk.errors import (
    AuthError,
    ConnectorError,
    RetryableError,
    StreamError,
    redact,
)
from connectors.sdk.retry import RetryPolicy
from connectors.sdk.stream import Page, Rejected, Stream, schema_mismatch
from connectors.sdk.timeparse import SHANGHAI, now_utc, parse_instant
from schemas.envelope import RawRecord

KEY_SEPARATOR = "|"
"""Joins the parts of a composite record key: ``E00001|2026-03|output_qty``."""

LOGIN_TIMEOUT_SECONDS = 10

# SQLite keeps time stamps as text and its driver binds a parameter with milliseconds
# ("...:00.000"), which sorts after the same second stored without a fraction; asking from a
# millisecond earlier keeps such boundary rows (landing drops what is fetched twice).
BOUNDARY_SLACK = timedelta(milliseconds=1)

# Driver defaults (driver name contains, option, setting): psqlODBC and MariaDB's driver read a
# whole result set into client memory unless told to stream it, and MariaDB's should talk UTF-8.
_DRIVER_DEFAULTS: tuple[tuple[str, str, str], ...] = (
    ("postgresql", "usedeclarefetch", "UseDeclareFetch=1;Fetch=1000"),
    ("mariadb", "no_cache", "NO_CACHE=1"),
    ("mariadb", "charset", "CHARSET=utf8mb4"),
)

_PWD = re.compile(r"(?i)\b(pwd|password)\s*=\s*(\{(?:[^}]|\}\})*\}|[^;]*)")
_AUTH_HINTS = (
    "password authentication failed",
    "access denied",
    "login failed",
    "no pg_hba.conf entry",
    "role ",
    "authentication",
)
_TRANSIENT_HINTS = (
    "connection refused",
    "can't connect",
    "could not connect",
    "timeout",
    "timed out",
    "server closed the connection",
    "connection reset",
    "lost connection",
    "server has gone away",
    "communication link failure",
    "could not translate host name",
)
_TRANSIENT_STATES = {"08001", "08004", "08S01", "HYT00", "HYT01", "40001", "40P01"}


def connection_string(endpoint: str, username: str = "", secret: str = "") -> str:
    """The ODBC connection string: ``endpoint`` plus the user and password kept in their own
    variables, so a secret never has to be written into the endpoint."""
    parts = [endpoint.strip().rstrip(";")]
    present = {k.strip().lower() for k, _, _ in (p.partition("=") for p in parts[0].split(";"))}
    if username and not present & {"uid", "user"}:
        parts.append(f"UID={_odbc_value(username)}")
    if secret and not present & {"pwd", "password"}:
        parts.append(f"PWD={_odbc_value(secret)}")
    return ";".join(parts)


def streaming_connection_string(connection: str) -> str:
    """Add the options that make a known driver stream rows rather than cache a whole result.

    psqlODBC and MariaDB's driver both read the complete result set into client memory by default;
    an explicit setting in the connection string wins over these defaults.
    """
    lowered = connection.lower()
    driver = re.search(r"driver\s*=\s*(\{[^}]*\}|[^;]*)", lowered)
    name = driver.group(1) if driver else ""
    extra = [
        s for marker, option, s in _DRIVER_DEFAULTS if marker in name and option not in lowered
    ]
    return ";".join([connection.rstrip(";"), *extra]) if extra else connection


def _odbc_value(value: str) -> str:
    """Brace a value that ODBC would otherwise split or trim (``;``, braces, edge blanks)."""
    if any(c in value for c in ";{}=") or value != value.strip():
        return "{" + value.replace("}", "}}") + "}"
    return value


def scrub(text: str, secrets: Sequence[str] = ()) -> str:
    """Remove passwords from a driver message: the known secret, any ``PWD=``, the usual keys."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return redact(_PWD.sub(lambda m: f"{m.group(1)}=***", text))


def _driver_message(error: pyodbc.Error) -> tuple[str, str]:
    args = error.args
    if len(args) >= 2:
        return str(args[0]), str(args[1])
    return "", str(args[0]) if args else type(error).__name__


def classify(error: pyodbc.Error, source: str, secrets: Sequence[str]) -> ConnectorError:
    """Map a driver error to the SDK's errors: refused credentials, transient or final."""
    state, message = _driver_message(error)
    text = scrub(message, secrets)
    lowered = text.lower()
    if state.startswith("28") or any(h in lowered for h in _AUTH_HINTS):
        return AuthError(source, text)
    missing = "does not exist" in lowered or "unknown database" in lowered
    if not missing and (state in _TRANSIENT_STATES or any(h in lowered for h in _TRANSIENT_HINTS)):
        return RetryableError(text)
    return ConnectorError(text)


Connect = Callable[[str], pyodbc.Connection]
T = TypeVar("T")


@dataclass(frozen=True)
class Normaliser:
    """One JSON form per value, whatever Python type the driver produced.

    ``decimals`` gives each DECIMAL column's scale: the value becomes the exact decimal string at
    that scale (``"12345.60"``), never a float, even when the driver handed back text or a float.
    """

    decimals: Mapping[str, int]

    def value(self, column: str, value: Any) -> Any:
        scale = self.decimals.get(column)
        if value is None:
            return None
        if scale is not None and not isinstance(value, bool):
            return exact_decimal(value, scale)
        return json_value(value)


def exact_decimal(value: Any, scale: int) -> str:
    if isinstance(value, float):
        number = Decimal(repr(value))
    else:
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal number") from None
    return format(number.quantize(Decimal(1).scaleb(-scale)), "f")


def json_value(value: Any) -> Any:
    """A JSON value that is the same for every driver; naive times stay naive local."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(SHANGHAI).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def local_naive(value: str | datetime) -> datetime:
    """An instant as the naive Asia/Shanghai time the database compares against."""
    return parse_instant(value).astimezone(SHANGHAI).replace(tzinfo=None)


class OdbcSource:
    """A source reached through an ODBC driver. The connection opens on first use, with
    transient failures (server not up yet, connection refused, timeouts) retried."""

    def __init__(
        self,
        name: str,
        connection: str,
        *,
        secrets: Sequence[str] = (),
        retry: RetryPolicy | None = None,
        connect: Connect | None = None,
    ) -> None:
        self.name = name
        self.requests_made = 0
        self.retry = retry or RetryPolicy.from_environ()
        self._connection_string = streaming_connection_string(connection)
        self._secrets = tuple(s for s in secrets if s)
        self._connect = connect or _connect
        self._conn: pyodbc.Connection | None = None
        self._quote = '"'

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(pyodbc.Error):
                self._conn.close()
            self._conn = None

    def check(self) -> None:
        """Open the connection (or fail with a clear error): what a connection test needs."""
        self.open("")

    def open(self, stream: str) -> None:
        """Connect now, retrying transient failures, so queries can quote for this driver."""
        self._give_up(stream, 0, lambda: self.retry.run(self._open))

    def _open(self) -> pyodbc.Connection:
        """One attempt at the connection; driver errors come back as the SDK's errors."""
        if self._conn is not None:
            return self._conn
        try:
            conn = self._connect(self._connection_string)
        except pyodbc.Error as exc:
            raise classify(exc, self.name, self._secrets) from None
        try:
            quote = str(conn.getinfo(pyodbc.SQL_IDENTIFIER_QUOTE_CHAR)).strip()
            dbms = str(conn.getinfo(pyodbc.SQL_DBMS_NAME)).lower()
        except pyodbc.Error:
            quote, dbms = "", ""
        if "mysql" in dbms or "mariadb" in dbms:
            # The MariaDB/MySQL driver's wide-character path drops the last character of some
            # Chinese names; reading its UTF-8 narrow characters keeps every text whole.
            conn.setdecoding(pyodbc.SQL_CHAR, encoding="utf-8")
            conn.setdecoding(pyodbc.SQL_WCHAR, encoding="utf-8")
            conn.setencoding(encoding="utf-8")
        self._quote = quote or '"'
        self._conn = conn
        return conn

    def _give_up(self, stream: str, page: int, call: Callable[[], T]) -> T:
        """Run ``call`` (already retried); what is left is final: say source, stream and why."""
        try:
            return call()
        except AuthError:
            raise
        except RetryableError as exc:
            raise StreamError(self.name, stream, page, f"gave up after retries: {exc}") from None
        except StreamError:
            raise
        except ConnectorError as exc:
            raise StreamError(self.name, stream, page, str(exc)) from None

    def execute(self, stream: Stream, sql: str, params: Sequence[Any]) -> pyodbc.Cursor:
        """Run the stream's query; a dropped connection is reopened and the query retried."""

        def attempt() -> pyodbc.Cursor:
            conn = self._open()
            self.requests_made += 1
            try:
                return conn.cursor().execute(sql, *params)
            except pyodbc.Error as exc:
                error = classify(exc, self.name, self._secrets)
                if isinstance(error, RetryableError):
                    self.close()
                raise error from None

        return self._give_up(stream.name, 1, lambda: self.retry.run(attempt))

    def end_read(self) -> None:
        """End the read transaction the driver opened, so the next read sees fresh rows (MariaDB
        and SQLite would otherwise keep showing the snapshot of the first read) and the ERP is
        not held in a long transaction. Only reads happen here, so rolling back loses nothing."""
        if self._conn is None:
            return
        try:
            self._conn.rollback()
        except pyodbc.Error:
            self.close()

    def fail(self, stream: Stream, page: int, exc: pyodbc.Error) -> StreamError:
        error = classify(exc, self.name, self._secrets)
        return StreamError(self.name, stream.name, page, str(error))

    def identifier(self, name: str) -> str:
        """Quote ``name`` (``schema.table`` part by part) with the driver's quote character."""
        close = "]" if self._quote == "[" else self._quote
        parts = name.split(".")
        return ".".join(f"{self._quote}{p.replace(close, close * 2)}{close}" for p in parts)

    def read(self, stream: Stream, state: Mapping[str, Any] | None = None) -> Iterator[Page]:
        if stream.reader is not None:
            yield from stream.reader(self, stream, state)  # type: ignore[arg-type]
            return
        yield from read_table(self, stream, state)


def _connect(connection: str) -> pyodbc.Connection:
    return pyodbc.connect(connection, timeout=LOGIN_TIMEOUT_SECONDS)


def key_columns(stream: Stream) -> tuple[str, ...]:
    return stream.key_columns or (stream.record_key,)


def build_query(source: OdbcSource, stream: Stream, since: bool) -> str:
    """``SELECT *`` in watermark-then-key order, filtered by ``watermark >= ?`` when ``since``."""
    if stream.query is not None:
        origin = f"({stream.query}) src"
    elif stream.table is not None:
        origin = source.identifier(stream.table)
    else:
        raise ConnectorError(f"{source.name}/{stream.name}: an ODBC stream needs a table or query")
    sql = f"SELECT * FROM {origin}"
    order = [source.identifier(c) for c in key_columns(stream)]
    if stream.cursor_field:
        mark = source.identifier(stream.cursor_field)
        if since:
            sql += f" WHERE {mark} >= ?"
        order.insert(0, mark)
    return f"{sql} ORDER BY {', '.join(order)}"


def read_table(
    source: OdbcSource, stream: Stream, state: Mapping[str, Any] | None
) -> Iterator[Page]:
    """Pages of ``batch_size`` rows from the last watermark minus the lookback on.

    The watermark moves only with the final page, so a crash mid-stream restarts from the old
    watermark and landing drops the rows it already has (same key and payload hash).
    """
    previous = (state or {}).get("watermark") if stream.incremental else None
    params: list[Any] = []
    if previous:
        params.append(local_naive(previous) - stream.lookback - BOUNDARY_SLACK)
    source.open(stream.name)
    cursor = source.execute(stream, build_query(source, stream, bool(params)), params)
    try:
        columns = [d[0] for d in cursor.description]
        high = local_naive(previous) if previous else None
        normaliser = Normaliser(stream.decimals)
        number = 1
        batch = _fetch(source, stream, cursor, number)
        while True:
            following = _fetch(source, stream, cursor, number + 1) if batch else []
            final = not following
            records, rejected, newest = _wrap(source, stream, columns, batch, normaliser)
            if newest is not None and (high is None or newest > high):
                high = newest
            new_state: dict[str, Any] = {}
            if stream.incremental:
                mark = high if final else (local_naive(previous) if previous else None)
                new_state = {"watermark": _state_mark(mark)}
            yield Page(number, records, new_state, rejected=rejected, final=final)
            if final:
                return
            batch = following
            number += 1
    finally:
        cursor.close()
        source.end_read()


def _fetch(source: OdbcSource, stream: Stream, cursor: pyodbc.Cursor, page: int) -> list[Any]:
    try:
        return cursor.fetchmany(stream.batch_size)
    except pyodbc.Error as exc:
        raise source.fail(stream, page, exc) from None


def _moment(value: Any) -> datetime | None:
    """The naive local time of a normalised time stamp; anything else has no time."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return local_naive(value)
    except ValueError:
        return None


def _state_mark(mark: datetime | None) -> str | None:
    return mark.replace(tzinfo=SHANGHAI).isoformat() if mark is not None else None


def _wrap(
    source: OdbcSource,
    stream: Stream,
    columns: list[str],
    rows: list[Any],
    normaliser: Normaliser,
) -> tuple[list[RawRecord], list[Rejected], datetime | None]:
    """Envelope each row; a row without its key or not matching the schema is set aside."""
    records: list[RawRecord] = []
    rejected: list[Rejected] = []
    newest: datetime | None = None
    extracted_at = now_utc()
    keys = key_columns(stream)
    for row in rows:
        try:
            payload = {c: normaliser.value(c, v) for c, v in zip(columns, row, strict=True)}
        except ValueError as exc:
            raw = {c: json_value(v) for c, v in zip(columns, row, strict=True)}
            rejected.append(Rejected(raw, "bad_value", str(exc)))
            continue
        parts = [payload.get(k) for k in keys]
        if any(p is None or p == "" for p in parts):
            missing = ", ".join(k for k, p in zip(keys, parts, strict=True) if p in (None, ""))
            rejected.append(Rejected(payload, "missing_record_key", f"record has no {missing}"))
            continue
        texts = [str(p) for p in parts]
        if len(keys) > 1 and any(KEY_SEPARATOR in t for t in texts):
            detail = f"a key part contains {KEY_SEPARATOR!r}: {texts!r}"
            rejected.append(Rejected(payload, "ambiguous_record_key", detail))
            continue
        mismatch = schema_mismatch(stream, payload)
        if mismatch is not None:
            rejected.append(mismatch)
            continue
        mark = _moment(payload.get(stream.cursor_field)) if stream.cursor_field else None
        if mark is not None and (newest is None or mark > newest):
            newest = mark
        updated_field = stream.updated_field or stream.cursor_field
        moment = _moment(payload.get(updated_field)) if updated_field else None
        records.append(
            RawRecord.wrap(
                source=source.name,
                stream=stream.name,
                record_key=KEY_SEPARATOR.join(texts),
                payload=payload,
                source_updated_at=moment.replace(tzinfo=SHANGHAI) if moment else None,
                extracted_at=extracted_at,
            )
        )
    return records, rejected, newest


__all__ = [
    "KEY_SEPARATOR",
    "Normaliser",
    "OdbcSource",
    "build_query",
    "classify",
    "connection_string",
    "exact_decimal",
    "json_value",
    "read_table",
    "scrub",
    "streaming_connection_string",
]
