"""Sign-in with DingTalk against the sandbox over real HTTP: the login page standing in for the QR
scan, the single-use code exchange and ``users/me`` of the new API (HTTP 4xx errors with
``{code, message, requestid}``), and the legacy directory look-ups a portal makes after it
(errcode envelopes, errors wrapped in 88), as specs/dingtalk.md describes them."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sandbox.apps.dingtalk_login import HR_DEPT_ID, HR_ROLE, hr_userids
from sandbox.model import World, generate_world
from sandbox.serving import SandboxServer

PORTAL = "https://portal.example/auth/dingtalk/callback?next=%2Fkpi"
LINK = re.compile(r'<a data-userid="([^"]+)" href="([^"]+)">')


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(11, 30, date(2026, 11, 22))


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[SandboxServer]:
    with SandboxServer(world, systems=("dingtalk",)) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.dingtalk.url, follow_redirects=False) as http:
        yield http


def auth_params(server: SandboxServer, **extra: str) -> dict[str, str]:
    return {
        "client_id": server.endpoints["KPIHUB_DINGTALK_APP_KEY"],
        "redirect_uri": PORTAL,
        "response_type": "code",
        "scope": "openid",
        "state": "s t/ä&=1",
        "prompt": "consent",
        **extra,
    }


def sign_in(client: httpx.Client, server: SandboxServer, userid: str) -> str:
    answer = client.get("/oauth2/auth", params=auth_params(server, login_as=userid))
    assert answer.status_code == 302
    return parse_qs(urlsplit(answer.headers["location"]).query)["authCode"][0]


def exchange(client: httpx.Client, server: SandboxServer, **body: str) -> httpx.Response:
    return client.post(
        "/v1.0/oauth2/userAccessToken",
        json={
            "clientId": server.endpoints["KPIHUB_DINGTALK_APP_KEY"],
            "clientSecret": server.endpoints["KPIHUB_DINGTALK_APP_SECRET"],
            "grantType": "authorization_code",
            **body,
        },
    )


def app_token(client: httpx.Client, server: SandboxServer) -> str:
    answer = client.get(
        "/gettoken",
        params={
            "appkey": server.endpoints["KPIHUB_DINGTALK_APP_KEY"],
            "appsecret": server.endpoints["KPIHUB_DINGTALK_APP_SECRET"],
        },
    ).json()
    return str(answer["access_token"])


def topapi(client: httpx.Client, server: SandboxServer, path: str, body: dict[str, Any]) -> Any:
    answer = client.post(path, params={"access_token": app_token(client, server)}, json=body)
    assert answer.status_code == 200
    return answer.json()


def new_api_error(answer: httpx.Response) -> dict[str, str]:
    body = answer.json()
    assert set(body) == {"code", "message", "requestid"}
    assert body["requestid"]
    return {"code": body["code"], "message": body["message"]}


def test_the_endpoints_point_the_portal_at_the_sandbox(server: SandboxServer) -> None:
    env = server.endpoints
    assert env["KPIHUB_DINGTALK_LOGIN_URL"] == server.dingtalk.url
    assert env["KPIHUB_DINGTALK_API_URL"] == server.dingtalk.url
    assert env["KPIHUB_PORTAL_HR_ROLES"] == HR_ROLE == "人事"


def test_the_login_page_lists_every_employee_with_a_link(
    client: httpx.Client, server: SandboxServer, world: World
) -> None:
    answer = client.get("/oauth2/auth", params=auth_params(server))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    text = answer.text
    assert "<title>钉钉登录 · 选择登录身份</title>" in text
    assert "扫码" in text
    links = dict(LINK.findall(text))
    assert set(links) == {p.userid for p in world.employees}
    for person in world.employees:
        query = parse_qs(urlsplit(html.unescape(links[person.userid])).query)
        assert query["login_as"] == [person.userid]
        assert query["client_id"] == [server.endpoints["KPIHUB_DINGTALK_APP_KEY"]]
        assert query["redirect_uri"] == [PORTAL]
        assert query["state"] == ["s t/ä&=1"]
        assert html.escape(person.name) in text
        assert person.job_number in text
    names = {d.dept_id: d.name for d in world.departments}
    for dept_id in {p.home_dept for p in world.employees}:
        assert f"<h2>{html.escape(names[dept_id])}</h2>" in text
    leaders = sum(p.leader for p in world.employees)
    assert text.count('<span class="badge">主管</span>') == leaders
    assert text.count(f'<span class="badge">{HR_ROLE}</span>') == len(hr_userids(world)) == 2


def test_login_as_redirects_with_a_code_and_the_same_state(
    client: httpx.Client, server: SandboxServer, world: World
) -> None:
    person = world.employees[0]
    answer = client.get("/oauth2/auth", params=auth_params(server, login_as=person.userid))
    assert answer.status_code == 302
    target = urlsplit(answer.headers["location"])
    assert (target.scheme, target.netloc, target.path) == (
        "https",
        "portal.example",
        "/auth/dingtalk/callback",
    )
    query = parse_qs(target.query)
    assert set(query) == {"next", "authCode", "state"}
    assert query["next"] == ["/kpi"]
    assert query["state"] == ["s t/ä&=1"]
    assert len(query["authCode"][0]) >= 16

    no_state = {
        k: v for k, v in auth_params(server, login_as=person.userid).items() if k != "state"
    }
    answer = client.get("/oauth2/auth", params=no_state)
    assert answer.status_code == 302
    assert set(parse_qs(urlsplit(answer.headers["location"]).query)) == {"next", "authCode"}


@pytest.mark.parametrize(
    ("override", "parameter"),
    [
        ({"client_id": "dingnotthisapp"}, "client_id"),
        ({"redirect_uri": "/relative/callback"}, "redirect_uri"),
        ({"redirect_uri": "ftp://portal.example/cb"}, "redirect_uri"),
        ({"response_type": "token"}, "response_type"),
        ({"login_as": "nobody"}, "login_as"),
    ],
)
def test_a_bad_login_request_gets_a_400_page_naming_the_parameter(
    client: httpx.Client, server: SandboxServer, override: dict[str, str], parameter: str
) -> None:
    answer = client.get("/oauth2/auth", params=auth_params(server, **override))
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert f'data-parameter="{parameter}"' in answer.text
    assert "authCode" not in answer.headers.get("location", "")


def test_a_code_exchanges_once(client: httpx.Client, server: SandboxServer, world: World) -> None:
    person = world.employees[3]
    code = sign_in(client, server, person.userid)
    first = exchange(client, server, code=code)
    assert first.status_code == 200
    token = first.json()
    assert set(token) == {"accessToken", "refreshToken", "expireIn", "corpId"}
    assert token["expireIn"] == 7200
    assert token["corpId"].startswith("ding")

    again = exchange(client, server, code=code)
    assert again.status_code == 400
    assert new_api_error(again) == {
        "code": "invalidParameter.authCode.notFound",
        "message": "不合法的临时授权码",
    }

    me = client.get(
        "/v1.0/contact/users/me", headers={"x-acs-dingtalk-access-token": token["accessToken"]}
    )
    assert me.status_code == 200
    assert me.json() == {
        "nick": person.name,
        "unionId": person.unionid,
        "openId": me.json()["openId"],
        "avatarUrl": "",
        "mobile": f"138{int(person.job_number[1:]):08d}",
        "email": person.email,
        "stateCode": "86",
    }
    assert me.json()["openId"]

    refreshed = exchange(
        client, server, grantType="refresh_token", refreshToken=token["refreshToken"]
    )
    assert refreshed.status_code == 200
    assert refreshed.json()["accessToken"] != token["accessToken"]
    replayed = exchange(
        client, server, grantType="refresh_token", refreshToken=token["refreshToken"]
    )
    assert replayed.status_code == 400


def test_a_wrong_secret_or_request_is_refused(
    client: httpx.Client, server: SandboxServer, world: World
) -> None:
    code = sign_in(client, server, world.employees[1].userid)
    wrong = exchange(client, server, code=code, clientSecret="not-the-secret")
    assert wrong.status_code == 400
    assert new_api_error(wrong) == {
        "code": "invalidClientIdOrSecret",
        "message": "无效的clientId或者clientSecret",
    }
    unknown = exchange(client, server, code="made-up-code")
    assert unknown.status_code == 400
    assert new_api_error(unknown)["code"] == "invalidParameter.authCode.notFound"
    no_code = exchange(client, server)
    assert no_code.status_code == 400
    assert new_api_error(no_code)["code"] == "Missingcode"
    grant = exchange(client, server, code=code, grantType="password")
    assert grant.status_code == 400
    assert new_api_error(grant)["code"] == "invalidParameter.grantType.invalid"
    # The refused attempts did not spend the code.
    assert exchange(client, server, code=code).status_code == 200


def test_an_expired_code_is_refused(
    client: httpx.Client, server: SandboxServer, world: World
) -> None:
    code = sign_in(client, server, world.employees[2].userid)
    assert client.post("/_sandbox/oauth2/expire").status_code == 200
    answer = exchange(client, server, code=code)
    assert answer.status_code == 400
    assert new_api_error(answer)["code"] == "invalidParameter.authCode.notFound"


def test_users_me_refuses_a_bad_token(client: httpx.Client) -> None:
    for headers in ({"x-acs-dingtalk-access-token": "not-a-token"}, {}):
        answer = client.get("/v1.0/contact/users/me", headers=headers)
        assert answer.status_code == 401
        assert new_api_error(answer) == {
            "code": "InvalidAuthentication",
            "message": "不合法的access_token",
        }


def test_getbyunionid_resolves_the_signed_in_person(
    client: httpx.Client, server: SandboxServer, world: World
) -> None:
    person = world.employees[5]
    token = exchange(client, server, code=sign_in(client, server, person.userid)).json()
    me = client.get(
        "/v1.0/contact/users/me", headers={"x-acs-dingtalk-access-token": token["accessToken"]}
    ).json()
    answer = topapi(client, server, "/topapi/user/getbyunionid", {"unionid": me["unionId"]})
    assert answer["errcode"] == 0
    assert answer["result"] == {"contact_type": 0, "userid": person.userid}

    unknown = topapi(client, server, "/topapi/user/getbyunionid", {"unionid": "un-nobody"})
    assert {k: v for k, v in unknown.items() if k != "request_id"} == {
        "errcode": 88,
        "sub_code": "60121",
        "sub_msg": "找不到该用户",
        "errmsg": "ding talk error[subcode=60121,submsg=找不到该用户]",
    }


def test_the_lookups_need_the_app_token(client: httpx.Client) -> None:
    answer = client.post(
        "/topapi/user/getbyunionid", params={"access_token": "stale"}, json={"unionid": "x"}
    ).json()
    assert (answer["errcode"], answer["sub_code"]) == (88, "40014")


def test_user_get_carries_the_hr_role_and_leadership(
    client: httpx.Client, server: SandboxServer, world: World
) -> None:
    hr = hr_userids(world)
    admin_dept = sorted(
        (p for p in world.employees if p.home_dept == HR_DEPT_ID), key=lambda p: p.job_number
    )
    head = next(p for p in admin_dept if p.leader)
    first_other = next(p for p in admin_dept if p is not head)
    assert hr == {head.userid, first_other.userid}
    for person in world.employees:
        time.sleep(1 / 15)  # below the 20 calls a second the app may make
        answer = topapi(client, server, "/topapi/v2/user/get", {"userid": person.userid})
        assert answer["errcode"] == 0
        result = answer["result"]
        assert result["userid"] == person.userid
        assert result["unionid"] == person.unionid
        assert result["name"] == person.name
        assert result["job_number"] == person.job_number
        assert result["dept_id_list"] == person.dept_ids
        assert result["leader_in_dept"] == [
            {"dept_id": d, "leader": person.leader and d == person.home_dept}
            for d in person.dept_ids
        ]
        expected_roles = (
            [{"id": 3001, "name": "人事", "group_name": "职务"}] if person.userid in hr else []
        )
        assert result["role_list"] == expected_roles
        assert result["boss"] is False
        assert isinstance(result["admin"], bool)
        assert result["active"] is True
    unknown = topapi(client, server, "/topapi/v2/user/get", {"userid": "nobody"})
    assert (unknown["errcode"], unknown["sub_code"], unknown["sub_msg"]) == (
        88,
        "60121",
        "找不到该用户",
    )


def test_listid_lists_the_members_of_a_department(
    client: httpx.Client, server: SandboxServer, world: World
) -> None:
    for dept in world.departments:
        answer = topapi(client, server, "/topapi/user/listid", {"dept_id": dept.dept_id})
        assert answer["errcode"] == 0
        expected = [p.userid for p in world.employees if dept.dept_id in p.dept_ids]
        assert answer["result"] == {"userid_list": expected}
    admin_dept = topapi(client, server, "/topapi/user/listid", {"dept_id": HR_DEPT_ID})
    assert hr_userids(world) <= set(admin_dept["result"]["userid_list"])
    unknown = topapi(client, server, "/topapi/user/listid", {"dept_id": 999})
    assert (unknown["errcode"], unknown["sub_code"], unknown["sub_msg"]) == (
        88,
        "60003",
        "部门不存在",
    )


def test_the_lookups_are_rate_limited(client: httpx.Client, server: SandboxServer) -> None:
    time.sleep(1.1)
    token = app_token(client, server)
    codes = [
        client.post(
            "/topapi/user/listid", params={"access_token": token}, json={"dept_id": 1}
        ).json()
        for _ in range(25)
    ]
    assert codes[0]["errcode"] == 0
    assert any(c["errcode"] == 88 and c["sub_code"] == "90018" for c in codes)
    time.sleep(1.1)
