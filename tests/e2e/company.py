"""The whole demo company landed once: every stream of every source, pulled over loopback from
the sandbox into a hub store, for the tests that hold facts against the ground truth."""

from __future__ import annotations

from collections.abc import Mapping

from connectors.registry import Connector
from connectors.testing.reading import pinned_today
from pipelines.landing import LandingStats, land_stream
from pipelines.stores import Stores
from sandbox.serving import SandboxServer

DEMO_SEED = 42
DEMO_EMPLOYEES = 200
# The months the truth is compared over, and how far back a first pull reaches from AS_OF.
DEMO_PERIODS = ("2026-08", "2026-09", "2026-10")
DEMO_HISTORY_MONTHS = "3"


def land_company(
    stores: Stores, server: SandboxServer, connectors: Mapping[str, Connector], run_id: str
) -> dict[str, LandingStats]:
    """Land every stream of every source; returns the landing stats by ``source/stream``."""
    stats: dict[str, LandingStats] = {}
    # The connectors' calendar pinned to the sandbox's day, so closed months stay closed.
    with pinned_today(server.world.as_of, DEMO_HISTORY_MONTHS):
        for connector in connectors.values():
            source = connector.connect(server.endpoints)
            try:
                for stream in connector.streams:
                    stats[f"{connector.name}/{stream.name}"] = land_stream(
                        stores.hub, source, stream, run_id
                    )
            finally:
                source.close()
    return stats
