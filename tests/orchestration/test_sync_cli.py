"""``kpihub sync --from --to``: a backfill from the shell. Over three months from an empty store it
leaves exactly the stores of one sync followed by three monthly closes, and a range it cannot
score is refused in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestration.partitions import closed_periods
from sandbox.model import generate_world
from sandbox.serving import SandboxServer
from tests.reliability.snapshot import differences, snapshot

KPIHUB = str(Path(sys.executable).with_name("kpihub"))


def _kpihub(home: Path, endpoints: dict[str, str], *args: str, **extra: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KPIHUB_", "DAGSTER_"))}
    env.update(endpoints, KPIHUB_HOME=str(home), **extra)
    done = subprocess.run(
        [KPIHUB, *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_a_backfill_of_three_months_equals_a_sync_and_three_monthly_closes(
    tmp_path: Path,
) -> None:
    months = closed_periods(3)
    world = generate_world(seed=5, employees=12)
    moment = datetime.now(UTC)
    world.clock = lambda: moment  # both homes see the same records of today
    with SandboxServer(world) as server:
        backfilled = tmp_path / "backfilled"
        # Both homes keep the same three months of history.
        output = _kpihub(
            backfilled, server.endpoints, "sync", "--from", months[0], KPIHUB_HISTORY_MONTHS="3"
        )
        assert f"Published 36 new score version(s) for {months[0]}..{months[-1]}." in output
        monthly = tmp_path / "monthly"
        _kpihub(monthly, server.endpoints, "sync", KPIHUB_HISTORY_MONTHS="3")
        for month in months:
            _kpihub(monthly, server.endpoints, "score", "--period", month)

    def stores(home: Path) -> dict[str, object]:
        url = f"sqlite:///{home / 'hub.db'}"  # one file holds both stores by default
        return snapshot(url, url)

    assert differences(stores(backfilled), stores(monthly)) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-13"], "error: period '2026-13' is not a month in the form YYYY-MM"),
        (["--from", "2099-01"], "is after --to"),
        (["--to", "2099-01"], "error: --to 2099-01 is not closed yet; the last closed month is"),
    ],
)
def test_a_range_that_cannot_be_scored_is_refused_in_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KPIHUB_", "DAGSTER_"))}
    env["KPIHUB_HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [KPIHUB, "sync", *args], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert not (tmp_path / "home" / "hub.db").exists()
