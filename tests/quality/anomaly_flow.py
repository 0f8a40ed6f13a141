"""The demo's flow (sync every source, then score month by month through Dagster) on a sandbox
company, without the demo's printing: what the recall test and a manual look both drive."""

from __future__ import annotations

import os

import dagster as dg

from orchestration.home import set_up
from orchestration.partitions import closed_periods
from sandbox.model import World, generate_world
from schemas.settings import get_settings

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def run_flow(seed: int, employees: int, periods: int) -> World:
    """Land the sandbox company and score its last ``periods`` closed months, as ``kpihub demo``
    does; returns the world, whose manifest the findings are measured against."""
    from orchestration.definitions import build_definitions
    from sandbox.serving import SandboxServer

    settings = get_settings()
    set_up(settings)
    world = generate_world(seed=seed, employees=employees)
    with SandboxServer(world) as server:
        os.environ.update(server.endpoints)
        os.environ["KPIHUB_HISTORY_MONTHS"] = str(periods)
        defs = build_definitions()
        instance = dg.DagsterInstance.get()
        sync = defs.resolve_job_def("sync_sources").execute_in_process(
            instance=instance, run_config=QUIET
        )
        assert sync.success
        for period in closed_periods(periods):
            result = defs.resolve_job_def("score_period").execute_in_process(
                instance=instance, partition_key=period, run_config=QUIET
            )
            assert result.success, period
    return world


if __name__ == "__main__":
    import sys

    run_flow(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
