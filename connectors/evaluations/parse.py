"""One evaluation file, read and checked as a whole: its valid rows, its rejected rows with every
problem found, and problems with the file itself (unreadable, missing columns)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from connectors.evaluations.template import (
    COLUMNS,
    KEY_COLUMNS,
    REQUIRED,
    ParsedRow,
    Periods,
    parse_row,
)
from connectors.sdk.files import (
    FileIssue,
    column_label,
    header_of,
    iter_records,
    match_columns,
    plain,
    read_table,
    sha256_of,
)


@dataclass
class ParsedFile:
    name: str
    sha256: str
    rows: list[ParsedRow] = field(default_factory=list)
    rejected: list[tuple[dict[str, Any], list[FileIssue]]] = field(default_factory=list)
    file_issues: list[FileIssue] = field(default_factory=list)

    @property
    def issues(self) -> list[FileIssue]:
        return [*self.file_issues, *(i for _, found in self.rejected for i in found)]

    @property
    def row_count(self) -> int:
        return len(self.rows) + len(self.rejected)


def parse_file(
    name: str,
    data: bytes,
    periods: Periods | None = None,
    *,
    require_rows: bool = False,
    employees: Collection[str] | None = None,
) -> ParsedFile:
    """``require_rows``: a file imported by hand must hold rows (a header alone is a file saved
    too early); in the drop folder, an empty month of a team with nobody to evaluate is fine.
    ``employees``: the directory's job numbers, when known; a row for anyone else is refused."""
    parsed = ParsedFile(name, sha256_of(data))
    try:
        table = read_table(name, data)
    except ValueError as exc:
        parsed.file_issues.append(FileIssue(name, "unreadable_file", str(exc)))
        return parsed
    found = header_of(table)
    if found is None:
        parsed.file_issues.append(FileIssue(name, "no_header", "no header row"))
        return parsed
    header_row, header = found
    columns, others, problems = match_columns(header, COLUMNS)
    for problem in problems:
        parsed.file_issues.append(FileIssue(name, "duplicate_column", problem, row=header_row))
    for column in REQUIRED:
        if column not in columns:
            zh, en = COLUMNS[column]
            message = f"no column {zh}/{en} in the header"
            parsed.file_issues.append(FileIssue(name, "missing_column", message, row=header_row))
    if parsed.file_issues:
        return parsed
    good: list[ParsedRow] = []
    for row, cells in iter_records(table):
        result = parse_row(name, row, cells, header, columns, others, periods, employees)
        if isinstance(result, ParsedRow):
            good.append(result)
        else:
            raw = {column_label(header, i): plain(c) for i, c in enumerate(cells) if c is not None}
            payload = {"file": name, "file_sha256": parsed.sha256, "row": row, "cells": raw}
            parsed.rejected.append((payload, result))
    if require_rows and not good and not parsed.rejected:
        parsed.file_issues.append(FileIssue(name, "no_rows", "the file has a header and no rows"))
        return parsed
    _split_duplicates(parsed, good, header, columns)
    parsed.rejected.sort(key=lambda r: int(r[0]["row"]))
    return parsed


def _split_duplicates(
    parsed: ParsedFile, good: list[ParsedRow], header: list[Any], columns: dict[str, int]
) -> None:
    """Rows sharing (job number, period, KPI) are all rejected: which of them is meant is the
    file author's call, not the importer's."""
    by_key: dict[str, list[ParsedRow]] = defaultdict(list)
    for row in good:
        by_key[row.key].append(row)
    label = ", ".join(column_label(header, columns[c]) for c in KEY_COLUMNS)
    for row in good:
        same = by_key[row.key]
        if len(same) == 1:
            parsed.rows.append(row)
            continue
        numbers = ", ".join(str(r.row) for r in same)
        message = f"rows {numbers} have the same job number, period and KPI ({row.key})"
        issue = FileIssue(parsed.name, "duplicate_row", message, row=row.row, column=label)
        payload = {
            "key": row.key,
            "file": parsed.name,
            "file_sha256": parsed.sha256,
            "row": row.row,
            "cells": dict(row.values),
        }
        parsed.rejected.append((payload, [issue]))
