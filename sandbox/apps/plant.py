"""The simulated QMS (API key, page-number paging over a live table) and attendance terminals
(HTTP Basic, shifts per month, raw punches per day with offset paging)."""

from __future__ import annotations

import base64
import math
import secrets
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.attendance_data import SHIFT_END, SHIFT_START, DayRecord, terminal_of
from sandbox.clock import days_of, naive_text, period_of
from sandbox.model import World
from sandbox.plant_data import Inspection

MAX_PAGE_SIZE = 1000
MAX_PUNCH_LIMIT = 2000
# Scope key through which fault injection asks for a page shifted by that many items.
PAGE_SHIFT = "sandbox.page_shift"


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def inspection_payload(item: Inspection) -> dict[str, Any]:
    return {
        "inspection_id": item.inspection_id,
        "batch_no": item.batch_no,
        "stage": item.stage,
        "operator_badge": item.operator_badge,
        "line": item.line,
        "inspected_qty": item.inspected_qty,
        "qualified_qty": item.qualified_qty,
        "defect_codes": list(item.defect_codes),
        "inspected_at": naive_text(item.inspected_at),
    }


def _parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text and len(text) == 10 else None
    except ValueError:
        return None


def page_bounds(count: int, page: int, size: int, overlap: bool) -> tuple[int, int, int]:
    """Where a page starts and stops in the items, and the total served. With ``overlap``,
    each page starts with the previous page's last item again, as a table that grows while it
    is paged does (a planted duplicate)."""
    if not overlap or count <= size or size == 1:
        return min(count, (page - 1) * size), min(count, page * size), count
    total = count + math.ceil((count - size) / (size - 1))
    if page == 1:
        return 0, size, total
    start = size + (page - 2) * (size - 1)
    if start >= count:
        return count, count, total
    return start - 1, min(count, start + size - 1), total


def served_page(
    items: list[Any], page: int, size: int, overlap: bool, shift: int = 0
) -> tuple[list[Any], int]:
    """One page and the total. A ``shift`` of k serves it as if k rows had been inserted before
    it (k > 0: it starts k items earlier, repeating them) or removed (k < 0: it skips items),
    with the total moved by k, as a live table does between two page requests."""
    start, stop, total = page_bounds(len(items), page, size, overlap)
    if shift and start < len(items):
        length = stop - start
        start = min(len(items), max(0, start - shift))
        stop = min(len(items), start + length)
        total += shift
    return items[start:stop], total


def create_qms_app(world: World, api_key: str) -> Starlette:
    duplicated = {a.period for a in world.anomalies if a.kind == "duplicate_items"}

    @lru_cache(maxsize=32)
    def window(first: date, last: date) -> list[Inspection]:
        """The items inspected from ``first`` to ``last``, kept while it is paged through: a
        month is generated once, and no page request filters a whole month again."""
        items: list[Inspection] = []
        for n in range((last - first).days + 1):
            day = first + timedelta(days=n)
            if period_of(day) in world.periods:
                items.extend(world.plant.inspections_on(day))
        return items

    async def inspections(request: Request) -> JSONResponse:
        if not secrets.compare_digest(request.headers.get("x-api-key", ""), api_key):
            return error(401, "unauthorized", "missing or wrong X-Api-Key")
        params = request.query_params
        first, last = _parse_day(params.get("from")), _parse_day(params.get("to"))
        if first is None or last is None or last < first:
            return error(400, "bad_request", "from and to must be YYYY-MM-DD with from <= to")
        try:
            page = int(params.get("page", 1))
            size = int(params.get("page_size", 100))
        except ValueError:
            return error(400, "bad_request", "page and page_size must be integers")
        if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
            return error(400, "bad_request", f"page >= 1 and 1 <= page_size <= {MAX_PAGE_SIZE}")
        items, now = window(first, last), world.now()
        if last >= now.date():
            # Today's inspections appear as the day goes on; later days have none yet.
            items = [i for i in items if i.inspected_at <= now]
        periods = {period_of(first + timedelta(days=n)) for n in range((last - first).days + 1)}
        overlap = any(p in duplicated for p in periods)
        chunk, total = served_page(items, page, size, overlap, request.scope.get(PAGE_SHIFT, 0))
        return JSONResponse(
            {
                "total": total,
                "page": page,
                "page_size": size,
                "items": [inspection_payload(i) for i in chunk],
            }
        )

    return Starlette(routes=[Route("/qms/v1/inspections", inspections, methods=["GET"])])


def _hhmm(hour_minute: tuple[int, int]) -> str:
    return f"{hour_minute[0]:02d}:{hour_minute[1]:02d}"


def punches_of(record: DayRecord, card_no: str, line: str) -> list[dict[str, Any]]:
    device = terminal_of(line, card_no)
    found: list[dict[str, Any]] = []
    if record.arrival is not None:
        direction = None if record.direction_unknown else "in"
        found.append(
            {"card_no": card_no, "device_id": device,
             "punch_time": int(record.arrival.timestamp()), "direction": direction}
        )  # fmt: skip
        if record.tapped_twice:
            found.append(
                {"card_no": card_no, "device_id": device,
                 "punch_time": int(record.arrival.timestamp()) + 41, "direction": direction}
            )  # fmt: skip
    if record.departure is not None:
        found.append(
            {"card_no": card_no, "device_id": device,
             "punch_time": int(record.departure.timestamp()), "direction": "out"}
        )  # fmt: skip
    return found


def create_attendance_app(world: World, username: str, password: str) -> Starlette:
    expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    people = world.company.by_job_number()

    def authorised(request: Request) -> bool:
        return secrets.compare_digest(request.headers.get("authorization", ""), expected)

    @lru_cache(maxsize=8)
    def month_shifts(month: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for person in world.employees:
            if not person.uses_terminals:
                continue
            for day in days_of(month, world.as_of):
                if not person.employed_on(day):
                    continue
                card = person.badge_on(day) or person.current
                entry: dict[str, Any] = {"card_no": card.card_no, "date": day.isoformat()}
                if day.weekday() < 5:
                    entry.update(shift_start=_hhmm(SHIFT_START), shift_end=_hhmm(SHIFT_END))
                else:
                    entry["rest"] = True
                items.append(entry)
        return items

    @lru_cache(maxsize=64)
    def day_punches(day: date) -> list[dict[str, Any]]:
        """One day's punches, sorted once and kept while the day is paged through."""
        found: list[dict[str, Any]] = []
        for record in world.attendance.on(day):
            person = people[record.job_number]
            if person.uses_terminals:
                found.extend(punches_of(record, (person.badge_on(day) or person.current).card_no,
                                        person.line or ""))  # fmt: skip
        found.sort(key=lambda p: (p["punch_time"], p["card_no"]))
        return found

    async def shifts(request: Request) -> JSONResponse:
        if not authorised(request):
            return JSONResponse({"error": "unauthorized"}, status_code=401,
                                headers={"WWW-Authenticate": 'Basic realm="att"'})  # fmt: skip
        month = request.query_params.get("month", "")
        if month not in world.periods:
            return error(400, "bad_request", "month must be YYYY-MM within the kept history")
        return JSONResponse({"month": month, "items": month_shifts(month)})

    async def punches(request: Request) -> JSONResponse:
        if not authorised(request):
            return JSONResponse({"error": "unauthorized"}, status_code=401,
                                headers={"WWW-Authenticate": 'Basic realm="att"'})  # fmt: skip
        params = request.query_params
        day = _parse_day(params.get("date"))
        if day is None or period_of(day) not in world.periods:
            return error(400, "bad_request", "date must be YYYY-MM-DD within the kept history")
        try:
            offset = int(params.get("offset", 0))
            limit = int(params.get("limit", 500))
        except ValueError:
            return error(400, "bad_request", "offset and limit must be integers")
        if offset < 0 or not 1 <= limit <= MAX_PUNCH_LIMIT:
            return error(400, "bad_request", f"offset >= 0 and 1 <= limit <= {MAX_PUNCH_LIMIT}")
        now = int(world.now().timestamp())
        found = day_punches(day)
        if found and found[-1]["punch_time"] > now:
            found = [p for p in found if p["punch_time"] <= now]
        return JSONResponse(
            {"items": found[offset : offset + limit], "has_more": offset + limit < len(found)}
        )

    return Starlette(
        routes=[
            Route("/att/api/shifts", shifts, methods=["GET"]),
            Route("/att/api/punches", punches, methods=["GET"]),
        ]
    )
