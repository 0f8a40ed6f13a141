"""The contract kit over every registered connector and its sandbox twin, clean and under the
hostile fault profile, on SQLite. A new connector is picked up here with no new test code.

``KNOWN_DEFECTS`` lists defects of connectors still being built, each failing its case strictly:
when the defect is fixed the case passes, strict xfail fails it, and the entry must go.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.registry import discover
from connectors.sdk.retry import BACKOFF_ENV
from connectors.testing.suite import Case, ContractRuns, assert_contract, contract_cases

# Connectors still being built; each entry names the defect the kit found.
KNOWN_DEFECTS: dict[Case, str] = {}


@pytest.fixture(scope="module")
def runs() -> Iterator[ContractRuns]:
    """The twins answer on loopback: every fault is still retried, with short waits."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(BACKOFF_ENV, "0.05")
        with ContractRuns(faults="hostile") as started:
            yield started


CASES = contract_cases(discover(), KNOWN_DEFECTS)


@pytest.mark.parametrize(("connector", "check", "stream"), CASES)
def test_contract(runs: ContractRuns, connector: str, check: str, stream: str) -> None:
    assert_contract(runs, connector, check, stream)
