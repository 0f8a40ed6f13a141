"""The contract kit as pytest tests, one test per connector, check and stream.

Run it directly (``pytest --pyargs connectors.testing.suite``) or parametrise your own test with
``contract_cases(discover())`` and ``ContractRuns`` as tests/connectors/test_contract.py does.
Each connector's twin starts once, on its first case, and stops when the next connector begins,
so at most one twin runs at a time and every read is shared by the checks that need it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from types import TracebackType

import pytest

from connectors.registry import Connector, discover, get
from connectors.testing.checks import CONNECTOR_CHECKS, STREAM_CHECKS, run_check
from connectors.testing.results import CONNECTOR_WIDE, CheckResult, Status
from connectors.testing.run import ContractRun

Case = tuple[str, str, str]
"""(connector, check, stream); ``stream`` is ``-`` for connector-wide checks."""

ANY = "*"


def _matches(case: Case, pattern: Case) -> bool:
    return all(want in (ANY, got) for got, want in zip(case, pattern, strict=True))


def contract_cases(
    connectors: Mapping[str, Connector], known_defects: Mapping[Case, str] | None = None
) -> list[pytest.ParameterSet]:
    """One pytest parameter per (connector, check, stream). ``known_defects`` maps a case
    pattern (``*`` matches anything) to the defect expected to fail it: strict xfail, so the
    case fails loudly once the defect is fixed and the entry must go."""
    cases: list[Case] = []
    for name, connector in connectors.items():
        cases.extend((name, check, CONNECTOR_WIDE) for check in CONNECTOR_CHECKS)
        for stream in connector.streams:
            cases.extend((name, check, stream.name) for check in STREAM_CHECKS)
    params = []
    for case in cases:
        name, check, stream = case
        reason = next(
            (why for pattern, why in (known_defects or {}).items() if _matches(case, pattern)),
            None,
        )
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        label = f"{name}-{check}" if stream == CONNECTOR_WIDE else f"{name}-{stream}-{check}"
        params.append(pytest.param(name, check, stream, id=label, marks=marks))
    return params


class ContractRuns:
    """Contract runs against sandbox twins, started on demand, one connector at a time."""

    def __init__(self, faults: str = "hostile") -> None:
        self.faults = faults
        self._current: tuple[str, ContractRun] | None = None
        self._stack = ExitStack()

    def get(self, name: str) -> ContractRun:
        if self._current is not None and self._current[0] == name:
            return self._current[1]
        self.close()
        from connectors.testing.twin import twin_run

        run = self._stack.enter_context(twin_run(get(name), self.faults))
        self._current = (name, run)
        return run

    def check(self, name: str, check: str, stream: str) -> CheckResult:
        return run_check(self.get(name), check, stream)

    def close(self) -> None:
        self._current = None
        self._stack.close()
        self._stack = ExitStack()

    def __enter__(self) -> ContractRuns:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def assert_contract(runs: ContractRuns, name: str, check: str, stream: str) -> None:
    """Pass, skip with the reason, or fail with the evidence."""
    result = runs.check(name, check, stream)
    if result.status is Status.SKIP:
        pytest.skip(result.detail)
    assert result.status is Status.PASS, result.describe()


@pytest.fixture(scope="module")
def contract_runs() -> Iterator[ContractRuns]:
    with ContractRuns("hostile") as runs:
        yield runs


@pytest.mark.parametrize(("connector", "check", "stream"), contract_cases(discover()))
def test_contract(contract_runs: ContractRuns, connector: str, check: str, stream: str) -> None:
    assert_contract(contract_runs, connector, check, stream)
