"""What the Dagster UI shows as an asset's owner and code version. A code version is a digest of
what decides the asset's values: for a fact asset its source's mapping code and the KPI catalog,
for the scores the scoring rules and every template file. A changed mapping or template then
shows the affected assets as changed in the UI, before anyone re-runs them."""

from __future__ import annotations

import hashlib
import inspect
import sys
from pathlib import Path

from connectors.registry import Connector
from schemas.catalog import DEFAULT_CATALOG
from schemas.settings import get_settings

OWNERS = ["team:hr-operations"]


def _digest(*parts: bytes) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(hashlib.sha256(part).digest())
    return sha.hexdigest()[:12]


def _module_source(name: str) -> bytes:
    return inspect.getsource(sys.modules[name]).encode("utf-8")


def facts_code_version(connector: Connector) -> str:
    assert connector.mapping is not None
    return _digest(
        _module_source(connector.mapping.run.__module__),
        _module_source("pipelines.normalise"),
        DEFAULT_CATALOG.read_bytes(),
    )


def scores_code_version() -> str:
    folder = get_settings().templates_dir
    templates = sorted(folder.glob("*.yaml")) if folder is not None and folder.is_dir() else []
    return _digest(
        _module_source("pipelines.scoring"),
        _module_source("pipelines.publishing"),
        *(Path(t).name.encode("utf-8") + b"\0" + Path(t).read_bytes() for t in templates),
    )
