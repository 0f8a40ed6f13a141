"""Who may see whose score: the DingTalk directory as the hub landed it (departments and their
members, the leader flag), walked down the department tree.

The scope is read from the landed directory, not asked of DingTalk on each request, so the portal
answers the same as the hub's own employee master; it is re-read whenever the directory changes.
The directory itself lives in ``pipelines.directory``, shared with the personal reminders.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pipelines.directory import (
    MAX_DEPTH,
    SOURCE,
    STREAMS,
    Department,
    Directory,
    Member,
    read_directory,
)
from schemas.tables import RecordHead

__all__ = [
    "MAX_DEPTH",
    "SOURCE",
    "STREAMS",
    "Department",
    "Directory",
    "DirectoryCache",
    "Member",
    "read_directory",
]


class DirectoryCache:
    """The landed directory, read again only when a newer version of it has landed."""

    def __init__(self, hub: Engine) -> None:
        self.hub = hub
        self._lock = threading.Lock()
        self._stamp: tuple[Any, ...] | None = None
        self._directory: Directory | None = None

    def _landed_stamp(self) -> tuple[Any, ...]:
        with Session(self.hub) as session:
            row = session.execute(
                select(func.count(), func.max(RecordHead.version_id)).where(
                    RecordHead.source == SOURCE, RecordHead.stream.in_(STREAMS)
                )
            ).one()
        return tuple(row)

    def get(self) -> Directory:
        stamp = self._landed_stamp()
        with self._lock:
            if self._directory is None or stamp != self._stamp:
                self._directory = read_directory(self.hub)
                self._stamp = stamp
            return self._directory
