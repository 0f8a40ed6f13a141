"""The sandbox DingTalk's work notifications (asyncsend_v2, getsendresult) and the documented
shape of processinstance/get, as specs/dingtalk.md describes them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from sandbox.model import World, generate_world
from sandbox.serving import SandboxServer, credentials

SEND = "/topapi/message/corpconversation/asyncsend_v2"
RESULT = "/topapi/message/corpconversation/getsendresult"


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(6, 20, date(2026, 11, 22))


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[SandboxServer]:
    with SandboxServer(world, systems=("dingtalk",)) as running:
        yield running


def token(server: SandboxServer) -> str:
    env = server.endpoints
    answer = httpx.get(
        f"{server.dingtalk.url}/gettoken",
        params={
            "appkey": env["KPIHUB_DINGTALK_APP_KEY"],
            "appsecret": env["KPIHUB_DINGTALK_APP_SECRET"],
        },
    ).json()
    return str(answer["access_token"])


def call(server: SandboxServer, path: str, body: dict[str, Any], auth: str | None = None) -> Any:
    response = httpx.post(
        f"{server.dingtalk.url}{path}",
        params={"access_token": auth if auth is not None else token(server)},
        json=body,
    )
    assert response.status_code == 200
    return response.json()


def agent(server: SandboxServer) -> int:
    return int(server.endpoints["KPIHUB_DINGTALK_AGENT_ID"])


def test_the_agent_id_is_published_with_the_app_credentials(server: SandboxServer) -> None:
    assert server.endpoints["KPIHUB_DINGTALK_AGENT_ID"] == credentials(6)["dingtalk_agent_id"]
    assert server.endpoints["KPIHUB_DINGTALK_AGENT_ID"].isdigit()


def test_asyncsend_answers_a_task_and_keeps_the_notification(
    server: SandboxServer, world: World
) -> None:
    notices = server.dingtalk.server.config.app.state.notifications
    before = len(notices.sent)
    a, b = world.employees[0].userid, world.employees[1].userid
    msg = {"msgtype": "text", "text": {"content": "良率低于90%"}}
    answer = call(
        server, SEND, {"agent_id": agent(server), "userid_list": f"{a},{b},nobody", "msg": msg}
    )
    assert sorted(answer) == ["errcode", "errmsg", "request_id", "task_id"]
    assert (answer["errcode"], answer["errmsg"]) == (0, "ok")
    assert notices.sent[before:] == [
        {
            "task_id": answer["task_id"],
            "agent_id": str(agent(server)),
            "userid_list": [a, b, "nobody"],
            "to_all_user": False,
            "msg": msg,
        }
    ]
    result = call(server, RESULT, {"agent_id": agent(server), "task_id": answer["task_id"]})
    assert sorted(result) == ["errcode", "errmsg", "request_id", "send_result"]
    assert result["send_result"] == {
        "invalid_user_id_list": ["nobody"],
        "forbidden_user_id_list": [],
        "failed_user_id_list": [],
        "read_user_id_list": [],
        "unread_user_id_list": [a, b],
        "invalid_dept_id_list": [],
    }


@pytest.mark.parametrize(
    ("body", "sub_msg"),
    [
        (
            {"userid_list": "u1", "msg": {"msgtype": "text", "text": {"content": "x"}}},
            "缺少参数 agent_id",
        ),
        (
            {"agent_id": 1, "userid_list": "u1", "msg": {"msgtype": "text", "text": {}}},
            "不合法的agent_id",
        ),
        (
            {"agent_id": "AGENT", "msg": {"msgtype": "text", "text": {"content": "x"}}},
            "缺少参数 userid_list",
        ),
        ({"agent_id": "AGENT", "userid_list": "u1", "msg": {"msgtype": "sms"}}, "缺少参数 msg"),
        (
            {"agent_id": "AGENT", "userid_list": "u1", "msg": {"msgtype": "markdown"}},
            "缺少参数 msg.markdown",
        ),
    ],
)
def test_asyncsend_refuses_what_is_missing_or_wrong(
    server: SandboxServer, body: dict[str, Any], sub_msg: str
) -> None:
    notices = server.dingtalk.server.config.app.state.notifications
    before = len(notices.sent)
    if body.get("agent_id") == "AGENT":
        body = {**body, "agent_id": agent(server)}
    answer = call(server, SEND, body)
    assert (answer["errcode"], answer["sub_code"], answer["sub_msg"]) == (88, "40035", sub_msg)
    assert len(notices.sent) == before


def test_notifications_need_a_valid_token(server: SandboxServer) -> None:
    msg = {"msgtype": "text", "text": {"content": "x"}}
    answer = call(server, SEND, {"agent_id": agent(server), "userid_list": "u", "msg": msg}, "bad")
    assert (answer["errcode"], answer["sub_code"]) == (88, "40014")
    unknown = call(server, RESULT, {"agent_id": agent(server), "task_id": 1})
    assert (unknown["errcode"], unknown["sub_code"]) == (88, "40035")


def test_processinstance_get_puts_the_instance_beside_errcode(
    server: SandboxServer, world: World
) -> None:
    start = int((world.now() - timedelta(days=100)).timestamp() * 1000)
    listed = call(
        server,
        "/topapi/processinstance/listids",
        {"process_code": "PROC-LEAVE", "start_time": start, "size": 20, "cursor": 0},
    )
    instance_id = listed["result"]["list"][0]
    answer = call(server, "/topapi/processinstance/get", {"process_instance_id": instance_id})
    assert sorted(answer) == ["errcode", "errmsg", "process_instance", "request_id"]
    assert answer["errcode"] == 0
    assert answer["process_instance"]["status"] in {
        "RUNNING",
        "COMPLETED",
        "TERMINATED",
        "CANCELED",
    }
    missing = call(server, "/topapi/processinstance/get", {"process_instance_id": "nope"})
    assert (missing["errcode"], missing["sub_code"]) == (88, "40035")
