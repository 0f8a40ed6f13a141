"""An expectation as plain data: what must hold of a table of rows (a kind, a column, a
severity, the rows it applies to). Declared here, in the SDK, so a source's folder can state its
streams' suites next to their declarations; quality/expectations.py runs them with
great-expectations, which a connector never needs to import."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["WARN", "ERROR"]
Kind = Literal["not_null", "between", "in_set", "unique", "row_count"]


@dataclass(frozen=True)
class Expectation:
    """One rule on a table of rows.

    ``kind`` picks the GX expectation: ``not_null``, ``between`` (``min_value``/``max_value``),
    ``in_set`` (``value_set``), ``unique`` (``column``, or the compound ``columns``) and
    ``row_count`` (``min_value``/``max_value`` on the whole table). ``where`` restricts a column
    rule to rows whose columns hold one of the given values, e.g. the KPI codes of one unit.
    ``check`` groups expectations into one named check a person sees.
    """

    kind: Kind
    column: str | None = None
    severity: Severity = "ERROR"
    check: str = ""
    where: Mapping[str, tuple[object, ...]] = field(default_factory=dict)
    args: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """A stable, readable name: ``between(value) where kpi_code in [...]``."""
        target = self.column or ",".join(self.args.get("columns", ()))
        text = f"{self.kind}({target})" if target else self.kind
        if self.args and self.kind in ("between", "row_count"):
            low, high = self.args.get("min_value"), self.args.get("max_value")
            text += f" in [{_bound(low)}, {_bound(high)}]"
        for column, values in sorted(self.where.items()):
            text += f" where {column} in [{', '.join(str(v) for v in values)}]"
        return text


def _bound(value: object) -> str:
    """``0`` rather than ``0.0``: the name is read by people, not parsed."""
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float | int) else str(value)


COMPLETE = "complete"
KEYS_UNIQUE = "keys_unique"
ALLOWED_VALUES = "allowed_values"
VALUES_IN_RANGE = "values_in_range"
DESCRIPTIONS = {
    COMPLETE: "Every record carries the fields the mapping relies on.",
    KEYS_UNIQUE: "No two records of the stream share a key the source promises is unique.",
    ALLOWED_VALUES: "Statuses, types and codes are ones the source documents.",
    VALUES_IN_RANGE: "Quantities, amounts and scores lie within the range they can take.",
}
"""The families a raw stream's expectations fall into: one asset check each."""

StreamSuites = Mapping[str, tuple[Expectation, ...]]
"""A source's suites: stream name -> the expectations on its records' payload fields (the
record key is the column ``record_key``)."""


def required(*columns: str, check: str = COMPLETE) -> tuple[Expectation, ...]:
    """``not_null`` on each column, at ERROR: a record without them cannot be mapped."""
    return tuple(Expectation("not_null", c, "ERROR", check) for c in columns)


def one_of(column: str, values: tuple[object, ...], severity: Severity = "ERROR") -> Expectation:
    return Expectation("in_set", column, severity, ALLOWED_VALUES, args={"value_set": values})


def within(
    column: str,
    low: float | None = None,
    high: float | None = None,
    severity: Severity = "ERROR",
) -> Expectation:
    bounds = {k: v for k, v in (("min_value", low), ("max_value", high)) if v is not None}
    return Expectation("between", column, severity, VALUES_IN_RANGE, args=bounds)


def unique(*columns: str, severity: Severity = "ERROR") -> Expectation:
    if len(columns) == 1:
        return Expectation("unique", columns[0], severity, KEYS_UNIQUE)
    return Expectation("unique", None, severity, KEYS_UNIQUE, args={"columns": columns})
