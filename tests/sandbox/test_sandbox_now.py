"""No system of the sandbox serves a record stamped later than the sandbox's own now; the rest of
today appears as the day goes on. The clock is pinned, so the test reads the same at any hour."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import httpx
import pyodbc
import pytest

from sandbox.clock import SHANGHAI
from sandbox.model import World, generate_world
from sandbox.serving import SandboxServer

DAY = date(2026, 11, 20)  # a Friday: punches, inspections and office attendance all happen
SEED, EMPLOYEES = 5, 60


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture(scope="module")
def clock() -> Clock:
    """Moves forward only, as the tests below run: just after midnight, noon, the day's end."""
    return Clock(datetime(2026, 11, 20, 0, 5, tzinfo=SHANGHAI))


@pytest.fixture(scope="module")
def world(clock: Clock) -> World:
    world = generate_world(SEED, EMPLOYEES, DAY)
    world.clock = clock
    return world


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[SandboxServer]:
    with SandboxServer(world, systems=("crm", "dingtalk", "qms", "attendance", "erp")) as running:
        yield running


def _local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)


def _ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, SHANGHAI)


def crm_times(server: SandboxServer) -> list[datetime]:
    token = httpx.post(
        f"{server.crm.url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": server.endpoints["KPIHUB_CRM_CLIENT_ID"],
            "client_secret": server.endpoints["KPIHUB_CRM_CLIENT_SECRET"],
        },
    ).json()["access_token"]
    found: list[datetime] = []
    with httpx.Client(base_url=server.crm.url, headers={"Authorization": f"Bearer {token}"}) as c:
        for resource in ("users", "orders", "leads", "customers", "surveys"):
            cursor = None
            while True:
                params = {"limit": "500", **({"cursor": cursor} if cursor else {})}
                response = c.get(f"/api/v2/{resource}", params=params)
                if response.status_code == 429:
                    time.sleep(1)
                    continue
                body = response.json()
                for row in body["data"]:
                    stamps = [row["updated_at"], row.get("created_at"), row.get("submitted_at")]
                    found.extend(datetime.fromisoformat(s) for s in stamps if s)
                cursor = body["next_cursor"]
                if cursor is None:
                    break
    return found


def qms_times(server: SandboxServer) -> list[datetime]:
    headers = {"X-Api-Key": server.endpoints["KPIHUB_QMS_API_KEY"]}
    found: list[datetime] = []
    page = 1
    while True:
        body = httpx.get(
            f"{server.qms.url}/qms/v1/inspections",
            params={"from": "2026-11-16", "to": "2026-11-30", "page": page, "page_size": 1000},
            headers=headers,
        ).json()
        found.extend(_local(i["inspected_at"]) for i in body["items"])
        if page * 1000 >= body["total"]:
            return found
        page += 1


def punch_times(server: SandboxServer) -> list[datetime]:
    auth = (
        server.endpoints["KPIHUB_ATTENDANCE_USERNAME"],
        server.endpoints["KPIHUB_ATTENDANCE_PASSWORD"],
    )
    found: list[datetime] = []
    for day in ("2026-11-19", "2026-11-20"):
        offset = 0
        while True:
            body = httpx.get(
                f"{server.attendance.url}/att/api/punches",
                params={"date": day, "offset": offset, "limit": 2000},
                auth=auth,
            ).json()
            found.extend(datetime.fromtimestamp(p["punch_time"], SHANGHAI) for p in body["items"])
            if not body["has_more"]:
                break
            offset += 2000
    return found


def dingtalk_call(server: SandboxServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    token = httpx.get(
        f"{server.dingtalk.url}/gettoken",
        params={
            "appkey": server.endpoints["KPIHUB_DINGTALK_APP_KEY"],
            "appsecret": server.endpoints["KPIHUB_DINGTALK_APP_SECRET"],
        },
    ).json()["access_token"]
    while True:
        answer = httpx.post(
            f"{server.dingtalk.url}{path}", params={"access_token": token}, json=body
        ).json()
        if answer.get("sub_code") != "90018" and answer.get("errcode") != 90018:
            assert answer["errcode"] == 0, answer
            return dict(answer)
        time.sleep(1)


def dingtalk_times(server: SandboxServer, world: World) -> list[datetime]:
    office = [e.userid for e in world.employees if not e.uses_terminals]
    found: list[datetime] = []
    for first in range(0, len(office), 50):
        offset = 0
        while True:
            body = dingtalk_call(
                server,
                "/attendance/list",
                {
                    "workDateFrom": "2026-11-16 00:00:00",
                    "workDateTo": "2026-11-22 00:00:00",
                    "userIdList": office[first : first + 50],
                    "offset": offset,
                    "limit": 50,
                },
            )
            for record in body["recordresult"]:
                found.append(_ms(record["userCheckTime"]))
                found.append(_ms(record["baseCheckTime"]))
            if not body["hasMore"]:
                break
            offset += 50
    start = int(datetime(2026, 11, 1, tzinfo=SHANGHAI).timestamp() * 1000)
    for code in ("PROC-LEAVE", "PROC-TRIP"):
        cursor = 0
        while True:
            listed = dingtalk_call(
                server,
                "/topapi/processinstance/listids",
                {"process_code": code, "start_time": start, "size": 20, "cursor": cursor},
            )["result"]
            for instance_id in listed["list"]:
                answer = dingtalk_call(
                    server, "/topapi/processinstance/get", {"process_instance_id": instance_id}
                )
                detail = answer.get("process_instance") or answer["result"]["process_instance"]
                found.append(_local(detail["create_time"]))
                if detail["finish_time"]:
                    found.append(_local(detail["finish_time"]))
                else:
                    assert (detail["status"], detail["result"]) == ("RUNNING", "")
            if "next_cursor" not in listed:
                break
            cursor = listed["next_cursor"]
    return found


def erp_times(server: SandboxServer) -> list[datetime]:
    found: list[datetime] = []
    with pyodbc.connect(server.endpoints["KPIHUB_ERP_ODBC"]) as conn:
        for table in ("HR_EMP", "HR_EMP_BADGE", "AR_RECEIPT", "SAL_TARGET", "PRD_INSTOCK"):
            for (stamp,) in conn.execute(f"SELECT FMODIFYDATE FROM {table}").fetchall():
                moment = stamp if isinstance(stamp, datetime) else datetime.fromisoformat(stamp)
                found.append(moment.replace(tzinfo=SHANGHAI))
    return found


def every_time(server: SandboxServer, world: World) -> dict[str, list[datetime]]:
    return {
        "crm": crm_times(server),
        "qms": qms_times(server),
        "attendance": punch_times(server),
        "dingtalk": dingtalk_times(server, world),
        "erp": erp_times(server),
    }


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 20, 0, 5, tzinfo=SHANGHAI),
        datetime(2026, 11, 20, 12, 0, tzinfo=SHANGHAI),
        datetime(2026, 11, 20, 23, 59, 59, tzinfo=SHANGHAI),
    ],
    ids=["just-after-midnight", "noon", "end-of-day"],
)
def test_no_system_serves_a_record_stamped_after_now(
    server: SandboxServer, world: World, clock: Clock, moment: datetime
) -> None:
    clock.moment = moment
    server.tick()
    seen = every_time(server, world)
    for system, stamps in seen.items():
        assert stamps, system
        later = [s for s in stamps if s > moment]
        assert later == [], f"{system} served {len(later)} records after {moment}: {later[:3]}"


def test_the_rest_of_today_appears_as_the_day_goes_on() -> None:
    clock = Clock(datetime(2026, 11, 20, 8, 45, tzinfo=SHANGHAI))
    world = generate_world(SEED, EMPLOYEES, DAY)
    world.clock = clock
    with SandboxServer(world, systems=("crm", "dingtalk", "qms", "attendance", "erp")) as server:
        morning = every_time(server, world)
        clock.moment = datetime(2026, 11, 20, 23, 59, 59, tzinfo=SHANGHAI)
        written = server.tick()
        evening = every_time(server, world)
    for system in ("crm", "qms", "attendance", "dingtalk", "erp"):
        assert len(evening[system]) > len(morning[system]), system
        assert max(evening[system]) > datetime(2026, 11, 20, 8, 45, tzinfo=SHANGHAI), system
    # The ERP file took in the rows of the day (receipts, production) as they happened.
    assert written == len(evening["erp"]) - len(morning["erp"]) > 0


def test_a_world_of_a_past_day_serves_the_whole_day() -> None:
    world = generate_world(SEED, EMPLOYEES, DAY)
    assert world.now() == datetime(2026, 11, 20, 23, 59, 59, tzinfo=SHANGHAI)
