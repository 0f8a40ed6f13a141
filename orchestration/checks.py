"""Asset checks of the fact assets: the source's expectation suite from the KPI catalog, run on the
month's current facts right after they are stored and reported with the materialization.

One check per family (range, keys, job numbers, volume) so the UI shows a few named checks whose
metadata lists the failing facts; a family with an ERROR expectation blocks, so a month whose facts
are wrong is not scored in the same run.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import dagster as dg
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from connectors.registry import Connector
from orchestration.partitions import monthly
from pipelines.facts import current_facts
from pipelines.leases import stream_lease
from quality.expectations import Expectation, ExpectationResult, validate_rows
from quality.fact_suites import DESCRIPTIONS, FACT_COLUMNS, FACT_KEY, fact_suite
from schemas.catalog import Catalog, load_catalog


def _codes(connector: Connector) -> tuple[str, ...]:
    mapping = connector.mapping
    assert mapping is not None
    return (*mapping.kpi_codes, *mapping.target_codes)


def _by_check(suite: list[Expectation]) -> dict[str, list[Expectation]]:
    grouped: dict[str, list[Expectation]] = defaultdict(list)
    for expectation in suite:
        grouped[expectation.check].append(expectation)
    return dict(grouped)


def monthly_check_spec(
    name: str, asset: dg.AssetKey, description: str | None, blocking: bool
) -> dg.AssetCheckSpec:
    """A check evaluated per month, so each result records the month it judged. The spec's
    ``partitions_def`` is a preview API in Dagster 1.13; this is the one place that uses it, and
    its warning is silenced here rather than shown to everyone who loads the code location."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(
            name, asset=asset, description=description, blocking=blocking, partitions_def=monthly
        )


def fact_check_specs(
    connector: Connector, key: dg.AssetKey, catalog: Catalog | None = None
) -> list[dg.AssetCheckSpec]:
    """The checks declared on a fact asset; a family with an ERROR expectation is blocking."""
    suite = fact_suite(catalog or load_catalog(), _codes(connector))
    return [
        monthly_check_spec(
            name, key, DESCRIPTIONS.get(name), any(e.severity == "ERROR" for e in expectations)
        )
        for name, expectations in _by_check(suite).items()
    ]


def _failing_table(
    results: list[ExpectationResult], key: Sequence[str] = FACT_KEY
) -> dg.TableMetadataValue:
    value_columns = sorted({c for r in results for row in r.failing_rows for c in row})
    columns = ["expectation", *[c for c in value_columns if c in key]]
    columns += [c for c in value_columns if c not in key]
    records = [
        dg.TableRecord({"expectation": r.name, **{c: _text(row.get(c)) for c in columns[1:]}})
        for r in results
        for row in r.failing_rows
    ]
    schema = dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in columns])
    return dg.MetadataValue.table(records=records, schema=schema)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def check_result(
    name: str,
    asset: dg.AssetKey,
    results: list[ExpectationResult],
    key: Sequence[str] = FACT_KEY,
) -> dg.AssetCheckResult:
    """One check's result: failed if any expectation failed, at ERROR if an ERROR one did."""
    failed = [r for r in results if not r.passed]
    # A passing check keeps the severity it is declared with; a failing one takes its worst.
    judged = failed or results
    severity = (
        dg.AssetCheckSeverity.ERROR
        if any(r.severity == "ERROR" for r in judged)
        else dg.AssetCheckSeverity.WARN
    )
    return dg.AssetCheckResult(
        check_name=name,
        asset_key=asset,
        passed=not failed,
        severity=severity,
        metadata={
            # The facts the check looked at: each range covers some KPIs, together all facts.
            "evaluated": max((r.evaluated for r in results), default=0),
            "failed": sum(r.failed for r in results),
            "expectations": dg.MetadataValue.json(
                [
                    {
                        "expectation": r.name,
                        "severity": r.severity,
                        "passed": r.passed,
                        "evaluated": r.evaluated,
                        "failed": r.failed,
                    }
                    for r in results
                ]
            ),
            "failing_rows": _failing_table(results, key),
        },
    )


def run_fact_checks(
    engine: Engine,
    connector: Connector,
    key: dg.AssetKey,
    period: str,
    catalog: Catalog | None = None,
) -> list[dg.AssetCheckResult]:
    """Validate the current facts (actuals and targets) of ``connector`` for ``period``."""
    codes = _codes(connector)
    suite = fact_suite(catalog or load_catalog(), codes)
    with Session(engine) as session:
        facts = current_facts(session, period, codes, connector.name, kind=None)
        rows = [
            {c: getattr(f, c) for c in FACT_COLUMNS}
            for f in sorted(facts, key=lambda f: (f.job_number, f.kpi_code, f.kind))
        ]
    found = validate_rows(rows, suite, columns=FACT_COLUMNS, key=FACT_KEY)
    by_check: dict[str, list[ExpectationResult]] = defaultdict(list)
    for result in found:
        by_check[result.expectation.check].append(result)
    return [check_result(name, key, by_check[name]) for name in _by_check(suite)]


ANOMALY_CHECK = "anomalies"
ANOMALY_DESCRIPTION = (
    "Robust z-scores of each person's facts against their own trailing months (or their cohort "
    "when the history is short), and of the source's stream volumes per day and month; each "
    "anomaly is a finding in the review queue."
)


def anomaly_check_spec(
    connector: Connector, key: dg.AssetKey, catalog: Catalog | None = None
) -> list[dg.AssetCheckSpec]:
    """The anomaly check of a fact asset; blocking only if one of its KPIs says ERROR."""
    kpis = (catalog or load_catalog()).from_source(connector.name)
    if not any(k.anomaly.enabled for k in kpis):
        return []
    blocking = any(k.anomaly.severity == "ERROR" for k in kpis)
    return [monthly_check_spec(ANOMALY_CHECK, key, ANOMALY_DESCRIPTION, blocking)]


def run_anomaly_check(
    engine: Engine,
    connector: Connector,
    key: dg.AssetKey,
    period: str,
    run_id: str,
    catalog: Catalog | None = None,
) -> list[dg.AssetCheckResult]:
    """Raise this month's anomaly findings of ``connector`` and report them on the fact asset,
    so the UI shows per month which people and streams stood out and against what."""
    from quality.anomalies import run_anomaly_detection

    catalog = catalog or load_catalog()
    if not anomaly_check_spec(connector, key, catalog):
        return []
    # One run at a time raises a source's month of findings: two at once (two demos) would
    # both insert the same new finding.
    with (
        stream_lease(engine, "anomalies", f"{connector.name}/{period}", run_id),
        Session(engine) as session,
        session.begin(),
    ):
        raised = run_anomaly_detection(session, catalog, connector.name, period, run_id)
        rows = [
            {
                "finding": str(f.id),
                "kpi_code": a.kpi_code,
                "job_number": a.job_number,
                "stream": a.stream,
                "method": a.method,
                "value": a.value,
                "baseline_median": str(f.detail.get("baseline_median")),
                "z": str(f.detail.get("z")),
            }
            for a, f in raised
        ]
        severities = {f.severity for _, f in raised}
    columns = ["finding", "kpi_code", "job_number", "stream", "method", "value"]
    columns += ["baseline_median", "z"]
    table = dg.MetadataValue.table(
        records=[dg.TableRecord({c: _text(r[c]) for c in columns}) for r in rows],
        schema=dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in columns]),
    )
    severity = dg.AssetCheckSeverity.ERROR if "ERROR" in severities else dg.AssetCheckSeverity.WARN
    return [
        dg.AssetCheckResult(
            check_name=ANOMALY_CHECK,
            asset_key=key,
            passed=not rows,
            severity=severity,
            metadata={"anomalies": len(rows), "anomalous": table},
        )
    ]
