"""Bad credentials for the bad-credentials check, derived from the connector's ``SourceEnv``.

A source with a secret gets a wrong secret; one with only a user name a wrong user name; one with
neither (a folder of files, a local database) gets its endpoint pointed at a place that does not
exist, which is what a misconfigured import looks like.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from connectors.registry import Connector

WRONG = "kpihub-contract-wrong-credential"
MISSING_DIR = "kpihub-contract-missing"


@dataclass(frozen=True)
class Spoiled:
    environ: dict[str, str]
    what: str
    credential: bool
    """True when a credential was spoiled (an ``AuthError`` is due), False for a missing place."""


def spoil(connector: Connector, environ: Mapping[str, str]) -> Spoiled | None:
    env = connector.env
    bad = dict(environ)
    if env.secret:
        bad[env.secret] = WRONG
        return Spoiled(bad, f"a wrong {env.secret}", credential=True)
    if env.username:
        bad[env.username] = WRONG
        return Spoiled(bad, f"a wrong {env.username}", credential=True)
    endpoint = environ.get(env.endpoint, "")
    missing = missing_place(endpoint)
    if missing is None:
        return None
    bad[env.endpoint] = missing
    return Spoiled(bad, f"{env.endpoint} pointing at a missing place", credential=False)


def missing_place(endpoint: str) -> str | None:
    """``endpoint`` with its first existing file or folder moved into a folder that does not
    exist (works for a plain folder and for an ODBC string's ``Database=...``)."""
    for token in re.split(r"[;=]", endpoint):
        candidate = token.strip()
        if candidate and Path(candidate).exists():
            path = Path(candidate)
            return endpoint.replace(candidate, str(path.parent / MISSING_DIR / path.name), 1)
    return None
