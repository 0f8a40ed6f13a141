"""The sandbox systems behave as the specs say, deterministically, over real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date, datetime

import httpx
import pytest

from sandbox.apps.crm import order_payload, user_payload
from sandbox.apps.limits import SlidingWindowLimiter
from sandbox.clock import SHANGHAI
from sandbox.ground_truth import truth
from sandbox.model import generate_world
from sandbox.serving import SandboxServer

AS_OF = date(2026, 11, 22)


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(generate_world(3, 40, AS_OF)) as running:
        yield running


def crm_token(server: SandboxServer) -> str:
    response = httpx.post(
        f"{server.crm.url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": server.endpoints["KPIHUB_CRM_CLIENT_ID"],
            "client_secret": server.endpoints["KPIHUB_CRM_CLIENT_SECRET"],
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 3600)
    return str(body["access_token"])


def all_pages(server: SandboxServer, resource: str, **params: str) -> list[dict]:
    headers = {"Authorization": f"Bearer {crm_token(server)}"}
    items: list[dict] = []
    cursor = None
    with httpx.Client(base_url=server.crm.url, headers=headers) as client:
        while True:
            query = {"limit": "37", **params, **({"cursor": cursor} if cursor else {})}
            response = client.get(f"/api/v2/{resource}", params=query)
            if response.status_code == 429:
                time.sleep(1)
                continue
            assert response.status_code == 200, response.text
            body = response.json()
            items.extend(body["data"])
            cursor = body["next_cursor"]
            if cursor is None:
                time.sleep(1.0)  # leave the next test a fresh rate-limit window
                return items


def test_same_seed_same_bytes_and_different_seed_differs() -> None:
    def dump(seed: int) -> str:
        world = generate_world(seed, 50, AS_OF)
        return json.dumps(
            {
                "orders": [order_payload(o) for o in world.orders],
                "users": [user_payload(u) for u in world.crm_users],
                "truth": [
                    [r.job_number, r.kpi_code, r.period, str(r.value)]
                    for p in world.periods
                    for r in truth(world, p)
                ],
                "people": [[e.job_number, e.name, e.userid, e.dept_ids] for e in world.employees],
            },
            ensure_ascii=False,
        )

    assert dump(11) == dump(11)
    assert dump(11) != dump(12)


def test_the_company_has_the_messy_cases() -> None:
    world = generate_world(42, 200, AS_OF)
    assert sum(1 for e in world.employees if len(e.dept_ids) == 2) >= 10
    assert [u.id for u in world.crm_users if u.employee_no is None and u.job_number] != []
    utc = [o for o in world.orders if o.utc_rendering]
    assert len(utc) > 10
    late = [
        o
        for o in world.orders
        if o.status == "cancelled" and o.updated_at.strftime("%Y-%m") != o.period
    ]
    assert late, "some orders must be cancelled after their month closed"
    assert world.periods == [
        "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"
    ]  # fmt: skip
    assert max(o.updated_at for o in world.orders) <= world.end


def test_cursor_paging_returns_every_order_exactly_once(server: SandboxServer) -> None:
    items = all_pages(server, "orders")
    assert [i["id"] for i in items] == [o.id for o in server.world.orders]
    # 236 generated orders and one planted contract-amount spike (one per 100 people, at least one)
    assert len({i["id"] for i in items}) == len(server.world.orders) == 237
    # What is served is byte for byte what a fresh world of the same seed renders.
    fresh = generate_world(3, 40, AS_OF)
    assert json.dumps(items, ensure_ascii=False) == json.dumps(
        [order_payload(o) for o in fresh.orders], ensure_ascii=False
    )
    users = all_pages(server, "users")
    assert json.dumps(users, ensure_ascii=False) == json.dumps(
        sorted(
            (user_payload(u) for u in fresh.crm_users), key=lambda u: (u["updated_at"], u["id"])
        ),
        ensure_ascii=False,
    )
    # Two salespeople were set up without a job number (matched by e-mail), plus the integration
    # account, which is nobody in the directory.
    assert sorted((u["id"], u["email"]) for u in users if u["employee_no"] is None) == [
        ("U0999", "integration@crm.xingchen.example"),
        ("U1003", "e00003@xingchen.example"),
        ("U1011", "e00011@xingchen.example"),
    ]
    sample = items[0]
    assert set(sample) == {
        "id", "customer_id", "owner_id", "amount", "currency", "signed_at", "status",
        "updated_at", "is_deleted",
    }  # fmt: skip


def test_updated_since_filters(server: SandboxServer) -> None:
    since = "2026-10-01T00:00:00+08:00"
    items = all_pages(server, "orders", updated_since=since)
    expected = [o.id for o in server.world.orders if o.updated_at.isoformat() >= "2026-10-01"]
    assert [i["id"] for i in items] == expected
    assert all(i["updated_at"] >= "2026-10-01T00:00:00+08:00" for i in items)


def test_crm_refuses_bad_clients_expired_tokens_and_big_pages(server: SandboxServer) -> None:
    bad = httpx.post(
        f"{server.crm.url}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
    )
    assert (bad.status_code, bad.json()["error"]) == (401, "invalid_client")
    unknown = httpx.get(f"{server.crm.url}/api/v2/orders", headers={"Authorization": "Bearer nope"})
    assert (unknown.status_code, unknown.json()["error"]) == (401, "invalid_token")
    headers = {"Authorization": f"Bearer {crm_token(server)}"}
    big = httpx.get(f"{server.crm.url}/api/v2/orders", params={"limit": 501}, headers=headers)
    assert big.status_code == 400
    assert big.json()["message"] == "limit must be between 1 and 500"
    garbage = httpx.get(f"{server.crm.url}/api/v2/orders", params={"cursor": "!!"}, headers=headers)
    assert (garbage.status_code, garbage.json()["error"]) == (400, "invalid_cursor")


def test_crm_rate_limit_answers_429_with_retry_after(server: SandboxServer) -> None:
    headers = {"Authorization": f"Bearer {crm_token(server)}"}
    with httpx.Client(base_url=server.crm.url, headers=headers) as client:
        statuses = [client.get("/api/v2/users", params={"limit": 1}) for _ in range(15)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, "15 requests in well under a second must hit the 10/s limit"
    assert all(r.headers["Retry-After"] in {"0", "1"} for r in limited)


def test_sliding_window_limiter() -> None:
    now = [100.0]
    limiter = SlidingWindowLimiter(2, 1.0, clock=lambda: now[0])
    assert limiter.check("a") is None
    assert limiter.check("a") is None
    assert limiter.check("a") == pytest.approx(1.0)
    assert limiter.check("b") is None
    now[0] = 100.4
    assert limiter.check("a") == pytest.approx(0.6)
    now[0] = 101.0
    assert limiter.check("a") is None
    assert SlidingWindowLimiter.header(0.6) == "0"


def test_cancel_control_changes_the_order_and_the_truth() -> None:
    world = generate_world(3, 40, AS_OF)
    order = next(o for o in world.orders if o.status == "signed" and o.period == "2026-09")
    owner = next(u for u in world.crm_users if u.id == order.owner_id)
    before = {r.job_number: r.value for r in truth(world, "2026-09", ("contract_amount",))}
    # The sandbox's own clock, at an afternoon of its last day: the cancellation is stamped then.
    started = datetime(2026, 11, 22, 15, 30, 5, tzinfo=SHANGHAI)
    world.clock = lambda: started
    with SandboxServer(world, systems=("crm",)) as running:
        response = httpx.post(f"{running.crm.url}/_sandbox/orders/{order.id}/cancel")
        cancelled = response.json()
        assert (cancelled["id"], cancelled["status"]) == (order.id, "cancelled")
        assert cancelled["updated_at"] == "2026-11-22T15:30:05+08:00"
        assert httpx.post(f"{running.crm.url}/_sandbox/orders/SO-X/cancel").status_code == 404
        # An incremental pull from just before the cancellation sees exactly the correction.
        changed = all_pages(running, "orders", updated_since=started.isoformat())
        assert changed == [cancelled]
    after = {r.job_number: r.value for r in truth(world, "2026-09", ("contract_amount",))}
    assert after[owner.job_number] == before[owner.job_number] - order.amount


def dingtalk(server: SandboxServer, path: str, body: dict, token: str | None = None) -> dict:
    token = (
        token
        or httpx.get(
            f"{server.dingtalk.url}/gettoken",
            params={
                "appkey": server.endpoints["KPIHUB_DINGTALK_APP_KEY"],
                "appsecret": server.endpoints["KPIHUB_DINGTALK_APP_SECRET"],
            },
        ).json()["access_token"]
    )
    response = httpx.post(f"{server.dingtalk.url}{path}", params={"access_token": token}, json=body)
    assert response.status_code == 200
    return dict(response.json())


def test_dingtalk_gettoken_and_bad_credentials(server: SandboxServer) -> None:
    url = f"{server.dingtalk.url}/gettoken"
    good = {
        "appkey": server.endpoints["KPIHUB_DINGTALK_APP_KEY"],
        "appsecret": server.endpoints["KPIHUB_DINGTALK_APP_SECRET"],
    }
    first = httpx.get(url, params=good).json()
    second = httpx.get(url, params=good).json()
    assert (first["errcode"], first["expires_in"]) == (0, 7200)
    assert first["access_token"] == second["access_token"]
    bad = httpx.get(url, params={**good, "appsecret": "wrong"})
    assert (bad.status_code, bad.json()["errcode"]) == (200, 40096)


def test_dingtalk_directory_walk(server: SandboxServer) -> None:
    root = dingtalk(server, "/topapi/v2/department/listsub", {"dept_id": 1})
    assert [d["name"] for d in root["result"]] == [
        "销售中心",
        "客户运营部",
        "生产中心",
        "研发中心",
        "行政部",
    ]
    sales = dingtalk(server, "/topapi/v2/department/listsub", {"dept_id": 210})
    assert [(d["dept_id"], d["parent_id"]) for d in sales["result"]] == [(211, 210), (212, 210)]
    missing = dingtalk(server, "/topapi/v2/department/listsub", {"dept_id": 999})
    assert (missing["errcode"], missing["sub_code"]) == (88, "60003")


def test_dingtalk_user_list_pages_and_lists_people_in_each_department(
    server: SandboxServer,
) -> None:
    twice = next(e for e in server.world.employees if len(e.dept_ids) == 2)
    for dept_id in twice.dept_ids:
        listed: list[str] = []
        cursor = 0
        while True:
            body = dingtalk(
                server, "/topapi/v2/user/list", {"dept_id": dept_id, "cursor": cursor, "size": 3}
            )
            listed.extend(u["userid"] for u in body["result"]["list"])
            if not body["result"]["has_more"]:
                break
            cursor = body["result"]["next_cursor"]
        assert twice.userid in listed
        assert len(listed) == len(set(listed))


def test_dingtalk_bad_token_is_a_wrapped_40014(server: SandboxServer) -> None:
    body = dingtalk(server, "/topapi/v2/department/listsub", {"dept_id": 1}, token="bogus")
    assert body["errcode"] == 88
    assert body["sub_code"] == "40014"
    assert body["errmsg"] == "ding talk error[subcode=40014,submsg=不合法的access_token]"
