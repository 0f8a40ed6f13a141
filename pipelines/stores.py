"""Connections to the hub store and the HR store. They are one engine when they share a URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event


def make_engine(url: str) -> Engine:
    """An engine with the settings each backend needs to be a safe, concurrent store."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


@dataclass
class Stores:
    hub: Engine
    hr: Engine

    @classmethod
    def connect(cls, hub_url: str, hr_url: str) -> Stores:
        hub = make_engine(hub_url)
        hr = hub if hr_url == hub_url else make_engine(hr_url)
        return cls(hub=hub, hr=hr)

    def dispose(self) -> None:
        self.hub.dispose()
        if self.hr is not self.hub:
            self.hr.dispose()
