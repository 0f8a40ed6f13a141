"""The DingTalk directory: departments walked breadth-first from the root, then each department's
direct members. A person in two departments is listed twice by DingTalk and landed once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from connectors.dingtalk.envelope import as_bool
from connectors.dingtalk.fanout import numbered_walks
from connectors.dingtalk.records import Department, DirectoryUser
from connectors.registry import DirectoryEntry, RecordReader
from connectors.sdk import HttpSource, Page, Stream
from connectors.sdk.http import wrap_records
from connectors.sdk.parallel import in_order
from connectors.sdk.timeparse import now_utc
from schemas.facts import PersonRef

ROOT_DEPT = 1
PAGE_SIZE = 100


def walk_departments(source: HttpSource, stream_name: str) -> Iterator[list[dict[str, Any]]]:
    """Yield each department's direct children, breadth-first; a cycle cannot loop forever.

    The departments of one level are asked for side by side, and their children handed over
    in the order a queue would have visited them."""
    level = [ROOT_DEPT]
    seen = {ROOT_DEPT}
    page = 0
    while level:
        asks = [
            lambda parent=parent, number=page + n: _children(source, stream_name, parent, number)
            for n, parent in enumerate(level, start=1)
        ]
        page += len(level)
        following: list[int] = []
        for children in in_order(asks, source.workers):
            for child in children:
                dept_id = int(child["dept_id"])
                if dept_id not in seen:
                    seen.add(dept_id)
                    following.append(dept_id)
            yield children
        level = following


def _children(source: HttpSource, stream_name: str, parent: int, page: int) -> list[dict[str, Any]]:
    body = source.request_json(
        "POST",
        "/topapi/v2/department/listsub",
        body={"dept_id": parent, "language": "zh_CN"},
        stream=stream_name,
        page=page,
    )
    return [c for c in body.get("result") or [] if isinstance(c, dict)]


def snapshot_pages(
    source: HttpSource, stream: Stream, lists: Iterable[list[Any]]
) -> Iterator[Page]:
    """The directory is read whole every time (it has no change feed): one page per list it
    walked, no state to carry, a final page that closes the read."""
    number = 0
    for items in lists:
        number += 1
        records, rejected = wrap_records(source, stream, items, now_utc())
        yield Page(number=number, records=records, state={}, rejected=rejected)
    yield Page(number=number + 1, records=[], state={}, final=True)


def read_departments(
    source: HttpSource, stream: Stream, state: Mapping[str, Any] | None
) -> Iterator[Page]:
    return snapshot_pages(source, stream, walk_departments(source, stream.name))


def walk_users(source: HttpSource, stream_name: str) -> Iterator[list[Any]]:
    """Each ``user/list`` page of every department, root first, holding only people not met on
    an earlier page: a person in two departments comes out once, where first listed. The
    departments are paged side by side; their pages are handed over in department order."""
    seen: set[str] = set()
    dept_ids = [ROOT_DEPT]
    for children in walk_departments(source, stream_name):
        dept_ids.extend(int(c["dept_id"]) for c in children)
    walks = [lambda dept_id=dept_id: _members(source, stream_name, dept_id) for dept_id in dept_ids]
    for _, users in numbered_walks(walks, source.workers):
        fresh: list[Any] = []
        for user in users:
            userid = user.get("userid") if isinstance(user, dict) else None
            if userid in (None, ""):
                fresh.append(user)  # kept, so the stream can set it aside with a reason
            elif str(userid) not in seen:
                seen.add(str(userid))
                fresh.append(user)
        yield fresh


def _members(source: HttpSource, stream_name: str, dept_id: int) -> Iterator[list[Any]]:
    """The pages of one department's direct members, following ``next_cursor``."""
    cursor = 0
    page = 0
    while True:
        page += 1
        body = source.request_json(
            "POST",
            "/topapi/v2/user/list",
            body={"dept_id": dept_id, "cursor": cursor, "size": PAGE_SIZE},
            stream=stream_name,
            page=page,
        )
        result = body.get("result") or {}
        yield list(result.get("list") or [])
        if not as_bool(result.get("has_more")) or result.get("next_cursor") in (None, ""):
            return
        cursor = int(result["next_cursor"])


def user_ids(source: HttpSource, stream_name: str) -> list[str]:
    """Every userid in the directory, once, in walk order: what the per-person streams
    (attendance, leave) ask about. Ten thousand ids are a small list; records are not held."""
    return [
        str(user["userid"])
        for users in walk_users(source, stream_name)
        for user in users
        if isinstance(user, dict) and user.get("userid") not in (None, "")
    ]


def read_users(
    source: HttpSource, stream: Stream, state: Mapping[str, Any] | None
) -> Iterator[Page]:
    return snapshot_pages(source, stream, walk_users(source, stream.name))


def directory(records: RecordReader) -> Iterator[DirectoryEntry]:
    """The employee master as DingTalk holds it: job number, name, department path, e-mail."""
    departments = {int(h.payload["dept_id"]): h.payload for h in records.heads("departments")}

    def path(dept_id: int) -> str:
        names: list[str] = []
        node = departments.get(dept_id)
        while node is not None and len(names) < 32:
            names.append(str(node["name"]))
            node = departments.get(int(node.get("parent_id") or 0))
        return "/".join(reversed(names))

    for head in records.heads("users"):
        user = head.payload
        job_number = str(user.get("job_number") or "").strip()
        if not job_number:
            continue
        dept_list = [int(d) for d in user.get("dept_id_list") or []]
        yield DirectoryEntry(
            job_number=job_number,
            name=str(user.get("name") or ""),
            department=path(dept_list[0]) if dept_list else "",
            email=(user.get("email") or None),
            person=PersonRef("dingtalk", head.record_key),
        )


STREAMS = (
    Stream(
        name="departments", record_key="dept_id", record_schema=Department, reader=read_departments
    ),
    Stream(name="users", record_key="userid", record_schema=DirectoryUser, reader=read_users),
)
