"""Dagster resources: the stores and one resource per source. Credentials arrive as ``EnvVar`` so
the UI and run metadata show the variable's name, never its value."""

from __future__ import annotations

import os
from functools import cache

import dagster as dg

from connectors.registry import Connector
from connectors.sdk.source import SourceClient
from pipelines.stores import Stores
from schemas.settings import Settings


@cache
def _stores(hub_url: str, hr_url: str) -> Stores:
    return Stores.connect(hub_url, hr_url)


class StoresResource(dg.ConfigurableResource):
    """The hub store and the HR store (one database in the embedded default)."""

    database_url: str
    hr_store_url: str

    def stores(self) -> Stores:
        return _stores(self.database_url, self.hr_store_url)


class SourceResource(dg.ConfigurableResource):
    """Endpoint and credentials of one source system."""

    endpoint: str
    username: str = ""
    secret: str = ""

    def open(self, connector: Connector) -> SourceClient:
        return connector.open(self.endpoint, self.username, self.secret)


def source_resource_key(connector: Connector) -> str:
    return f"{connector.name}_source"


def _env_or_default(name: str, default: str) -> str | dg.EnvVar:
    return dg.EnvVar(name) if os.environ.get(name) else default


def build_resources(settings: Settings, connectors: dict[str, Connector]) -> dict[str, object]:
    resources: dict[str, object] = {
        "stores": StoresResource(
            database_url=_env_or_default("KPIHUB_DATABASE_URL", settings.hub_url),
            hr_store_url=_env_or_default("KPIHUB_HR_STORE_URL", settings.hr_url),
        )
    }
    for connector in connectors.values():
        env = connector.env
        resources[source_resource_key(connector)] = SourceResource(
            endpoint=dg.EnvVar(env.endpoint),
            username=dg.EnvVar(env.username) if env.username else "",
            secret=dg.EnvVar(env.secret) if env.secret else "",
        )
    return resources
