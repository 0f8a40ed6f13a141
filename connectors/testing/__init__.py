"""The connector contract kit: one suite every registered connector passes against its sandbox
twin (or a configured endpoint). Adding a connector adds it to the kit; no test code is written.

Checks: ``connect`` and ``bad_credentials`` once per connector; per stream ``read`` (records come,
a final page ends the read), ``schema`` (records match ``record_schema``), ``keys`` (unique and
non-empty within a read), ``repeatable`` (two full reads agree), ``incremental`` (a read from the
first read's state returns exactly what lies after its restart point), ``future_state`` (a state a
year ahead returns nothing) and ``faults`` (landing under a fault profile lands exactly the
versions a clean run lands).

Use it from pytest (``connectors.testing.suite``), from code (``run_contract``), or from the
command line (``kpihub connector check NAME`` or ``python -m connectors.testing NAME``).
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.registry import get
from connectors.testing.checks import CHECK_NAMES, CONNECTOR_CHECKS, STREAM_CHECKS, all_checks
from connectors.testing.results import CONNECTOR_WIDE, CheckResult, Status
from connectors.testing.run import ContractRun

AGAINST_ENDPOINT = "runs against the sandbox twin only (a configured endpoint has no faults)"


def run_contract(
    name: str,
    environ: Mapping[str, str] | None = None,
    *,
    faults: str = "hostile",
) -> list[CheckResult]:
    """Every check of connector ``name``: against its sandbox twin when ``environ`` is None,
    otherwise against the endpoint ``environ`` configures (the fault check is then skipped)."""
    connector = get(name)
    if environ is None:
        from connectors.testing.twin import twin_run

        with twin_run(connector, faults) as run:
            return all_checks(run)
    return all_checks(ContractRun(connector, environ, faulty_missing=AGAINST_ENDPOINT))


__all__ = [
    "CHECK_NAMES",
    "CONNECTOR_CHECKS",
    "CONNECTOR_WIDE",
    "STREAM_CHECKS",
    "CheckResult",
    "ContractRun",
    "Status",
    "run_contract",
]
