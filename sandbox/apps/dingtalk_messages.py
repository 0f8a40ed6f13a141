"""DingTalk work notifications, as specs/dingtalk.md "Work notifications": ``asyncsend_v2``
takes a message for up to 5,000 users and answers a ``task_id`` at the top of the body;
``getsendresult`` tells, per task, which user ids were invalid and who has (not) read it.
Everything accepted is kept, in order, so a test can see exactly what the hub sent."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable
from typing import Any

from sandbox.apps.dingtalk_attendance import DingTalkError

MAX_USERS = 5000
MSG_TYPES = frozenset({"text", "markdown", "oa", "action_card", "link", "image", "file", "voice"})


def _users(raw: Any) -> list[str]:
    if raw is None or raw == "":
        return []
    if not isinstance(raw, str):
        raise DingTalkError("40035", "userid_list 必须是以逗号分隔的字符串")
    return [part.strip() for part in raw.split(",") if part.strip()]


class WorkNotifications:
    """The notifications one app's agent has sent. ``sent`` is what tests read."""

    def __init__(self, agent_id: str, userids: Iterable[str]) -> None:
        self.agent_id = agent_id
        self.userids = frozenset(userids)
        self._sent: list[dict[str, Any]] = []
        self._tasks: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(700_000_001)
        self._lock = threading.Lock()

    @property
    def sent(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(each) for each in self._sent]

    def _check_agent(self, body: dict[str, Any]) -> None:
        if "agent_id" not in body:
            raise DingTalkError("40035", "缺少参数 agent_id")
        if str(body["agent_id"]) != self.agent_id:
            raise DingTalkError("40035", "不合法的agent_id")

    def send(self, body: dict[str, Any]) -> dict[str, Any]:
        self._check_agent(body)
        users = _users(body.get("userid_list"))
        to_all = bool(body.get("to_all_user"))
        if not users and not to_all:
            raise DingTalkError("40035", "缺少参数 userid_list")
        if len(users) > MAX_USERS:
            raise DingTalkError("40035", "userid_list 超过 5000 人")
        msg = body.get("msg")
        if not isinstance(msg, dict) or msg.get("msgtype") not in MSG_TYPES:
            raise DingTalkError("40035", "缺少参数 msg")
        if not isinstance(msg.get(msg["msgtype"]), dict):
            raise DingTalkError("40035", f"缺少参数 msg.{msg['msgtype']}")
        with self._lock:
            task_id = next(self._ids)
            record = {
                "task_id": task_id,
                "agent_id": str(body["agent_id"]),
                "userid_list": users,
                "to_all_user": to_all,
                "msg": msg,
            }
            self._sent.append(record)
            self._tasks[task_id] = record
        return {"task_id": task_id}

    def result(self, body: dict[str, Any]) -> dict[str, Any]:
        self._check_agent(body)
        try:
            task_id = int(body["task_id"])
        except (KeyError, TypeError, ValueError):
            raise DingTalkError("40035", "缺少参数 task_id") from None
        with self._lock:
            record = self._tasks.get(task_id)
        if record is None:
            raise DingTalkError("40035", "任务不存在")
        users = record["userid_list"]
        invalid = [u for u in users if u not in self.userids]
        valid = [u for u in users if u in self.userids]
        return {
            "send_result": {
                "invalid_user_id_list": invalid,
                "forbidden_user_id_list": [],
                "failed_user_id_list": [],
                "read_user_id_list": [],
                "unread_user_id_list": valid,
                "invalid_dept_id_list": [],
            }
        }
