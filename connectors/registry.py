"""The connector registry. A source registers one ``Connector``; orchestration builds its Dagster
assets and resources from here, so adding a source never edits another folder."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from connectors.sdk.source import SourceClient
from connectors.sdk.stream import Stream
from schemas.facts import Observation, PersonRef, QuarantinedRecord


@dataclass(frozen=True)
class SourceEnv:
    """Names of the environment variables holding a source's endpoint and credentials.

    ``endpoint`` is a base URL, an ODBC connection string or a folder, as the source needs; a
    source without a user name (an API key) or without any secret leaves those names out.
    """

    endpoint: str
    username: str | None = None
    secret: str | None = None

    def names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.endpoint, self.username, self.secret) if n)

    def values(self, environ: Mapping[str, str]) -> tuple[str, str, str]:
        """(endpoint, username, secret) from ``environ``; absent optional ones are empty."""
        missing = [n for n in self.names() if not environ.get(n)]
        if missing:
            raise KeyError(f"not configured: {', '.join(missing)}")
        return (
            environ[self.endpoint],
            environ.get(self.username, "") if self.username else "",
            environ.get(self.secret, "") if self.secret else "",
        )


@dataclass(frozen=True)
class HeadRecord:
    """The current version of one landed record, as a mapping reads it."""

    version_id: int
    record_key: str
    payload: dict[str, Any]


class RecordReader(Protocol):
    """Read access to the current landed records of this source's streams, and of another
    source's streams a mapping declares in ``FactMapping.reads`` (``source`` names it).

    ``period`` asks for the records of one month only, for a stream that declares the month of
    each record (``Stream.event_period``): those its event time places in ``period`` and those
    whose time cannot be read. Any other record is left out, so a mapping asks for it only
    when it would skip every other month's records anyway; it still checks each record's
    month itself, and a reader may hand it more than asked (a stream without months)."""

    def heads(
        self, stream: str, source: str | None = None, period: str | None = None
    ) -> Iterable[HeadRecord]: ...


@dataclass(frozen=True)
class MappingResult:
    observations: list[Observation]
    quarantined: list[QuarantinedRecord] = field(default_factory=list)


@dataclass(frozen=True)
class FactMapping:
    """Raw -> KPI observations for one period, keyed by this system's person ids.

    ``reads`` names other sources' streams as ``source/stream`` (attendance terminals read
    DingTalk's approved leave); the fact asset depends on them as on its own ``streams``.
    ``target_codes`` are the KPIs this source also gives targets for (the ERP's SAL_TARGET).
    """

    kpi_codes: tuple[str, ...]
    streams: tuple[str, ...]
    run: Callable[[str, RecordReader], MappingResult]
    reads: tuple[str, ...] = ()
    target_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PersonLink:
    """What a source knows that links its person id to a job number or an e-mail address.

    A link may hold only for a time (a badge handed to a new hire): ``valid_from`` is the first
    local day it holds, ``valid_until`` the first day it no longer does; ``None`` is open-ended.
    """

    person: PersonRef
    job_number: str | None
    email: str | None
    version_id: int
    valid_from: date | None = None
    valid_until: date | None = None

    def holds_on(self, day: date | None) -> bool:
        if day is None:
            return self.valid_until is None
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day < self.valid_until
        )


@dataclass(frozen=True)
class DirectoryEntry:
    """An employee of the master directory."""

    job_number: str
    name: str
    department: str
    email: str | None
    person: PersonRef


@dataclass(frozen=True)
class Connector:
    """Everything the hub needs to know about one source."""

    name: str
    title: str
    env: SourceEnv
    streams: tuple[Stream, ...]
    open: Callable[[str, str, str], SourceClient]
    mapping: FactMapping | None = None
    person_links: Callable[[RecordReader], Iterator[PersonLink]] | None = None
    directory: Callable[[RecordReader], Iterator[DirectoryEntry]] | None = None
    identity_streams: tuple[str, ...] = ()
    """The streams ``person_links`` and ``directory`` read: every fact asset depends on them."""
    kind: str = "api"
    """How the hub reaches the source (``api``, ``odbc``, ``files``): the kind its raw assets
    show in the Dagster UI."""
    freshness_hours: float | None = None
    """How long after a sync the source's raw data is still fresh, when not the hub's daily
    window (``KPIHUB_FRESHNESS_HOURS``): files dropped once a month, say."""

    def connect(self, environ: Mapping[str, str]) -> SourceClient:
        """Open the source with the endpoint and credentials named by ``env`` in ``environ``."""
        return self.open(*self.env.values(environ))

    def stream(self, name: str) -> Stream:
        for stream in self.streams:
            if stream.name == name:
                return stream
        raise KeyError(f"{self.name} has no stream {name!r}")


_REGISTRY: dict[str, Connector] = {}


def register(connector: Connector) -> Connector:
    existing = _REGISTRY.get(connector.name)
    if existing is not None and existing is not connector:
        raise ValueError(f"a connector named {connector.name!r} is already registered")
    _REGISTRY[connector.name] = connector
    return connector


def discover() -> Mapping[str, Connector]:
    """Import every connector package under ``connectors/`` so each registers itself."""
    import connectors

    for info in pkgutil.iter_modules(connectors.__path__):
        if info.ispkg and info.name not in {"sdk", "testing"}:
            importlib.import_module(f"connectors.{info.name}")
    return dict(sorted(_REGISTRY.items()))


def get(name: str) -> Connector:
    found = discover().get(name)
    if found is None:
        raise KeyError(f"no connector named {name!r}; known: {', '.join(discover())}")
    return found
