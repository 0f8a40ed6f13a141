"""The expectation suites of raw streams: declared in each source's folder
(``connectors/<source>/suites.py``, a ``SUITES`` mapping of stream name to expectations) and run
here on the records a pull landed, so each pull is judged on what it brought in.

The rows are the new record versions of one run, with the payload fields the suite names and the
record key. A field a ``between`` expectation reads is compared as a number: sources send amounts
and quantities as text so that no float rounds them. A text that is no number never gets this
far (the stream's record schema rejects it at landing), and is left out of the range here.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.sdk.expectations import Expectation, StreamSuites
from quality.expectations import ExpectationResult, validate_rows
from schemas.tables import RawRecordVersion

RAW_KEY = ("record_key",)


def source_suites(source: str) -> StreamSuites:
    """The suites ``connectors/<source>/suites.py`` declares; none when it declares none."""
    try:
        module = importlib.import_module(f"connectors.{source}.suites")
    except ModuleNotFoundError as exc:
        if exc.name != f"connectors.{source}.suites":
            raise
        return {}
    return module.SUITES


def stream_suite(source: str, stream: str) -> tuple[Expectation, ...]:
    return tuple(source_suites(source).get(stream, ()))


def suite_columns(suite: Sequence[Expectation]) -> tuple[str, ...]:
    """The record key and every payload field the suite reads, in first-named order."""
    names: list[str] = [*RAW_KEY]
    for e in suite:
        for name in (e.column, *e.args.get("columns", ()), *e.where):
            if name and name not in names:
                names.append(name)
    return tuple(names)


def _number(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    try:
        return float(Decimal(str(value).strip()))
    except InvalidOperation:
        return None


def raw_rows(
    session: Session, source: str, stream: str, run_id: str, suite: Sequence[Expectation]
) -> list[dict[str, Any]]:
    """The versions of ``stream`` landed by ``run_id`` as rows of the suite's columns."""
    columns = suite_columns(suite)
    numeric = {e.column for e in suite if e.kind == "between" and e.column}
    rows: list[dict[str, Any]] = []
    found = session.execute(
        select(RawRecordVersion.record_key, RawRecordVersion.payload)
        .where(
            RawRecordVersion.source == source,
            RawRecordVersion.stream == stream,
            RawRecordVersion.run_id == run_id,
        )
        .order_by(RawRecordVersion.id)
        # Streamed: a large first pull's payloads never sit in memory all at once, only the
        # suite's few columns of each.
        .execution_options(yield_per=5000)
    )
    for key, payload in found:
        fields = payload if isinstance(payload, dict) else {}
        row: dict[str, Any] = {"record_key": key}
        for column in columns[1:]:
            value = fields.get(column)
            row[column] = _number(value) if column in numeric else value
        rows.append(row)
    return rows


def validate_stream(
    session: Session, source: str, stream: str, run_id: str
) -> list[ExpectationResult]:
    """Run the stream's suite on what ``run_id`` landed. A pull that landed nothing new passes
    without starting great-expectations: there is nothing to judge."""
    suite = stream_suite(source, stream)
    if not suite:
        return []
    rows = raw_rows(session, source, stream, run_id, suite)
    if not rows:
        return [ExpectationResult(e, passed=True, evaluated=0, failed=0) for e in suite]
    return validate_rows(rows, suite, columns=suite_columns(suite), key=RAW_KEY)
