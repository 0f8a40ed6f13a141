"""Asset checks of the raw stream assets: the suite the source's folder declares for the stream
(connectors/<source>/suites.py), run on the record versions the materialization just landed and
reported with it, one check per family (complete, keys unique, allowed values, in range) as the
fact assets' are. A family with an ERROR expectation blocks what depends on the stream in the
same run."""

from __future__ import annotations

from collections import defaultdict

import dagster as dg
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from connectors.registry import Connector
from connectors.sdk.expectations import DESCRIPTIONS, Expectation
from orchestration.checks import check_result
from quality.expectations import ExpectationResult
from quality.raw_suites import RAW_KEY, stream_suite, validate_stream


def _families(suite: tuple[Expectation, ...]) -> dict[str, list[Expectation]]:
    grouped: dict[str, list[Expectation]] = defaultdict(list)
    for expectation in suite:
        grouped[expectation.check].append(expectation)
    return dict(grouped)


def raw_check_specs(connector: Connector, stream: str, key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    """The checks declared on one raw stream asset; none for a stream without a suite."""
    return [
        dg.AssetCheckSpec(
            name,
            asset=key,
            description=DESCRIPTIONS.get(name),
            blocking=any(e.severity == "ERROR" for e in expectations),
        )
        for name, expectations in _families(stream_suite(connector.name, stream)).items()
    ]


def run_raw_checks(
    engine: Engine, connector: Connector, stream: str, key: dg.AssetKey, run_id: str
) -> list[dg.AssetCheckResult]:
    """Validate what ``run_id`` landed of the stream against its suite."""
    suite = stream_suite(connector.name, stream)
    if not suite:
        return []
    with Session(engine) as session:
        found = validate_stream(session, connector.name, stream, run_id)
    by_check: dict[str, list[ExpectationResult]] = defaultdict(list)
    for result in found:
        by_check[result.expectation.check].append(result)
    return [check_result(name, key, by_check[name], RAW_KEY) for name in _families(suite)]
