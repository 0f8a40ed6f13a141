"""Expectations as data, validated by great-expectations 1.x.

A declaration (connectors/sdk/expectations.py, so a source's folder can declare its streams'
suites without knowing this runner) says what must hold (a kind, a column, a severity, the rows
it applies to); the runner turns a list of them into GX expectations and runs them on one pandas
batch of row dicts.
Declarations stay plain data so a suite can be built from the KPI catalog or a stream's schema
and read in a review without knowing GX. GX is imported inside the runner: importing it costs
seconds, which the CLI and the code location should not pay unless checks run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connectors.sdk.expectations import Expectation, Kind, Severity

__all__ = [
    "MAX_FAILING_ROWS",
    "Expectation",
    "ExpectationResult",
    "Kind",
    "Severity",
    "validate_rows",
]

MAX_FAILING_ROWS = 20
"""Failing rows kept per result: enough to find the pattern, small enough for the UI."""


@dataclass(frozen=True)
class ExpectationResult:
    """What one expectation found: ``failed`` counts failing rows, or 1 for a failed table
    rule (a row count has no failing row to point at)."""

    expectation: Expectation
    passed: bool
    evaluated: int
    failed: int
    failing_rows: tuple[dict[str, Any], ...] = ()

    @property
    def name(self) -> str:
        return self.expectation.name

    @property
    def severity(self) -> Severity:
        return self.expectation.severity


def _gx_expectation(expectation: Expectation) -> Any:
    import great_expectations as gx
    from great_expectations.expectations.row_conditions import Column

    condition = None
    for column, values in sorted(expectation.where.items()):
        clause = Column(column).is_in(list(values))
        condition = clause if condition is None else condition & clause
    extra: dict[str, Any] = {} if condition is None else {"row_condition": condition}
    args = dict(expectation.args)
    kind, column = expectation.kind, expectation.column
    if kind == "row_count":
        return gx.expectations.ExpectTableRowCountToBeBetween(**args)
    if kind == "unique" and column is None:
        return gx.expectations.ExpectCompoundColumnsToBeUnique(
            column_list=list(args.pop("columns")), **args, **extra
        )
    if column is None:
        raise ValueError(f"{expectation.name}: a {kind} expectation needs a column")
    classes = {
        "not_null": gx.expectations.ExpectColumnValuesToNotBeNull,
        "between": gx.expectations.ExpectColumnValuesToBeBetween,
        "in_set": gx.expectations.ExpectColumnValuesToBeInSet,
        "unique": gx.expectations.ExpectColumnValuesToBeUnique,
    }
    if kind == "in_set":
        args["value_set"] = list(args["value_set"])
    return classes[kind](column=column, **args, **extra)


def _plain(value: Any) -> Any:
    """A value the DataFrame compares as a number (Decimal does not) and metadata can hold."""
    if isinstance(value, Decimal):
        return float(value)
    return value


def _cell(value: Any) -> Any:
    """A failing row's cell as JSON-friendly text or number; a missing value is None."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, Decimal):
        return float(value)
    return value


def validate_rows(
    rows: Sequence[Mapping[str, Any]],
    expectations: Sequence[Expectation],
    *,
    columns: Sequence[str],
    key: Sequence[str],
) -> list[ExpectationResult]:
    """Run ``expectations`` on ``rows``; each failing row is reported by its ``key`` columns and
    the value that failed. ``columns`` names the table's columns so an empty table still has
    them (GX reports a missing column as an error, not as zero rows)."""
    import great_expectations as gx
    import pandas as pd

    frame = pd.DataFrame(
        [{c: _plain(row.get(c)) for c in columns} for row in rows], columns=list(columns)
    )
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # Progress bars on stderr would bury a run's own log lines under "Calculating Metrics".
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("rows").add_dataframe_asset("rows")
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
        batch_parameters={"dataframe": frame}
    )
    results: list[ExpectationResult] = []
    for expectation in expectations:
        outcome = batch.validate(_gx_expectation(expectation), result_format="COMPLETE")
        info = outcome.exception_info or {}
        if info.get("raised_exception"):
            raise RuntimeError(f"{expectation.name} could not run: {info.get('exception_message')}")
        found = dict(outcome.result)
        if expectation.kind == "row_count":
            results.append(
                ExpectationResult(
                    expectation,
                    passed=bool(outcome.success),
                    evaluated=int(found["observed_value"]),
                    failed=0 if outcome.success else 1,
                )
            )
            continue
        indexes = [int(i) for i in found.get("unexpected_index_list") or []]
        shown = [*key, *([expectation.column] if expectation.column not in key else [])]
        failing = tuple(
            {c: _cell(rows[i].get(c)) for c in shown if c is not None}
            for i in indexes[:MAX_FAILING_ROWS]
        )
        results.append(
            ExpectationResult(
                expectation,
                passed=bool(outcome.success),
                evaluated=int(found["element_count"]),
                failed=int(found["unexpected_count"]),
                failing_rows=failing,
            )
        )
    return results
