"""One contract run: a connector, the environment that reaches it, and every read the checks
look at, each made once and shared by the checks that need it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from connectors.registry import Connector
from connectors.sdk.stream import Stream
from connectors.testing.landing import Landed, land_all
from connectors.testing.reading import (
    ReadOutcome,
    pinned_today,
    probe,
    read_stream,
    secret_values,
)
from connectors.testing.spoil import Spoiled, spoil
from connectors.testing.timing import future_state

FaultyTwin = Callable[[], AbstractContextManager[Mapping[str, str]]]


@dataclass
class ContractRun:
    """``faulty`` starts the same twin under ``faults``; without it the fault check is skipped
    with ``faulty_missing`` as the reason (a configured endpoint cannot be made to misbehave)."""

    connector: Connector
    environ: Mapping[str, str]
    today: date | None = None
    faults: str = "none"
    faulty: FaultyTwin | None = None
    faulty_missing: str = "needs the sandbox twin and a fault profile"
    _reads: dict[tuple[str, str], ReadOutcome] = field(default_factory=dict, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.connector.name

    def _read(self, stream: Stream, label: str, state: Mapping[str, Any] | None) -> ReadOutcome:
        key = (stream.name, label)
        if key not in self._reads:
            with pinned_today(self.today):
                self._reads[key] = read_stream(self.connector, self.environ, stream, state)
        return self._reads[key]

    def full(self, stream: Stream, attempt: int = 1) -> ReadOutcome:
        """A read from no state; ``attempt`` 2 is the second, independent full read."""
        return self._read(stream, f"full-{attempt}", None)

    def from_state(self, stream: Stream) -> ReadOutcome:
        """A read from the state the first full read ended with."""
        return self._read(stream, "incremental", self.full(stream).state or {})

    def from_future(self, stream: Stream) -> tuple[dict[str, Any], ReadOutcome]:
        with pinned_today(self.today):
            state = future_state(self.full(stream).state or {})
        return state, self._read(stream, "future", state)

    def probe_good(self) -> Exception | None:
        if "good" not in self._cache:
            with pinned_today(self.today):
                self._cache["good"] = probe(self.connector, self.environ)
        return self._cache["good"]  # type: ignore[no-any-return]

    def probe_bad(self) -> tuple[Spoiled | None, Exception | None]:
        if "bad" not in self._cache:
            spoiled = spoil(self.connector, self.environ)
            with pinned_today(self.today):
                error = probe(self.connector, spoiled.environ) if spoiled else None
            self._cache["bad"] = (spoiled, error)
        return self._cache["bad"]  # type: ignore[no-any-return]

    def secrets(self) -> list[str]:
        spoiled, _ = self.probe_bad()
        environs = [self.environ] + ([spoiled.environ] if spoiled else [])
        return secret_values(self.connector, *environs)

    def landed(self, faulty: bool) -> Landed | Exception:
        """Every stream landed on a fresh store from the clean twin, or from the faulty one."""
        label = "landed-faulty" if faulty else "landed-clean"
        if label not in self._cache:
            self._cache[label] = self._land(faulty)
        return self._cache[label]  # type: ignore[no-any-return]

    def _land(self, faulty: bool) -> Landed | Exception:
        with pinned_today(self.today):
            if not faulty:
                return land_all(self.connector, self.environ, "contract-clean")
            assert self.faulty is not None
            try:
                with self.faulty() as environ:
                    return land_all(self.connector, environ, f"contract-{self.faults}")
            except Exception as exc:  # the twin itself could not start under faults
                return exc
