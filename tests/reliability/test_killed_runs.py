"""A run whose process is killed is marked failed by the next command on the host, and the leases
it held are freed, so the re-run does not wait for them to expire."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from connectors.sdk.timeparse import now_utc
from orchestration.orphans import PID_TAG, fail_orphaned_runs
from pipelines.leases import TTL
from schemas.migrations.apply import upgrade_stores
from schemas.settings import get_settings
from schemas.tables import StreamLease

JOB = textwrap.dedent(
    """
    import sys, time
    import dagster as dg
    from orchestration.orphans import process_tags

    @dg.op
    def wait_forever() -> None:
        time.sleep(600)

    @dg.job
    def long_sync() -> None:
        wait_forever()

    instance = dg.DagsterInstance.from_config(sys.argv[1])
    long_sync.execute_in_process(instance=instance, tags=process_tags())
    """
)


def _wait_for(predicate, seconds: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def _leases(url: str) -> list[tuple[str, str, str]]:
    engine = create_engine(url)
    with Session(engine) as session:
        rows = session.execute(select(StreamLease.source, StreamLease.stream, StreamLease.holder))
        found = sorted((source, stream, holder) for source, stream, holder in rows)
    engine.dispose()
    return found


def _hold(url: str, source: str, stream: str, holder: str) -> None:
    engine = create_engine(url)
    now = now_utc()
    with Session(engine) as session, session.begin():
        session.add(
            StreamLease(
                source=source, stream=stream, holder=holder, acquired_at=now, expires_at=now + TTL
            )
        )
    engine.dispose()


def test_a_killed_run_is_marked_failed_at_the_next_start(tmp_path: Path) -> None:
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    child = subprocess.Popen([sys.executable, "-c", JOB, str(home)], cwd=Path.cwd())
    instance = dg.DagsterInstance.from_config(str(home))

    def started() -> bool:
        runs = instance.get_runs()
        return bool(runs) and runs[0].status == dg.DagsterRunStatus.STARTED

    try:
        _wait_for(started)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    (run,) = instance.get_runs()
    assert (run.status, run.tags[PID_TAG]) == (dg.DagsterRunStatus.STARTED, str(child.pid))

    get_settings().home.mkdir(parents=True)
    url = get_settings().hub_url
    upgrade_stores(url, url)
    _hold(url, "crm", "orders", run.run_id)  # the killed run was landing crm/orders
    _hold(url, "facts", "crm/2026-11", "a-run-still-alive")

    assert fail_orphaned_runs(instance) == [run.run_id]
    assert _leases(url) == [("facts", "crm/2026-11", "a-run-still-alive")]
    (after,) = instance.get_runs()
    assert after.status == dg.DagsterRunStatus.FAILURE
    failure = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE
    ).records
    assert failure[0].event_log_entry.dagster_event.message == (  # type: ignore[union-attr]
        f"the process that ran it (pid {child.pid} on {os.uname().nodename}) "
        "ended before it finished"
    )
    assert fail_orphaned_runs(instance) == []  # once
