"""Runs whose process died. A run executed by the command line lives in that process; killed, it
can report nothing, and Dagster would list it as running forever. Each such run carries the pid
and host of its process, and the next command that starts on that host marks the run failed,
saying so, so HR sees what happened and re-runs it, and frees the streams and months the run
had leased, so the re-run need not wait for those leases to expire."""

from __future__ import annotations

import os
import socket

import dagster as dg

PID_TAG = "kpihub/pid"
HOST_TAG = "kpihub/host"
UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def process_tags() -> dict[str, str]:
    """The tags that tie a run to the process executing it."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def fail_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed every unfinished run of this host whose process is gone; returns their ids."""
    host = socket.gethostname()
    failed: list[str] = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=UNFINISHED)):
        pid = run.tags.get(PID_TAG, "")
        if run.tags.get(HOST_TAG) != host or not pid.isdigit() or int(pid) == os.getpid():
            continue
        if alive(int(pid)):
            continue
        instance.report_run_failed(
            run, message=f"the process that ran it (pid {pid} on {host}) ended before it finished"
        )
        failed.append(run.run_id)
    _free_leases(failed)
    return failed


def _free_leases(run_ids: list[str]) -> None:
    """Release the hub leases of dead runs. A hub that is not set up, or out of reach, holds no
    lease worth freeing now: its leases expire on their own."""
    if not run_ids:
        return
    from sqlalchemy import create_engine, pool
    from sqlalchemy.exc import SQLAlchemyError

    from pipelines.leases import release_runs
    from schemas.migrations.apply import missing_sqlite_file
    from schemas.settings import get_settings

    url = get_settings().hub_url
    if missing_sqlite_file(url) is not None:
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        release_runs(engine, run_ids)
    except SQLAlchemyError:
        return
    finally:
        engine.dispose()
