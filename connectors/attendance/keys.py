"""Record keys the terminals do not send: both streams are identified by several fields.

Shifts: a card has one plan per day, so ``card_no`` + ``date``.

Punches carry no id. A punch is a physical event: this card, at this terminal, at this second,
so the key is ``card_no`` + ``device_id`` + ``punch_time``. Re-reading a day yields the same keys,
which is what lets landing drop what it already holds. ``direction`` is left out on purpose: it
is an attribute of the tap that terminals often leave null and may fill in later, and with it in
the key such a correction would land as a second punch instead of a new version of the same one.
A real double tap is still two punches: the terminal stamps the second one seconds later.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from connectors.sdk import HttpSource, Rejected, Stream
from connectors.sdk.stream import schema_mismatch
from schemas.envelope import RawRecord

SHIFT_KEY = ("card_no", "date")
PUNCH_KEY = ("card_no", "device_id", "punch_time")
SEPARATOR = "|"


def composite_key(item: Any, fields: Sequence[str]) -> str | None:
    """The fields' values joined by ``|``, or None when one of them is missing."""
    if not isinstance(item, dict):
        return None
    parts: list[str] = []
    for name in fields:
        value = item.get(name)
        if value is None or value == "":
            return None
        parts.append(str(value))
    return SEPARATOR.join(parts)


def wrap_keyed(
    source: HttpSource,
    stream: Stream,
    items: list[Any],
    fields: Sequence[str],
    extracted_at: datetime,
) -> tuple[list[RawRecord], list[Rejected]]:
    """Envelope each item under its composite key; one without its key fields or of the wrong
    shape is set aside with the reason, as the engine does for single-field keys."""
    records: list[RawRecord] = []
    rejected: list[Rejected] = []
    for item in items:
        if not isinstance(item, dict):
            detail = f"expected an object, got {item!r:.80}"
            rejected.append(Rejected(item, "not_an_object", detail))
            continue
        key = composite_key(item, fields)
        if key is None:
            missing = [name for name in fields if item.get(name) in (None, "")]
            detail = f"record has no {', '.join(repr(m) for m in missing)}"
            rejected.append(Rejected(item, "missing_record_key", detail))
            continue
        mismatch = schema_mismatch(stream, item)
        if mismatch is not None:
            rejected.append(mismatch)
            continue
        records.append(
            RawRecord.wrap(
                source=source.name,
                stream=stream.name,
                record_key=key,
                payload=item,
                source_updated_at=None,
                extracted_at=extracted_at,
            )
        )
    return records, rejected
