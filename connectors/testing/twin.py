"""Running the kit against a connector's sandbox twin: a tiny company, the day pinned to the
company's own day, and the same twin started again under a fault profile.

The sandbox is imported only here, inside the functions, because product code never depends on
it; a production install without the sandbox can still check a configured endpoint.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime
from functools import partial

from connectors.registry import Connector
from connectors.testing.run import ContractRun

SEED = 7
EMPLOYEES = 16
AS_OF = date(2026, 11, 22)


def start_twin(
    connector: Connector,
    faults: str = "none",
    *,
    seed: int = SEED,
    employees: int = EMPLOYEES,
    as_of: date = AS_OF,
    now: datetime | None = None,
) -> AbstractContextManager[Mapping[str, str]]:
    """The connector's twin over a freshly generated (deterministic) tiny company. ``now`` pins
    the twin's clock on its last day: nothing stamped later is served."""
    from sandbox.model import generate_world
    from sandbox.twins import start_twin as start

    world = generate_world(seed, employees, as_of)
    if now is not None:
        world.clock = lambda: now
    return start(connector.name, world, faults)


@contextmanager
def twin_run(
    connector: Connector,
    faults: str = "hostile",
    *,
    seed: int = SEED,
    employees: int = EMPLOYEES,
    as_of: date = AS_OF,
    now: datetime | None = None,
) -> Iterator[ContractRun]:
    """A contract run against the clean twin; ``faults`` other than ``none`` adds the check that
    the same twin under that profile lands exactly the same versions. The hub's today is the
    twin's own day."""
    twin = partial(start_twin, connector, seed=seed, employees=employees, as_of=as_of, now=now)
    with twin("none") as environ:

        def faulty() -> AbstractContextManager[Mapping[str, str]]:
            return twin(faults)

        yield ContractRun(
            connector,
            dict(environ),
            today=as_of,
            faults=faults,
            faulty=None if faults == "none" else faulty,
            faulty_missing="no fault profile asked for",
        )
