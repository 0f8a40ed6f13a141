"""Demos SIGKILLed at seeded random points of every phase, each followed by a re-run, end with
stores equal to a clean run's: raw versions, heads, cursors, facts and their lineage,
quarantine, findings, alerts, scores with their components, and the audit log.

A kill's point is drawn from the phase it aims at: pulling a stream over HTTP, landing the
pages of a large stream, normalising a source's month, or scoring and publishing. The test
watches the run's event log in Dagster's instance (as the UI does) and kills the process a
random moment after the phase's step starts, so kills land mid-request and mid-transaction
alike. Every killed run must be marked failed by the next start, and no killed sandbox may
leave its temporary folder behind.

``make test`` kills ``KPIHUB_RELIABILITY_KILLS`` (10) times a company of
``KPIHUB_RELIABILITY_EMPLOYEES`` (20) people over one month; ``make reliability`` raises both.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tests.reliability.figures import note
from tests.reliability.snapshot import differences, snapshot

KPIHUB = str(Path(sys.executable).with_name("kpihub"))
KILLS = int(os.environ.get("KPIHUB_RELIABILITY_KILLS", "10"))
EMPLOYEES = int(os.environ.get("KPIHUB_RELIABILITY_EMPLOYEES", "20"))
SEED = int(os.environ.get("KPIHUB_RELIABILITY_SEED", "11"))
DEMO = ["demo", "--seed", str(SEED), "--employees", str(EMPLOYEES), "--periods", "1"]
# Every run sees the sandbox at the same instant, so the clean run and the re-runs agree on
# which records of today exist.
NOW = datetime.now(UTC).isoformat()

LARGE_STREAMS = ("attendance__punches", "dingtalk__attendance", "erp__prd_instock")
PHASES = ("pull", "landing", "normalising", "publishing")


@dataclass(frozen=True)
class Aim:
    """Where a kill is aimed: the phase, the step whose start it waits for (a prefix of the
    step key) and how long after that start it strikes, in seconds."""

    phase: str
    step: str
    delay: float


@dataclass(frozen=True)
class Kill:
    aim: Aim
    pid: int
    step_running: str
    """The step that had started and not finished when the process died."""


def plan(kills: int, rng: random.Random) -> list[Aim]:
    """The kills in order: the first ones in the sync, while there is still something new to
    land, then normalisation, then publishing; each phase gets a share. A kill after the sync
    costs a whole re-sync first, so the sync's phases take the larger share."""
    sync = max(2, round(kills * 0.6))
    normalising = max(1, (kills - sync) // 2)
    publishing = max(1, kills - sync - normalising)
    aims: list[Aim] = []
    for n in range(sync):
        if n % 2 == 0:
            step = rng.choice(("crm__", "dingtalk__users", "dingtalk__approvals", "qms__"))
            aims.append(Aim("pull", step, rng.uniform(0.0, 0.3)))
        else:
            aims.append(Aim("landing", rng.choice(LARGE_STREAMS), rng.uniform(0.0, 0.5)))
    for _ in range(normalising):
        source = rng.choice(("attendance", "crm", "dingtalk", "erp", "evaluations", "qms"))
        aims.append(Aim("normalising", f"facts__{source}", rng.uniform(0.0, 0.5)))
    aims.extend(Aim("publishing", "scores", rng.uniform(0.0, 0.1)) for _ in range(publishing))
    return aims


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KPIHUB_", "DAGSTER_"))}
    env["KPIHUB_HOME"] = str(home)
    env["KPIHUB_SANDBOX_NOW"] = NOW
    return env


def _query(path: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    """Read a Dagster SQLite store another process is writing; busy means nothing yet."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.5)
    except sqlite3.OperationalError:
        return []
    try:
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def _runs_of(home: Path, pid: int) -> list[str]:
    return [
        str(r[0])
        for r in _query(
            home / "dagster" / "history" / "runs.db",
            "SELECT run_id FROM run_tags WHERE key = 'kpihub/pid' AND value = ?",
            str(pid),
        )
    ]


def _steps(home: Path, run_id: str) -> tuple[list[str], set[str]]:
    """Steps started, in order, and steps finished, of one run."""
    rows = _query(
        home / "dagster" / "history" / "runs" / f"{run_id}.db",
        "SELECT dagster_event_type, step_key FROM event_logs "
        "WHERE dagster_event_type IN ('STEP_START', 'STEP_SUCCESS', 'STEP_FAILURE') ORDER BY id",
    )
    started = [str(k) for t, k in rows if t == "STEP_START"]
    finished = {str(k) for t, k in rows if t != "STEP_START"}
    return started, finished


def _running(home: Path, pid: int) -> str:
    for run_id in reversed(_runs_of(home, pid)):
        started, finished = _steps(home, run_id)
        open_steps = [s for s in started if s not in finished]
        if open_steps:
            return open_steps[-1]
    return "none"


def _kill_at(home: Path, aim: Aim, log: Path) -> Kill:
    """Start a demo and kill it ``aim.delay`` seconds after a step matching the aim starts.
    Its output goes to ``log``: a pipe nobody reads while the test watches could fill up and
    stall the demo."""
    with log.open("w", encoding="utf-8") as sink:
        process = subprocess.Popen(
            [KPIHUB, *DEMO], env=_env(home), stdout=sink, stderr=subprocess.STDOUT, text=True
        )
    deadline = time.monotonic() + 300
    try:
        while True:
            assert process.poll() is None, (
                f"the demo ended before {aim.step} started:\n{log.read_text()[-3000:]}"
            )
            assert time.monotonic() < deadline, f"{aim.step} did not start within 300 s"
            runs = _runs_of(home, process.pid)
            if any(s.startswith(aim.step) for run in runs for s in _steps(home, run)[0]):
                break
            time.sleep(0.02)
        time.sleep(aim.delay)
        running = _running(home, process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        output = log.read_text(encoding="utf-8")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    return Kill(aim, process.pid, running)


def _job_phase(step: str) -> str:
    if step.startswith("facts__"):
        return "normalising"
    if step == "scores":
        return "publishing"
    return "sync" if "__" in step else step


def _dagster_runs(home: Path) -> dict[str, str]:
    return {
        str(run_id): str(status)
        for run_id, status in _query(
            home / "dagster" / "history" / "runs.db", "SELECT run_id, status FROM runs"
        )
    }


def test_seeded_random_kills_in_every_phase_end_as_a_clean_run(tmp_path: Path) -> None:
    rng = random.Random(f"kpihub-reliability-kills/{SEED}/{KILLS}")
    aims = plan(KILLS, rng)
    assert len(aims) == KILLS and {a.phase for a in aims} == set(PHASES)
    # The clean run goes on beside the killed ones: it shares nothing with them but the seed.
    clean_log = tmp_path / "clean.log"
    with clean_log.open("w", encoding="utf-8") as sink:
        clean = subprocess.Popen(
            [KPIHUB, *DEMO],
            env=_env(tmp_path / "clean"),
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    killed_home = tmp_path / "killed"
    try:
        kills = [
            _kill_at(killed_home, aim, tmp_path / f"kill-{n}.log") for n, aim in enumerate(aims)
        ]
        final = subprocess.run(
            [KPIHUB, *DEMO], env=_env(killed_home), capture_output=True, text=True, timeout=600
        )
        assert clean.wait(timeout=600) == 0, clean_log.read_text(encoding="utf-8")[-3000:]
    finally:
        if clean.poll() is None:
            clean.kill()
            clean.wait()
    assert final.returncode == 0, (final.stdout + final.stderr)[-3000:]
    assert "Traceback" not in final.stdout + final.stderr

    report = "; ".join(
        f"{k.aim.phase} {k.aim.step}+{k.aim.delay:.2f}s in {k.step_running}" for k in kills
    )
    url = f"sqlite:///{killed_home / 'hub.db'}"
    clean_url = f"sqlite:///{tmp_path / 'clean' / 'hub.db'}"
    after, expected = snapshot(url, url), snapshot(clean_url, clean_url)
    assert differences(after, expected) == [], report
    assert after["stream_leases"] == [] and len(after["scores"]) >= EMPLOYEES

    # Each kill struck a step under way (a publishing kill may find the scores just written),
    # and the kills struck the sync, normalisation and scoring.
    assert all(k.step_running != "none" or k.aim.phase == "publishing" for k in kills), report
    struck = {_job_phase(k.step_running) for k in kills}
    assert {"sync", "normalising", "publishing"} <= struck, report

    # Dagster lists the run each kill cut short as failed, and no run as still going.
    runs = _dagster_runs(killed_home)
    for kill in kills:
        statuses = sorted(runs[r] for r in _runs_of(killed_home, kill.pid))
        assert statuses[0] == "FAILURE" and set(statuses) <= {"FAILURE", "SUCCESS"}, report
    assert set(runs.values()) == {"FAILURE", "SUCCESS"}
    # No killed sandbox left its folder behind.
    left = [
        p.name
        for p in Path(tempfile.gettempdir()).glob("kpihub-sandbox-*")
        if any(p.name.startswith(f"kpihub-sandbox-{k.pid}-") for k in kills)
    ]
    assert left == []
    aimed = sorted(Counter(k.aim.phase for k in kills).items())
    note(
        f"kills: {len(kills)} SIGKILLs survived ({', '.join(f'{n} {p}' for p, n in aimed)}), "
        f"{EMPLOYEES} people, seed {SEED}; stores equal to a clean run's"
    )
