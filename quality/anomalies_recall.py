"""How well the anomaly findings match a list of known anomalies (the sandbox's planted ones):
recall (the share of known anomalies some finding points to) and precision (the share of
anomaly findings that point to a known anomaly).

A finding points to a known anomaly when source, stream, job number (or none for a stream-level
one), KPI and period are all the same. Precision counts findings, so two findings about the same
planted anomaly are both right; recall counts anomalies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Key = tuple[str | None, str | None, str | None, str | None, str | None]


def match_key(row: Mapping[str, Any]) -> Key:
    return (
        row.get("source"),
        row.get("stream"),
        row.get("job_number"),
        row.get("kpi_code"),
        row.get("period"),
    )


@dataclass(frozen=True)
class RecallPrecision:
    planted: int
    found: int
    findings: int
    true_findings: int
    missed: tuple[Key, ...]
    unexpected: tuple[Key, ...]

    @property
    def recall(self) -> float:
        return 1.0 if self.planted == 0 else self.found / self.planted

    @property
    def precision(self) -> float:
        return 1.0 if self.findings == 0 else self.true_findings / self.findings

    def as_dict(self) -> dict[str, Any]:
        return {
            "planted": self.planted,
            "found": self.found,
            "findings": self.findings,
            "true_findings": self.true_findings,
            "recall": round(self.recall, 4),
            "precision": round(self.precision, 4),
            "missed": [list(k) for k in self.missed],
            "unexpected": [list(k) for k in self.unexpected],
        }


def recall_precision(
    findings: Iterable[Mapping[str, Any]],
    planted: Iterable[Mapping[str, Any]],
    periods: Iterable[str] | None = None,
) -> RecallPrecision:
    """Anomaly findings against known anomalies; only the months in ``periods`` (the ones the
    hub has checked) count when given."""
    months = None if periods is None else set(periods)
    known = {match_key(p) for p in planted if months is None or p.get("period") in months}
    keys = [
        match_key(f)
        for f in findings
        if f.get("kind") == "anomaly" and (months is None or f.get("period") in months)
    ]
    hits = [k for k in keys if k in known]
    found = known & set(keys)
    return RecallPrecision(
        planted=len(known),
        found=len(found),
        findings=len(keys),
        true_findings=len(hits),
        missed=tuple(sorted(known - found, key=str)),
        unexpected=tuple(sorted((k for k in keys if k not in known), key=str)),
    )
