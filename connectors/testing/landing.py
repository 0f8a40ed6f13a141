"""Landing every stream of a connector on a fresh store, as the hub would, and reading back what
was landed. The hostile check compares this between a clean and a faulty twin.

Landing lives in ``pipelines``, which depends on ``connectors``; it is imported only here, when
the check runs, so importing the kit (and the registry) stays light.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from connectors.registry import Connector

LandedVersion = tuple[str, str, str, str]
"""(source, stream, record_key, payload_sha256) of one landed record version."""


@dataclass
class Landed:
    versions: dict[str, set[LandedVersion]] = field(default_factory=dict)
    errors: dict[str, Exception] = field(default_factory=dict)


def land_all(connector: Connector, environ: Mapping[str, str], run_id: str) -> Landed:
    """Land each stream on its own fresh SQLite store; a stream that fails keeps its error."""
    from sqlalchemy import select

    from pipelines.landing import land_stream
    from pipelines.stores import make_engine
    from schemas.migrations.apply import upgrade_stores
    from schemas.tables import RawRecordVersion

    landed = Landed()
    with tempfile.TemporaryDirectory(prefix="kpihub-contract-") as scratch:
        url = f"sqlite:///{Path(scratch) / 'hub.db'}"
        upgrade_stores(url, url)
        engine = make_engine(url)
        try:
            for stream in connector.streams:
                try:
                    source = connector.connect(environ)
                except Exception as exc:
                    landed.errors[stream.name] = exc
                    continue
                try:
                    land_stream(engine, source, stream, run_id)
                except Exception as exc:
                    landed.errors[stream.name] = exc
                finally:
                    source.close()
            with engine.connect() as conn:
                rows = conn.execute(
                    select(
                        RawRecordVersion.source,
                        RawRecordVersion.stream,
                        RawRecordVersion.record_key,
                        RawRecordVersion.payload_sha256,
                    ).where(RawRecordVersion.source == connector.name)
                )
                for source_name, stream_name, key, sha in rows:
                    landed.versions.setdefault(stream_name, set()).add(
                        (source_name, stream_name, key, sha)
                    )
        finally:
            engine.dispose()
    return landed
