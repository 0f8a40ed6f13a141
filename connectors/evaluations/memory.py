"""What the stream remembers between imports: the files already imported and, per record, which
content it has and in which file and row that content first arrived.

A record's payload names the file it came from (lineage: a manager can see which spreadsheet and
row a score input was read from). If every row simply carried the file it was read from this time,
a corrected file would give every one of its rows a new version, changed or not. So an unchanged
row keeps the file, hash and row where its content first appeared, and only a row whose content
changed points to the new file. Re-reading the same bytes gives byte-identical payloads, so the
landing dedupe (key + payload hash) stores nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from schemas.envelope import payload_sha256

DIGEST_CHARS = 16


def content_digest(values: Mapping[str, Any]) -> str:
    return payload_sha256(dict(values))[:DIGEST_CHARS]


@dataclass
class ImportMemory:
    """The stream state: ``files`` is [[sha256, name], ...], ``rows`` maps a record key to
    [content digest, index into files, row number]."""

    files: list[list[str]] = field(default_factory=list)
    rows: dict[str, list[Any]] = field(default_factory=dict)

    @classmethod
    def from_state(cls, state: Mapping[str, Any] | None) -> ImportMemory:
        state = state or {}
        return cls(
            files=[list(f) for f in state.get("files", [])],
            rows={k: list(v) for k, v in state.get("rows", {}).items()},
        )

    def state(self) -> dict[str, Any]:
        return {"files": [list(f) for f in self.files], "rows": dict(sorted(self.rows.items()))}

    def has_file(self, sha256: str) -> bool:
        return any(sha == sha256 for sha, _ in self.files)

    def _file_index(self, sha256: str, name: str) -> int:
        for index, (sha, _) in enumerate(self.files):
            if sha == sha256:
                return index
        self.files.append([sha256, name])
        return len(self.files) - 1

    def payload(
        self, values: Mapping[str, Any], file: str, sha256: str, row: int
    ) -> dict[str, Any]:
        """The record's payload: its values plus the file, hash and row its content came from;
        remembers the content as current."""
        digest = content_digest(values)
        known = self.rows.get(str(values["key"]))
        if known is not None and known[0] == digest:
            _, index, row = known
            sha256, file = self.files[index]
        else:
            index = self._file_index(sha256, file)
            self.rows[str(values["key"])] = [digest, index, row]
        return {**values, "file": file, "file_sha256": sha256, "row": row}

    def imported(self, sha256: str, name: str) -> None:
        self._file_index(sha256, name)
