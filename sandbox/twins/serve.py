"""Serving a small twin app for a connector that has no system in ``SandboxServer``: a real
loopback server, optionally behind the fault injector.

The fault injector knows how each simulated system fails; a new twin borrows one of those styles
(``faults_like``), by default the attendance terminals': 5xx bursts, latency, truncated pages and
connection resets, the faults any plain REST API shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from starlette.types import ASGIApp

from sandbox.faults import PROFILES, FaultInjector
from sandbox.serving import AppThread


@contextmanager
def serve_app(
    app: ASGIApp, faults: str = "none", *, seed: int = 0, faults_like: str = "attendance"
) -> Iterator[str]:
    """Serve ``app`` on an ephemeral loopback port for the block; yields its base URL."""
    served: ASGIApp = app
    if faults != "none":
        served = FaultInjector(app, faults_like, PROFILES[faults], seed)
    thread = AppThread(served)
    thread.start()
    try:
        yield thread.url
    finally:
        thread.stop()
