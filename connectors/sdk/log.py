"""The hub's own log lines, and where they are read.

Inside a Dagster run, records of the children of Dagster's ``dagster.builtin`` logger become
events of the step that wrote them (what ``dagster.get_dagster_logger`` hands out), so code that
knows nothing of Dagster still tells a run's story in its log: the pages landed, each retry and
its cause, throttling, quarantines. Outside a run the same lines go where Python's logging is
configured to send them, nowhere by default; no secret is ever part of one.
"""

from __future__ import annotations

import logging

_HUB = logging.getLogger("dagster.builtin.kpihub")
# A handler that drops: without any, Python would print warnings to stderr from the shell.
_HUB.addHandler(logging.NullHandler())


def hub_log(part: str) -> logging.Logger:
    """The logger of one part of the hub (``landing``, ``http``, ``normalise``...)."""
    return _HUB.getChild(part)
