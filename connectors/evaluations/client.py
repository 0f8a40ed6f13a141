"""The evaluations source: a folder where HR drops filled-in templates.

Each file is checked as a whole before anything of it lands: a file with any bad row imports
nothing (the read fails listing every problem and no state advances) unless the operator asked
for the valid rows only, in which case the bad rows are handed over for quarantine. Good files in
the same folder still land, one page each, so one colleague's typo does not hold back the rest.
The state remembers imported files by SHA-256, so an unchanged file is not even parsed again.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from connectors.evaluations.memory import ImportMemory
from connectors.evaluations.parse import ParsedFile, parse_file
from connectors.evaluations.template import Periods
from connectors.sdk.calendar import history_start, today_local
from connectors.sdk.errors import StreamError
from connectors.sdk.files import FileImportError, FileIssue, sha256_of, table_files
from connectors.sdk.stream import Page, Rejected, Stream
from connectors.sdk.timeparse import now_utc
from schemas.envelope import RawRecord
from schemas.periods import period_of

SOURCE = "evaluations"


class EvaluationsSource:
    """Reads every spreadsheet in ``folder`` not imported before, or exactly ``files`` (an
    explicit import, read even when already imported: landing then finds nothing new)."""

    def __init__(
        self,
        folder: Path | None,
        *,
        files: Sequence[Path] | None = None,
        valid_only: bool = False,
        allow_periods: Sequence[str] = (),
        employees: Collection[str] | None = None,
    ) -> None:
        """``employees``: the job numbers of the landed directory, which an import by hand
        checks every row against; the drop folder's scheduled sync leaves that to
        normalisation, which quarantines an unknown job number as it does for any source."""
        if folder is None and files is None:
            raise ValueError("an evaluations source needs a folder or files")
        self.name = SOURCE
        self.folder = folder
        self.files = list(files) if files is not None else None
        self.valid_only = valid_only
        self.allow_periods = tuple(allow_periods)
        self.employees = frozenset(employees) if employees is not None else None
        self.requests_made = 0
        self.parsed: list[ParsedFile] = []
        self.skipped: list[str] = []

    def close(self) -> None:
        """Nothing is held open between reads."""

    @property
    def issues(self) -> list[FileIssue]:
        """Every problem found by the last read, rows rejected under ``valid_only`` included."""
        return [i for f in self.parsed for i in f.issues]

    def _paths(self, stream: Stream) -> list[Path]:
        if self.files is not None:
            return self.files
        assert self.folder is not None
        try:
            return table_files(self.folder)
        except FileNotFoundError as exc:
            raise StreamError(self.name, stream.name, 1, str(exc)) from None

    def periods(self) -> Periods:
        """Closed months, by the hub's calendar (``KPIHUB_TODAY``). A file imported by hand must
        also be within the kept history, where a month is still scored: an older one is almost
        always a wrong period typed in. The drop folder is HR's archive as well, so its older
        files are read as they always were."""
        today = today_local()
        first = history_start(today) if self.files is not None else date.min
        return Periods(
            current=period_of(today),
            first_kept=period_of(first),
            allowed=frozenset(self.allow_periods),
        )

    def read(self, stream: Stream, state: Mapping[str, Any] | None = None) -> Iterator[Page]:
        memory = ImportMemory.from_state(state)
        self.parsed, self.skipped = [], []
        for path in self._paths(stream):
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise StreamError(self.name, stream.name, 1, f"cannot read {path}: {exc}") from None
            self.requests_made += 1
            if self.files is None and memory.has_file(sha256_of(data)):
                self.skipped.append(path.name)
                continue
            by_hand = self.files is not None
            self.parsed.append(
                parse_file(
                    path.name,
                    data,
                    self.periods(),
                    require_rows=by_hand,
                    employees=self.employees,
                )
            )
        blocked = [f for f in self.parsed if f.file_issues or (f.rejected and not self.valid_only)]
        importable = [f for f in self.parsed if f not in blocked]
        extracted_at = now_utc()
        for number, parsed in enumerate(importable, start=1):
            records = [
                RawRecord.wrap(
                    source=self.name,
                    stream=stream.name,
                    record_key=row.key,
                    payload=memory.payload(row.values, parsed.name, parsed.sha256, row.row),
                    source_updated_at=None,
                    extracted_at=extracted_at,
                )
                for row in parsed.rows
            ]
            memory.imported(parsed.sha256, parsed.name)
            rejected = [
                Rejected(payload, issues[0].reason, "; ".join(str(i) for i in issues))
                for payload, issues in parsed.rejected
            ]
            final = number == len(importable) and not blocked
            yield Page(number, records, memory.state(), rejected, final=final)
        if blocked:
            raise FileImportError(self.name, stream.name, [i for f in blocked for i in f.issues])
        if not importable:
            yield Page(1, [], memory.state(), final=True)
