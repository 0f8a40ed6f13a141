"""Reading the spreadsheets people drop into a folder: CSV or XLSX as Excel writes them in the wild.

A file source (evaluations today, target adjustments tomorrow) needs the same pieces: find the
files, decode text without guessing (UTF-8 with or without a BOM, else GB18030, the superset of
GBK that Chinese Excel writes), read XLSX cells with their types, normalise full-width digits and
punctuation, read Excel's date serials and the ways people write a month, and report problems as
file, row (numbered as Excel shows it, the header being row 1), column and why.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, cast

from connectors.sdk.errors import StreamError
from schemas.periods import format_period

TABLE_SUFFIXES = (".csv", ".xlsx")
# Excel counts days from 1899-12-30 (its serial 60 is the 29 February 1900 that never was).
EXCEL_EPOCH = date(1899, 12, 30)
YEARS = range(2000, 2100)
MONTH_HINT = "a month (YYYY-MM, a date or an Excel date serial)"
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_YEAR_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
_YEAR_MONTH_DAY = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"
)
_COMPACT = re.compile(r"^(\d{4})(\d{2})$")
_SERIAL = re.compile(r"^\d{1,5}(\.\d+)?$")


@dataclass(frozen=True)
class UncomputedFormula:
    """An XLSX formula cell saved without its result (a file written by a program, not by Excel
    or WPS, which store the last computed value). The importer never evaluates a formula, so such
    a cell is reported as what it is rather than read as empty."""

    formula: str

    def __str__(self) -> str:
        return self.formula


Cell = str | int | float | Decimal | date | datetime | bool | UncomputedFormula | None


@dataclass(frozen=True)
class FileIssue:
    """One problem in one file; ``row`` and ``column`` are absent for a problem with the file."""

    file: str
    reason: str
    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class FileImportError(StreamError):
    """Files that cannot be imported as they are; every issue is listed, none was landed and no
    state advanced, so fixing the file and importing it again is all the operator has to do."""

    def __init__(self, source: str, stream: str, issues: Sequence[FileIssue]) -> None:
        self.source = source
        self.stream = stream
        self.page = 0
        self.issues = list(issues)
        files = sorted({i.file for i in self.issues})
        self.reason = (
            f"{len(self.issues)} problem(s) in {', '.join(files)}; nothing imported from "
            f"{'it' if len(files) == 1 else 'them'}"
        )
        lines = [f"{source}/{stream}: {self.reason}", *(f"  {i}" for i in self.issues)]
        Exception.__init__(self, "\n".join(lines))


@dataclass(frozen=True)
class Table:
    """The rows of a file's first sheet: ``rows`` pairs Excel's row number with the cells."""

    file: str
    encoding: str
    rows: list[tuple[int, list[Cell]]]


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def table_files(folder: Path, suffixes: Sequence[str] = TABLE_SUFFIXES) -> list[Path]:
    """Spreadsheets in ``folder`` in name order; Excel's ``~$`` lock files and hidden files are
    not data and are left alone."""
    if not folder.is_dir():
        raise FileNotFoundError(f"folder {folder} does not exist")
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith(("~$", "."))
    )


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-16 only with its BOM, then strict UTF-8 (BOM optional), then
    GB18030. Valid GBK is almost never valid UTF-8, so the order decides without guessing."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030"), "gb18030"
    return text, "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"


def _delimiter(first_line: str) -> str:
    """Excel writes commas, semicolons in some locales, tabs for "Unicode text"."""
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(name: str, data: bytes) -> Table:
    try:
        text, encoding = decode_text(data)
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 or GBK text") from None
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    rows: list[tuple[int, list[Cell]]] = []
    try:
        for number, cells in enumerate(reader, start=1):
            rows.append((number, list(cells)))
    except csv.Error as exc:
        raise ValueError(f"not readable as CSV: {exc}") from None
    return Table(name, encoding, rows)


def read_xlsx(name: str, data: bytes) -> Table:
    """The first worksheet, with cell types kept: a date cell arrives as a datetime and a serial
    typed into a General cell as a number. A formula cell is read as its stored result; one
    stored without a result is an :class:`UncomputedFormula`. A workbook that cannot be read to
    its last cell (a broken zip, broken XML inside a valid zip) is one ValueError saying why."""
    try:
        values = _sheet_rows(data, data_only=True)
        formulas = _sheet_rows(data, data_only=False) if _has_empty(values) else []
    except Exception as exc:  # openpyxl raises what its parsers raise: any of them means unreadable
        raise ValueError(f"not a readable XLSX workbook ({_why(exc)})") from None
    precise = _long_numbers(data)
    rows: list[tuple[int, list[Cell]]] = []
    for number, cells in enumerate(values, start=1):
        written = formulas[number - 1] if number <= len(formulas) else []
        row = [_cell(cell, written, i) for i, cell in enumerate(cells)]
        for i, cell in enumerate(row):
            exact = precise.get((number, i + 1))
            if exact is not None and isinstance(cell, int | float) and not isinstance(cell, bool):
                row[i] = exact
        rows.append((number, row))
    return Table(name, "xlsx", rows)


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELATION = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
FLOAT_DIGITS = 17
"""Significant digits that identify a double: Excel writes a number with at most these (0.1 + 0.2
as 0.30000000000000004, read as Excel shows it). More can only come from a program writing an
exact decimal, which a float would round."""


def _long_numbers(data: bytes) -> dict[tuple[int, int], Decimal]:
    """(row, column) -> the number as written, for the first worksheet's number cells written
    with more significant digits than a double has. openpyxl reads every number as a float, so
    ``99.`` and forty nines (a Decimal written out by a program) would arrive as 100; read as
    written, it is refused for its decimals instead. A workbook laid out unusually, where the
    sheet cannot be found this way, keeps openpyxl's reading."""
    import posixpath
    import xml.etree.ElementTree as ET
    import zipfile

    from openpyxl.utils.cell import coordinate_to_tuple

    found: dict[tuple[int, int], Decimal] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            book = ET.fromstring(archive.read("xl/workbook.xml"))
            first = book.find(f"{_MAIN}sheets/{_MAIN}sheet")
            rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            wanted = first.get(_RELATION) if first is not None else None
            target = next(r.get("Target", "") for r in rels if r.get("Id") == wanted)
            path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            with archive.open(posixpath.normpath(path)) as sheet:
                for _, element in ET.iterparse(sheet):
                    if element.tag != f"{_MAIN}c":
                        continue
                    value = element.find(f"{_MAIN}v")
                    ref = element.get("r")
                    if element.get("t", "n") == "n" and ref and value is not None and value.text:
                        number = Decimal(value.text.strip())
                        if number.is_finite() and len(number.as_tuple().digits) > FLOAT_DIGITS:
                            found[coordinate_to_tuple(ref)] = number
                    element.clear()
    except Exception:  # not this layout: openpyxl, which read the sheet, is the reading
        return {}
    return found


def _sheet_rows(data: bytes, *, data_only: bool) -> list[tuple[Any, ...]]:
    """The first worksheet's rows: values (``data_only``) or cells as written, formulas kept."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # some writers store a wrong sheet size; read what is there
        if data_only:
            return list(sheet.iter_rows(values_only=True))
        return [
            tuple(c.value if getattr(c, "data_type", None) == "f" else None for c in row)
            for row in sheet.iter_rows()
        ]
    finally:
        book.close()


def _has_empty(rows: Sequence[tuple[Any, ...]]) -> bool:
    return any(cell is None for row in rows for cell in row)


def _cell(value: Any, written: Sequence[Any], index: int) -> Cell:
    """The value of a cell, or the formula it holds when that formula has no stored result."""
    if value is None and index < len(written) and written[index] is not None:
        return UncomputedFormula(str(written[index]))
    return cast(Cell, value)


def _why(exc: Exception) -> str:
    """The exception's type and its first line, short: enough to tell a truncated download
    (BadZipFile) from a damaged sheet (ParseError) without a traceback."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if len(text) > 120:
        text = text[:117] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def read_table(name: str, data: bytes) -> Table:
    """Dispatch on the file name; a ValueError says what is wrong with the file as a whole."""
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        return read_csv(name, data)
    if suffix == ".xlsx":
        return read_xlsx(name, data)
    if suffix == ".xls":
        raise ValueError("an old .xls workbook; save it as .xlsx or CSV")
    raise ValueError(f"unsupported file type {suffix or '(none)'}; expected CSV or XLSX")


def text_of(cell: Cell) -> str:
    """A cell as NFKC-normalised, trimmed text: full-width ``２０２６／１０`` reads ``2026/10``."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"  # as Excel shows it
    if isinstance(cell, UncomputedFormula):
        return cell.formula
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return unicodedata.normalize("NFKC", str(cell)).strip()


def is_blank(cells: Sequence[Cell]) -> bool:
    return all(text_of(c) == "" for c in cells)


def header_key(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", unicodedata.normalize("NFKC", text).strip().casefold())


def match_columns(
    header: Sequence[Cell], columns: Mapping[str, Sequence[str]]
) -> tuple[dict[str, int], dict[int, str], list[str]]:
    """Map each header cell to a declared column by any of its names; ``工号/job_number`` and
    ``工号(job_number)`` match too. Returns (column -> index, other header cells, problems)."""
    names = {header_key(a): column for column, aliases in columns.items() for a in aliases}
    found: dict[str, int] = {}
    others: dict[int, str] = {}
    problems: list[str] = []
    for index, cell in enumerate(header):
        text = text_of(cell)
        if not text:
            continue
        key = header_key(text)
        parts = {names.get(p) for p in re.split(r"[/()|]", key) if p}
        column = names.get(key) or (parts.pop() if len(parts) == 1 else None)
        if column is None:
            others[index] = text
        elif column in found:
            problems.append(f"column {column} appears twice ({_letter(found[column])} and "
                            f"{_letter(index)})")  # fmt: skip
        else:
            found[column] = index
    return found, others, problems


def _letter(index: int) -> str:
    """Excel's column letter of a zero-based index: 0 -> A, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def excel_serial_date(serial: float) -> date:
    return EXCEL_EPOCH + timedelta(days=int(serial))


def not_computed(what: str, cell: UncomputedFormula) -> str:
    """Why a formula cell saved without its result cannot be read, and what to do about it."""
    return (
        f"{what} is a formula not computed ({cell.formula}): open the file in Excel or WPS "
        "and save it, so that its result is stored"
    )


def parse_month(cell: Cell, years: range = YEARS) -> str:
    """YYYY-MM from a date cell, an Excel serial (46296 -> 2026-10), ``2026-10``, ``2026/10/1``,
    ``2026年10月`` or ``202610``; a ValueError says why not."""
    if isinstance(cell, UncomputedFormula):
        raise ValueError(not_computed("period", cell))
    raw = text_of(cell)
    shown = cell.strip() if isinstance(cell, str) else raw
    if raw == "":
        raise ValueError("period is empty")
    if isinstance(cell, bool):
        raise ValueError(f"period {shown!r} is not {MONTH_HINT}")
    year = month = 0
    if isinstance(cell, datetime | date):
        year, month = cell.year, cell.month
    elif isinstance(cell, int | float | Decimal) or _SERIAL.match(raw):
        try:
            day = excel_serial_date(float(raw))
        except (OverflowError, ValueError):
            raise ValueError(f"period {shown!r} is not {MONTH_HINT}") from None
        year, month = day.year, day.month
    elif match := _YEAR_MONTH.match(raw) or _COMPACT.match(raw):
        year, month = int(match.group(1)), int(match.group(2))
    elif match := _YEAR_MONTH_DAY.match(raw):
        try:
            day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            raise ValueError(f"period {shown!r} is not {MONTH_HINT}") from None
        year, month = day.year, day.month
    if not 1 <= month <= 12:
        raise ValueError(f"period {shown!r} is not {MONTH_HINT}")
    if year not in years:
        raise ValueError(f"period {shown!r} is outside the years {years[0]}..{years[-1]}")
    return format_period(year, month)


def parse_decimal(cell: Cell, what: str = "value") -> Decimal:
    """A Decimal from a number cell or text; floats are read as Excel shows them (15 significant
    digits), so 0.1 + 0.2 typed in Excel is 0.3, not 0.30000000000000004."""
    if isinstance(cell, UncomputedFormula):
        raise ValueError(not_computed(what, cell))
    raw = text_of(cell)
    shown = cell.strip() if isinstance(cell, str) else raw
    if raw == "":
        raise ValueError(f"{what} is empty")
    if isinstance(cell, bool):
        raise ValueError(f"{what} {shown!r} is not a number")
    if isinstance(cell, float):
        raw = format(cell, ".15g")
    if not _NUMBER.match(raw):
        raise ValueError(f"{what} {shown!r} is not a number")
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{what} {shown!r} is not a number") from None


def decimal_text(value: Decimal) -> str:
    """One spelling per number, so 92.50 in a CSV and 92.5 in a workbook hash the same."""
    if value == 0:
        return "0"
    if value == value.to_integral_value():
        return f"{value.quantize(Decimal(1)):f}"
    return f"{value.normalize():f}"


def iter_records(table: Table) -> Iterator[tuple[int, list[Cell]]]:
    """Non-blank rows after the header (the first non-blank row); trailing blank rows that
    Excel leaves behind are simply not rows."""
    seen_header = False
    for number, cells in table.rows:
        if is_blank(cells):
            continue
        if not seen_header:
            seen_header = True
            continue
        yield number, cells


def header_of(table: Table) -> tuple[int, list[Cell]] | None:
    for number, cells in table.rows:
        if not is_blank(cells):
            return number, cells
    return None


def column_label(header: Sequence[Cell], index: int) -> str:
    """How the operator finds a column: the header as written in the file."""
    text = text_of(header[index]) if index < len(header) else ""
    return text or _letter(index)


def cell_at(cells: Sequence[Cell], index: int) -> Cell:
    return cells[index] if index < len(cells) else None


def plain(cell: Cell) -> Any:
    """A cell as JSON can hold it, for quarantine payloads."""
    if isinstance(cell, datetime | date):
        return cell.isoformat()
    if isinstance(cell, Decimal | UncomputedFormula):
        return str(cell)
    return cell
