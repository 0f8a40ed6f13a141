"""Reading a stream the way the kit needs it: every page, the final state, and whatever went wrong
kept as a finding instead of stopping the kit."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from connectors.registry import Connector
from connectors.sdk.errors import redact
from connectors.sdk.stream import Rejected, Stream
from schemas.envelope import RawRecord


@dataclass
class ReadOutcome:
    """All records of one read, the state its final page would commit, and its error if any."""

    records: list[RawRecord] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    state: dict[str, Any] | None = None
    final_seen: bool = False
    pages: int = 0
    error: Exception | None = None

    def hashes(self) -> dict[str, str]:
        """record key -> payload hash; a key read twice keeps its last version, as landing does."""
        return {r.record_key: r.payload_sha256 for r in self.records}


# The kit needs a month boundary and a lookback to check, not half a year of history: one
# closed month keeps every check meaningful and the hostile runs short.
KIT_HISTORY_MONTHS = "1"


@contextmanager
def pinned_today(day: date | None, history_months: str = KIT_HISTORY_MONTHS) -> Iterator[None]:
    """Date-windowed streams end their pull at ``KPIHUB_TODAY``; pin it to the twin's day, and
    start their first pull ``history_months`` closed months back (one for the kit)."""
    if day is None:
        yield
        return
    pinned = {"KPIHUB_TODAY": day.isoformat(), "KPIHUB_HISTORY_MONTHS": history_months}
    before = {name: os.environ.get(name) for name in pinned}
    os.environ.update(pinned)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def read_stream(
    connector: Connector,
    environ: Mapping[str, str],
    stream: Stream,
    state: Mapping[str, Any] | None,
) -> ReadOutcome:
    """One complete read on a fresh connection, as a landing run would make it."""
    outcome = ReadOutcome()
    try:
        client = connector.connect(environ)
    except Exception as exc:  # a connector that cannot even open is a finding, not a crash
        outcome.error = exc
        return outcome
    try:
        for page in client.read(stream, dict(state) if state is not None else None):
            outcome.pages += 1
            outcome.records.extend(page.records)
            outcome.rejected.extend(page.rejected)
            if page.final:
                outcome.final_seen = True
                outcome.state = dict(page.state)
    except Exception as exc:
        outcome.error = exc
    finally:
        client.close()
    return outcome


def probe(connector: Connector, environ: Mapping[str, str]) -> Exception | None:
    """Connect and prove the credentials work: the client's own ``check()`` when it has one,
    otherwise the first page of the first stream."""
    try:
        client = connector.connect(environ)
    except Exception as exc:
        return exc
    try:
        check = getattr(client, "check", None)
        if callable(check):
            check()
        elif connector.streams:
            pages = client.read(connector.streams[0], None)
            try:
                next(iter(pages), None)
            finally:
                close = getattr(pages, "close", None)
                if callable(close):
                    close()
    except Exception as exc:
        return exc
    finally:
        client.close()
    return None


def secret_values(connector: Connector, *environs: Mapping[str, str]) -> list[str]:
    """The secret values in play, so the kit can prove none leaks into an error."""
    name = connector.env.secret
    if not name:
        return []
    return sorted({e[name] for e in environs if e.get(name)}, key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """The kit's own reports never repeat a secret either."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return redact(text)


def describe_error(exc: BaseException, secrets: Iterable[str]) -> str:
    return scrub(f"{type(exc).__name__}: {exc}", secrets)
