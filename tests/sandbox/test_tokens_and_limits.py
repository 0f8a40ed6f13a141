"""Tokens that run out and the DingTalk QPS limit, each on a server of its own so that no other
test's tokens or rate-limit window interfere."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from sandbox.model import generate_world
from sandbox.serving import SandboxServer

AS_OF = date(2026, 11, 22)
TTL = 1.0


@pytest.fixture(scope="module")
def short_lived() -> Iterator[SandboxServer]:
    world = generate_world(3, 40, AS_OF)
    with SandboxServer(world, token_ttl=TTL, systems=("crm", "dingtalk")) as running:
        yield running


def crm_token(server: SandboxServer) -> str:
    body = httpx.post(
        f"{server.endpoints['KPIHUB_CRM_BASE_URL']}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": server.endpoints["KPIHUB_CRM_CLIENT_ID"],
            "client_secret": server.endpoints["KPIHUB_CRM_CLIENT_SECRET"],
        },
    ).json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 1)
    return str(body["access_token"])


def dingtalk_token(server: SandboxServer, expires_in: int = 1) -> str:
    body = httpx.get(
        f"{server.endpoints['KPIHUB_DINGTALK_BASE_URL']}/gettoken",
        params={
            "appkey": server.endpoints["KPIHUB_DINGTALK_APP_KEY"],
            "appsecret": server.endpoints["KPIHUB_DINGTALK_APP_SECRET"],
        },
    ).json()
    assert (body["errcode"], body["errmsg"], body["expires_in"]) == (0, "ok", expires_in)
    return str(body["access_token"])


def listsub(server: SandboxServer, token: str, client: httpx.Client | None = None) -> dict:
    response = (client or httpx).post(
        f"{server.endpoints['KPIHUB_DINGTALK_BASE_URL']}/topapi/v2/department/listsub",
        params={"access_token": token},
        json={"dept_id": 1, "language": "zh_CN"},
    )
    assert response.status_code == 200
    return dict(response.json())


def test_the_two_systems_publish_exactly_their_ten_variables(
    short_lived: SandboxServer,
) -> None:
    assert sorted(short_lived.endpoints) == [
        "KPIHUB_CRM_BASE_URL",
        "KPIHUB_CRM_CLIENT_ID",
        "KPIHUB_CRM_CLIENT_SECRET",
        "KPIHUB_DINGTALK_AGENT_ID",
        "KPIHUB_DINGTALK_API_URL",
        "KPIHUB_DINGTALK_APP_KEY",
        "KPIHUB_DINGTALK_APP_SECRET",
        "KPIHUB_DINGTALK_BASE_URL",
        "KPIHUB_DINGTALK_LOGIN_URL",
        "KPIHUB_PORTAL_HR_ROLES",
    ]
    assert short_lived.endpoints["KPIHUB_CRM_CLIENT_ID"] == "crm-client-3"
    assert short_lived.endpoints["KPIHUB_CRM_BASE_URL"].startswith("http://127.0.0.1:")


def test_expired_tokens_are_refused_by_both_systems(short_lived: SandboxServer) -> None:
    crm, ding = crm_token(short_lived), dingtalk_token(short_lived)
    orders = f"{short_lived.endpoints['KPIHUB_CRM_BASE_URL']}/api/v2/orders"
    headers = {"Authorization": f"Bearer {crm}"}
    assert httpx.get(orders, params={"limit": 1}, headers=headers).status_code == 200
    assert listsub(short_lived, ding)["errcode"] == 0
    time.sleep(TTL + 0.1)
    expired = httpx.get(orders, params={"limit": 1}, headers=headers)
    assert (expired.status_code, expired.json()["error"]) == (401, "invalid_token")
    refused = listsub(short_lived, ding)
    assert {k: v for k, v in refused.items() if k != "request_id"} == {
        "errcode": 88,
        "sub_code": "40014",
        "sub_msg": "不合法的access_token",
        "errmsg": "ding talk error[subcode=40014,submsg=不合法的access_token]",
    }
    fresh = dingtalk_token(short_lived)
    assert fresh != ding, "an expired token is replaced, not handed out again"
    assert listsub(short_lived, fresh)["errcode"] == 0


def test_dingtalk_answers_90018_beyond_20_calls_a_second() -> None:
    world = generate_world(3, 40, AS_OF)
    with SandboxServer(world, systems=("dingtalk",)) as running:
        token = dingtalk_token(running, expires_in=7200)
        with httpx.Client() as client:
            started = time.monotonic()
            answers = [listsub(running, token, client) for _ in range(25)]
            elapsed = time.monotonic() - started
    assert elapsed < 1.0, "the burst must fit in one window for the count below to hold"
    assert [a.get("sub_code", a["errcode"]) for a in answers] == [0] * 20 + ["90018"] * 5
    assert answers[-1]["errcode"] == 88
