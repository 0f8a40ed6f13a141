"""A demo under the hostile fault profile publishes exactly what a clean demo publishes, and
leaves the same stores: faults are transient, so a client that retries, refreshes its tokens
and re-reads shifted pages lands what a polite server would have given it.

The hostile demo runs in this process, so the faults its sandbox injected can be counted: every
kind (5xx bursts, rate limits, latency, token expiry, truncated pages, connection resets; QMS
page shifts too when the month has pages enough) must have been met at least once. The clean
demo runs beside it, at the same sandbox instant. ``make test`` runs a small company's month;
``make reliability`` runs the whole company for seeds 11 and 12 (scripts/reliability.sh).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import sandbox.serving
from orchestration.cli.main import app
from sandbox.faults import KINDS, PAGE_SHIFT_KIND
from tests.reliability.figures import note
from tests.reliability.snapshot import differences, snapshot

KPIHUB = str(Path(sys.executable).with_name("kpihub"))
SEED = int(os.environ.get("KPIHUB_RELIABILITY_SEED", "11"))
EMPLOYEES = int(os.environ.get("KPIHUB_RELIABILITY_EMPLOYEES", "20"))
DEMO = ["demo", "--seed", str(SEED), "--employees", str(EMPLOYEES), "--periods", "1"]
# Retries against loopback need not wait long; the fault rules bound how often they are needed.
BACKOFF = "0.05"


def test_a_hostile_demo_publishes_what_a_clean_demo_publishes(
    _isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC).isoformat()
    clean_home = tmp_path / "clean"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KPIHUB_", "DAGSTER_"))}
    env.update(KPIHUB_HOME=str(clean_home), KPIHUB_SANDBOX_NOW=now)
    clean = subprocess.Popen(
        [KPIHUB, *DEMO, "--faults", "none"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    servers: list[sandbox.serving.SandboxServer] = []

    class Watched(sandbox.serving.SandboxServer):
        """The demo's sandbox, kept so its fault injectors can be read after the run."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            servers.append(self)

    monkeypatch.setattr(sandbox.serving, "SandboxServer", Watched)
    monkeypatch.setenv("KPIHUB_SANDBOX_NOW", now)
    monkeypatch.setenv("KPIHUB_RETRY_INITIAL_BACKOFF", BACKOFF)
    try:
        hostile = CliRunner().invoke(app, [*DEMO, "--faults", "hostile"])
    finally:
        clean_output = clean.communicate(timeout=600)[0]
    assert hostile.exit_code == 0, hostile.output[-3000:]
    assert clean.returncode == 0, clean_output[-3000:]
    assert f"Published {EMPLOYEES} new score version(s)." in hostile.output

    (server,) = servers
    faults: Counter[str] = Counter()
    for injector in server.injectors.values():
        faults.update(injector.counts())
    hostile_url = f"sqlite:///{_isolated_home / 'hub.db'}"
    clean_url = f"sqlite:///{clean_home / 'hub.db'}"
    after = snapshot(hostile_url, hostile_url)
    assert differences(after, snapshot(clean_url, clean_url)) == [], dict(faults)
    assert len(after["scores"]) == EMPLOYEES
    # A small company's QMS month may have too few pages for a shift; every other kind is met.
    assert set(KINDS) - {PAGE_SHIFT_KIND} <= set(faults), faults
    assert sum(faults.values()) >= 50, faults
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(faults.items()))
    note(
        f"hostile: {sum(faults.values())} faults met ({kinds}), {EMPLOYEES} people, seed {SEED}; "
        "stores equal to a clean run's"
    )
