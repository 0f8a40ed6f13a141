"""A source that serves the same record twice in one pull. Landing stores a record version once,
so the repeat never reaches a fact; but a source that pages like this can as well skip records,
and nobody would know it did either unless the hub says so.

One WARN finding of kind ``anomaly`` per stream and month of the records served twice, naming
their keys, raised again (not duplicated) when a later pull sees the same; against the KPI whose
volume the stream is checked for in the catalog (``anomaly.volume_streams``), as the stream's
volume anomalies are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.sdk.timeparse import SHANGHAI
from quality.findings import WARN, Observation, find, raise_finding
from schemas.catalog import Catalog, load_catalog
from schemas.tables import RawRecordVersion, RecordHead

CHECK_NAME = "served_twice"
SAMPLE = 50


def stream_kpi(catalog: Catalog, source: str, stream: str) -> str | None:
    """The KPI a stream's volume is reported against, if the catalog names one."""
    ref = f"{source}/{stream}"
    return next((k.code for k in catalog.root if ref in k.anomaly.volume_streams), None)


def _periods(session: Session, source: str, stream: str, keys: list[str]) -> dict[str, str]:
    """Each key's month: of its current version's source time stamp (or when it was pulled)."""
    found: dict[str, str] = {}
    for start in range(0, len(keys), 500):
        rows = session.execute(
            select(
                RecordHead.record_key,
                RawRecordVersion.source_updated_at,
                RawRecordVersion.extracted_at,
            )
            .join(RawRecordVersion, RawRecordVersion.id == RecordHead.version_id)
            .where(
                RecordHead.source == source,
                RecordHead.stream == stream,
                RecordHead.record_key.in_(keys[start : start + 500]),
            )
        )
        for key, stamp, extracted in rows:
            found[key] = (stamp or extracted).astimezone(SHANGHAI).strftime("%Y-%m")
    return found


def record_served_twice(
    session: Session,
    source: str,
    stream: str,
    keys: Iterable[str],
    run_id: str,
    catalog: Catalog | None = None,
) -> int:
    """Raise the findings of one pull's repeated keys; returns how many findings were raised."""
    wanted = sorted(set(keys))
    if not wanted:
        return 0
    kpi = stream_kpi(catalog or load_catalog(), source, stream)
    by_period: dict[str, set[str]] = defaultdict(set)
    for key, period in _periods(session, source, stream, wanted).items():
        by_period[period].add(key)
    check_name = f"{source}.{CHECK_NAME}"
    for period, found in sorted(by_period.items()):
        earlier = find(session, check_name, f"{source}/{stream}", period)
        known = set() if earlier is None else set(earlier.detail.get("records", []))
        every = sorted(known | found)
        detail = {
            "message": f"{source}/{stream} served {len(every)} record(s) of {period} twice in "
            f"one pull: {', '.join(every[:5])}{' ...' if len(every) > 5 else ''}",
            "records": every,
            "why": "the same record key came back within one pull; it was landed once",
        }
        raise_finding(
            session,
            Observation(
                check_name, "anomaly", WARN, source, period, len(every), detail,
                stream=stream, kpi_code=kpi,
            ),
            run_id,
        )  # fmt: skip
    return len(by_period)
