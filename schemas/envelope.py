"""The raw record envelope: what connectors yield and the hub stores, one per record version."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def canonical_json(payload: Any) -> str:
    """Key-sorted, compact JSON: the same record always hashes the same, whatever its key order."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def payload_sha256(payload: Any) -> str:
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


class RawRecord(BaseModel):
    """One record as received from a source, with where and when it came from."""

    model_config = ConfigDict(frozen=True)

    source: str
    stream: str
    record_key: str
    payload: dict[str, Any]
    payload_sha256: str
    source_updated_at: datetime | None
    extracted_at: datetime
    payload_json: str = Field(default="", repr=False, exclude=True)
    """The canonical JSON the hash was taken of, kept so the store is not sent a second
    encoding; empty when the record was built without it."""

    @property
    def canonical_payload(self) -> str:
        """The payload as canonical JSON: what the store keeps."""
        return self.payload_json or canonical_json(self.payload)

    @classmethod
    def wrap(
        cls,
        *,
        source: str,
        stream: str,
        record_key: str,
        payload: dict[str, Any],
        source_updated_at: datetime | None,
        extracted_at: datetime,
    ) -> RawRecord:
        # Built from parts the connector engine already checked: hashing is the only work,
        # and the text hashed is kept for the store rather than encoded again.
        text = canonical_json(payload)
        return cls.model_construct(
            source=source,
            stream=stream,
            record_key=record_key,
            payload=payload,
            payload_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            source_updated_at=source_updated_at,
            extracted_at=extracted_at,
            payload_json=text,
        )
