"""How fast the sandbox starts and serves a range of days, measured with a plain HTTP client
(httpx, no hub code), so a benchmark of the hub can tell whether the sandbox is what limits it.

Each system is pulled the way its spec says a client must: the CRM's five resources by cursor
(limit 500, honouring 429 ``Retry-After``), DingTalk's directory and attendance results
(50 users x 50 records a page, sleeping on 90018), the QMS range by pages of 1000, the attendance
terminals' shifts of each month and every day's punches by 2000. The CRM (10 requests/s) and
DingTalk (20 per second per API) rate limits are the specs', so their rates are capped by design;
the QMS and the terminals have none and show what the server itself can do. At that cap a
10,000-person month of DingTalk attendance takes minutes whatever the server does, so only its
first 7-day window is pulled: the rate is the same.

Rates are per stream (``system/stream``), so each can be set beside the hub's for the same one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx

from sandbox.clock import SHANGHAI, period_bounds

CRM_RESOURCES = ("users", "customers", "leads", "orders", "surveys")
EVERYTHING = date(1970, 1, 1)
"""A first day before any record: a CRM pull from it reads every record, as a first pull does."""


@dataclass
class Rate:
    system: str
    stream: str = ""
    pages: int = 0
    records: int = 0
    seconds: float = 0.0
    throttled: int = 0

    @property
    def name(self) -> str:
        return f"{self.system}/{self.stream}" if self.stream else self.system

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


class _Meter:
    """Counts the pages and records of one stream while it is pulled."""

    def __init__(self, system: str, stream: str = "") -> None:
        self.rate = Rate(system, stream)
        self._started = time.perf_counter()

    def page(self, records: int) -> None:
        self.rate.pages += 1
        self.rate.records += records

    def done(self) -> Rate:
        self.rate.seconds = time.perf_counter() - self._started
        return self.rate


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _months(first: date, last: date) -> list[str]:
    months = sorted({f"{d.year:04d}-{d.month:02d}" for d in _days(first, last)})
    return months


def _crm(client: httpx.Client, env: dict[str, str], first: date, last: date) -> list[Rate]:
    rates: list[Rate] = []
    base = env["KPIHUB_CRM_BASE_URL"]
    token = client.post(
        f"{base}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": env["KPIHUB_CRM_CLIENT_ID"],
            "client_secret": env["KPIHUB_CRM_CLIENT_SECRET"],
        },
    ).json()["access_token"]
    since = datetime.combine(first, datetime.min.time(), SHANGHAI)
    until = datetime.combine(last + timedelta(days=1), datetime.min.time(), SHANGHAI)
    headers = {"Authorization": f"Bearer {token}"}
    for resource in CRM_RESOURCES:
        meter = _Meter("crm", resource)
        cursor: str | None = None
        while True:
            params = {"updated_since": since.isoformat(), "limit": "500"}
            if cursor:
                params["cursor"] = cursor
            response = client.get(f"{base}/api/v2/{resource}", params=params, headers=headers)
            if response.status_code == 429:
                meter.rate.throttled += 1
                time.sleep(max(0.05, float(response.headers.get("Retry-After", "0"))))
                continue
            response.raise_for_status()
            body = response.json()
            rows = body["data"]
            meter.page(len(rows))
            cursor = body["next_cursor"]
            # Resources are ordered by updated_at: the range ends where a later day begins.
            if cursor is None or (rows and datetime.fromisoformat(rows[-1]["updated_at"]) >= until):
                break
        rates.append(meter.done())
    return rates


def _dingtalk_call(
    client: httpx.Client, meter: _Meter, url: str, token: str, body: dict[str, Any]
) -> dict[str, Any]:
    while True:
        answer: dict[str, Any] = client.post(url, params={"access_token": token}, json=body).json()
        code = int(answer.get("sub_code") or answer["errcode"])
        if code in (90018, -1):
            meter.rate.throttled += 1
            time.sleep(0.05)
            continue
        if code != 0:
            raise RuntimeError(f"{url}: {answer}")
        return answer


def _dingtalk(client: httpx.Client, env: dict[str, str], first: date, last: date) -> list[Rate]:
    meter = _Meter("dingtalk")
    base = env["KPIHUB_DINGTALK_BASE_URL"]
    token = client.get(
        f"{base}/gettoken",
        params={
            "appkey": env["KPIHUB_DINGTALK_APP_KEY"],
            "appsecret": env["KPIHUB_DINGTALK_APP_SECRET"],
        },
    ).json()["access_token"]
    queue, users = [1], {}
    while queue:
        dept = queue.pop(0)
        found = _dingtalk_call(
            client, meter, f"{base}/topapi/v2/department/listsub", token, {"dept_id": dept}
        )["result"]
        meter.page(len(found))
        queue.extend(d["dept_id"] for d in found)
        cursor: int | None = 0
        while cursor is not None:
            page = _dingtalk_call(
                client,
                meter,
                f"{base}/topapi/v2/user/list",
                token,
                {"dept_id": dept, "cursor": cursor, "size": 100},
            )["result"]
            meter.page(len(page["list"]))
            users.update((u["userid"], u) for u in page["list"])
            cursor = page["next_cursor"] if page["has_more"] else None
    ids = sorted(users)
    for start, stop in list(_weeks(first, last))[:1]:
        for chunk in range(0, len(ids), 50):
            offset = 0
            while True:
                page = _dingtalk_call(
                    client,
                    meter,
                    f"{base}/attendance/list",
                    token,
                    {
                        "workDateFrom": f"{start} 00:00:00",
                        "workDateTo": f"{stop} 00:00:00",
                        "userIdList": ids[chunk : chunk + 50],
                        "offset": offset,
                        "limit": 50,
                    },
                )
                meter.page(len(page["recordresult"]))
                if not page["hasMore"]:
                    break
                offset += 50
    return [meter.done()]


def _weeks(first: date, last: date) -> Iterator[tuple[date, date]]:
    days = _days(first, last)
    for n in range(0, len(days), 7):
        week = days[n : n + 7]
        yield week[0], week[-1]


def _qms(client: httpx.Client, env: dict[str, str], first: date, last: date) -> list[Rate]:
    meter = _Meter("qms", "inspections")
    page = 1
    while True:
        response = client.get(
            f"{env['KPIHUB_QMS_BASE_URL']}/qms/v1/inspections",
            params={"from": str(first), "to": str(last), "page": page, "page_size": 1000},
            headers={"X-Api-Key": env["KPIHUB_QMS_API_KEY"]},
        )
        response.raise_for_status()
        body = response.json()
        meter.page(len(body["items"]))
        if not body["items"]:
            return [meter.done()]
        page += 1


def _attendance(client: httpx.Client, env: dict[str, str], first: date, last: date) -> list[Rate]:
    base = env["KPIHUB_ATTENDANCE_BASE_URL"]
    auth = (env["KPIHUB_ATTENDANCE_USERNAME"], env["KPIHUB_ATTENDANCE_PASSWORD"])
    shifts_meter = _Meter("attendance", "shifts")
    for month in _months(first, last):
        shifts = client.get(f"{base}/att/api/shifts", params={"month": month}, auth=auth)
        shifts.raise_for_status()
        shifts_meter.page(len(shifts.json()["items"]))
    meter = _Meter("attendance", "punches")
    for day in _days(first, last):
        offset = 0
        while True:
            response = client.get(
                f"{base}/att/api/punches",
                params={"date": str(day), "offset": offset, "limit": 2000},
                auth=auth,
            )
            response.raise_for_status()
            body = response.json()
            meter.page(len(body["items"]))
            if not body["has_more"]:
                break
            offset += 2000
    return [shifts_meter.done(), meter.done()]


Pull = Callable[[httpx.Client, dict[str, str], date, date], list[Rate]]
PULLS: dict[str, Pull] = {
    "crm": _crm,
    "dingtalk": _dingtalk,
    "qms": _qms,
    "attendance": _attendance,
}


def pull_range(
    endpoints: dict[str, str], first: date, last: date, systems: tuple[str, ...]
) -> list[Rate]:
    """Pull the days ``first`` to ``last`` from each of ``systems``, one after the other, and
    time each stream."""
    with httpx.Client(timeout=60.0) as client:
        return [
            rate for system in systems for rate in PULLS[system](client, endpoints, first, last)
        ]


def pull_month(endpoints: dict[str, str], period: str, systems: tuple[str, ...]) -> list[Rate]:
    """Pull ``period`` from each of ``systems``, one after the other, and time each system."""
    first, last = period_bounds(period)
    rates = pull_range(endpoints, first, last, systems)
    totals: list[Rate] = []
    for system in systems:
        mine = [r for r in rates if r.system == system]
        totals.append(
            Rate(
                system,
                pages=sum(r.pages for r in mine),
                records=sum(r.records for r in mine),
                seconds=sum(r.seconds for r in mine),
                throttled=sum(r.throttled for r in mine),
            )
        )
    return totals
