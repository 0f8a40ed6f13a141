"""The contract kit passes at any hour of the twin's day: just after midnight, when the day has
barely begun, and at noon, when half of it is still to come. The hub's today and the twin's
clock are both pinned, so the result does not depend on when the suite runs."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from connectors.registry import discover
from connectors.testing.checks import CONNECTOR_CHECKS, STREAM_CHECKS, run_check
from connectors.testing.results import CONNECTOR_WIDE, Status
from connectors.testing.twin import twin_run
from sandbox.clock import SHANGHAI

DAY = date(2026, 11, 20)  # a Friday: every source has records that day
MOMENTS = {
    "just-after-midnight": datetime(2026, 11, 20, 0, 5, tzinfo=SHANGHAI),
    "noon": datetime(2026, 11, 20, 12, 0, tzinfo=SHANGHAI),
}


@pytest.mark.parametrize("moment", list(MOMENTS), ids=list(MOMENTS))
@pytest.mark.parametrize("name", sorted(discover()))
def test_the_kit_passes_at_any_hour(name: str, moment: str) -> None:
    connector = discover()[name]
    cases = [(check, CONNECTOR_WIDE) for check in CONNECTOR_CHECKS]
    cases += [(check, s.name) for s in connector.streams for check in STREAM_CHECKS]
    with twin_run(connector, "none", seed=11, employees=60, as_of=DAY, now=MOMENTS[moment]) as run:
        results = [run_check(run, check, stream) for check, stream in cases]
    failures = [r.describe() for r in results if r.status is Status.FAIL]
    assert failures == []
    assert sum(r.status is Status.PASS for r in results) > len(results) // 2
