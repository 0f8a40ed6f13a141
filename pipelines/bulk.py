"""Many rows through one statement at the driver's speed.

SQLAlchemy's executemany processes every parameter of every row through its compiled statement,
which costs more than the database's own insert for a page of records. A ``BulkStatement`` is
compiled once per dialect, converts each value with its column type's own bind processor (so an
aware datetime, a decimal and so on are stored exactly as the ORM would store them) and hands the
rows to the driver's ``executemany`` in the dialect's own parameter style.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import Compiled


class BulkStatement:
    """``statement`` compiled for ``dialect``; parameters are given by their bind names. Those
    named in ``encoded`` arrive already in the store's form (a JSON document as its text) and
    skip their type's conversion; the dialect's own cast, if any, still applies."""

    def __init__(
        self, statement: Executable, dialect: Dialect, encoded: frozenset[str] = frozenset()
    ) -> None:
        compiled: Compiled = statement.compile(  # type: ignore[attr-defined]
            dialect=dialect, for_executemany=True
        )
        self.sql = compiled.string
        binds = compiled.binds  # type: ignore[attr-defined]
        self.positional: bool = bool(compiled.positional)  # type: ignore[attr-defined]
        self.names: tuple[str, ...] = tuple(
            compiled.positiontup if self.positional else binds  # type: ignore[attr-defined]
        )
        self.processors: dict[str, Callable[[Any], Any]] = {}
        for name in set(self.names) - encoded:
            # The dialect's own form of the type: SQLite's datetimes are text of a fixed format.
            processor = binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.processors[name] = processor

    def execute(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        if self.processors:
            rows = self._converted(rows)
        if self.positional:
            pick = itemgetter(*self.names)
            batch: list[Any] = (
                [pick(row) for row in rows]
                if len(self.names) > 1
                else [(pick(row),) for row in rows]
            )
        else:
            batch = list(rows)
        connection.exec_driver_sql(self.sql, batch)

    def _converted(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The rows with each typed value in the store's form. A page's rows share most of their
        time stamps (when it was read, when it landed): each distinct value is converted once."""
        converted: list[dict[str, Any]] = [dict(row) for row in rows]
        for name, processor in self.processors.items():
            seen: dict[Any, Any] = {}
            for row in converted:
                raw = row[name]
                try:
                    row[name] = seen[raw]
                except KeyError:
                    row[name] = seen[raw] = processor(raw)
                except TypeError:  # a value that cannot be a key (a document) as it is
                    row[name] = processor(raw)
        return converted


class BulkStatements:
    """Each statement compiled once per dialect, as the engines of one process ask for them."""

    def __init__(self, statement: Executable, encoded: frozenset[str] = frozenset()) -> None:
        self.statement = statement
        self.encoded = encoded
        self._by_dialect: dict[str, BulkStatement] = {}

    def execute(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        dialect = connection.dialect
        name = f"{dialect.name}+{dialect.driver}"
        bulk = self._by_dialect.get(name)
        if bulk is None:
            bulk = self._by_dialect[name] = BulkStatement(self.statement, dialect, self.encoded)
        bulk.execute(connection, rows)
