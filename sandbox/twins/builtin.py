"""The twins of the systems ``SandboxServer`` simulates: each starts only its own system, under the
fault profile asked for (sandbox/faults.py says what each system's faults look like)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from sandbox.model import World
from sandbox.serving import SandboxServer
from sandbox.twins import Twin, TwinError, register_twin


def server_has_faults() -> bool:
    """Whether this sandbox build can inject faults; older ones serve clean only."""
    return "faults" in inspect.signature(SandboxServer).parameters


def _system_twin(system: str) -> Twin:
    @contextmanager
    def start(world: World, faults: str) -> Iterator[Mapping[str, str]]:
        options: dict[str, str] = {}
        if faults != "none":
            if not server_has_faults():
                raise TwinError(f"this sandbox cannot inject faults ({faults!r}) yet")
            options["faults"] = faults
        with SandboxServer(world, systems=(system,), **options) as server:  # type: ignore[arg-type]
            yield dict(server.endpoints)

    return start


# The servers' systems that are sources; SandboxServer also serves the alert receivers.
SOURCE_SYSTEMS = ("crm", "dingtalk", "qms", "attendance", "erp")

for _system in SOURCE_SYSTEMS:
    register_twin(_system)(_system_twin(_system))
