"""One event booked twice: two records behind one person's fact that agree on every field that
describes the event (who, what, how many, when) but carry different record keys.

The source's own key cannot catch this, since each booking got a key of its own; landing keeps
both, rightly, because both are in the source. The fields that make two bookings one event are
the KPI's ``anomaly.duplicate_fields`` in the catalog, per stream.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from quality.fact_records import FactRecords
from quality.scores import Anomaly, Score
from schemas.catalog import Kpi

METHOD = "booked_twice"


def duplicate_anomalies(
    source: str, period: str, kpi: Kpi, facts: Sequence[FactRecords]
) -> list[Anomaly]:
    """One anomaly per person whose fact counts the same event more than once."""
    found: list[Anomaly] = []
    for ref, fields in sorted(kpi.anomaly.duplicate_fields.items()):
        stream_source, _, stream = ref.partition("/")
        if stream_source != source:
            continue
        for fact in facts:
            groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
            for record in fact.records:
                if record.stream == stream:
                    event = tuple(str(record.payload.get(f)) for f in fields)
                    groups[event].append(record.record_key)
            doubled = {event: keys for event, keys in groups.items() if len(keys) > 1}
            if not doubled:
                continue
            keys = tuple(sorted(k for ks in doubled.values() for k in ks))
            extra = len(keys) - len(doubled)
            found.append(
                Anomaly(
                    source, kpi.code, period, METHOD,
                    Score(float(len(keys)), float(len(doubled)), 0.0, float("inf"), ()),
                    job_number=fact.job_number, stream=stream, value=str(fact.value),
                    record_keys=keys,
                    extra={
                        "fields": list(fields),
                        "bookings": [
                            {"event": dict(zip(fields, event, strict=True)), "records": ks}
                            for event, ks in sorted(doubled.items())
                        ],
                        "extra_bookings": extra,
                        "message": f"{kpi.code} of {fact.job_number} in {period} counts "
                        f"{extra} event(s) more than once: {stream} records "
                        f"{', '.join(keys[:6])} agree on {', '.join(fields)}",
                    },
                )
            )  # fmt: skip
    return found
