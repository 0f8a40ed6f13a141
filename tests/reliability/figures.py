"""The figures a reliability test measured (kills survived, faults met, secrets found), one line
each, appended to the file ``KPIHUB_RELIABILITY_FIGURES`` names: ``make reliability`` prints
them at the end, so what the suite proved is said in numbers, not only as "passed"."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

FIGURES_ENV = "KPIHUB_RELIABILITY_FIGURES"


def note(line: str) -> None:
    """Keep one line of figures; nothing happens when no file is named. Tests run in parallel
    workers, so each line is appended under a lock."""
    target = os.environ.get(FIGURES_ENV, "").strip()
    if not target:
        return
    with Path(target).open("a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(line.rstrip("\n") + "\n")
        fcntl.flock(handle, fcntl.LOCK_UN)
