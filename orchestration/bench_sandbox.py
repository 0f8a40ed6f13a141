"""The benchmark's sandbox, in a process of its own: the server's threads then compete with the
hub for neither the GIL nor the hub's memory figure, as real source systems would not.

It is the background sandbox of ``kpihub sandbox up`` (sandbox/process.py) started with a
scratch home, read from the ``sandbox.json`` it writes when ready, and stopped with SIGTERM when
the benchmark ends, however it ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time as clock
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from schemas.periods import SHANGHAI, closed_periods

READY_SECONDS = 600.0
"""Generating a 10,000-person world and writing its ERP file takes a minute or two."""


class SandboxFailed(RuntimeError):
    """The sandbox process exited or did not become ready; its log says why."""


@dataclass(frozen=True)
class RunningSandbox:
    """A started sandbox process: its endpoints (the hub's environment variables), the day its
    world lives on and the home it writes to."""

    process: subprocess.Popen[bytes]
    home: Path
    endpoints: dict[str, str]
    as_of: date
    closed_periods: tuple[str, ...]

    def change_records(self, timeout: float = 120.0) -> dict[str, int]:
        """Ask the sandbox to change its share of records now (SIGUSR1); by stream, how many."""
        from sandbox.process import CHANGES_FILE

        answer = self.home / CHANGES_FILE
        answer.unlink(missing_ok=True)
        os.kill(self.process.pid, signal.SIGUSR1)
        deadline = clock.monotonic() + timeout
        while clock.monotonic() < deadline:
            if answer.exists():
                changed: dict[str, int] = json.loads(answer.read_text(encoding="utf-8"))
                return changed
            if self.process.poll() is not None:
                raise SandboxFailed(f"the sandbox exited while changing records; see {self.log}")
            clock.sleep(0.05)
        raise SandboxFailed(f"the sandbox did not change records within {timeout:.0f} s")

    @property
    def log(self) -> Path:
        return self.home / "sandbox.log"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextlib.contextmanager
def sandbox_process(
    home: Path, *, seed: int, employees: int, history_months: int, change_fraction: float
) -> Iterator[RunningSandbox]:
    """Start the sandbox with ``home`` as its home and yield it once it serves; it is stopped
    on the way out, also after an error or Ctrl-C."""
    from sandbox.model import HISTORY_MONTHS
    from sandbox.process import STATE_FILE

    home.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "sandbox.process",
        "--seed", str(seed), "--employees", str(employees), "--home", str(home),
        "--history-months", str(max(history_months, HISTORY_MONTHS)),
        "--change-fraction", str(change_fraction),
    ]  # fmt: skip
    with (home / "sandbox.log").open("ab") as log:
        # Its own session: a Ctrl-C in the terminal reaches the benchmark, which stops it.
        process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
    restore = _exit_on_sigterm()
    try:
        state_path = home / STATE_FILE
        deadline = clock.monotonic() + READY_SECONDS
        while not state_path.exists():
            if process.poll() is not None:
                raise SandboxFailed(f"the sandbox exited early; see {home / 'sandbox.log'}")
            if clock.monotonic() > deadline:
                raise SandboxFailed(f"the sandbox did not serve within {READY_SECONDS:.0f} s")
            clock.sleep(0.1)
        state = json.loads(state_path.read_text(encoding="utf-8"))
        as_of = date.fromisoformat(state["as_of"])
        periods = closed_periods(history_months, datetime.combine(as_of, time(12), SHANGHAI))
        yield RunningSandbox(process, home, dict(state["endpoints"]), as_of, tuple(periods))
    finally:
        _stop(process)
        restore()


def _exit_on_sigterm() -> Callable[[], None]:
    """Turn SIGTERM into SystemExit while the sandbox runs, so that a benchmark stopped that
    way also stops its sandbox; returns what puts the old handler back."""

    def leave(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, leave)
    except ValueError:  # not the main thread: nothing to install, nothing to restore
        return lambda: None
    return lambda: signal.signal(signal.SIGTERM, previous)
