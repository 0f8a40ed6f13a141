"""The simulated DingTalk directory, attendance, approvals and work notifications, as
specs/dingtalk.md: every answer is HTTP 200 with an ``errcode`` envelope; errors under
``/topapi`` are wrapped in errcode 88 with a ``sub_code``. Sign-in for internal web apps (the
login page and the new API) is in sandbox.apps.dingtalk_login, served by the same app."""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime, time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.apps.dingtalk_attendance import DingTalkAttendance, DingTalkError
from sandbox.apps.dingtalk_messages import WorkNotifications
from sandbox.apps.limits import SlidingWindowLimiter, TokenTable
from sandbox.clock import SHANGHAI
from sandbox.company import Employee
from sandbox.model import World

QPS = 20
SUB_MESSAGES = {
    "40014": "不合法的access_token",
    "60003": "部门不存在",
    "90018": "当前应用的API调用频率超过限制",
    "40035": "缺少参数",
    "41041": "时间跨度不能超过7天",
    "41100": "时间格式错误",
    "60121": "找不到该用户",
}


def ok(**body: Any) -> JSONResponse:
    return JSONResponse({"errcode": 0, "errmsg": "ok", **body, "request_id": secrets.token_hex(8)})


def flat_error(code: str, message: str | None = None) -> JSONResponse:
    return JSONResponse(
        {
            "errcode": int(code),
            "errmsg": message or SUB_MESSAGES.get(code, "error"),
            "request_id": secrets.token_hex(8),
        }
    )


def wrapped(sub_code: str, message: str | None = None) -> JSONResponse:
    message = message or SUB_MESSAGES.get(sub_code, "error")
    return JSONResponse(
        {
            "errcode": 88,
            "sub_code": sub_code,
            "sub_msg": message,
            "errmsg": f"ding talk error[subcode={sub_code},submsg={message}]",
            "request_id": secrets.token_hex(8),
        }
    )


def user_payload(person: Employee) -> dict[str, Any]:
    hired = datetime.combine(person.hired_date, time(0), tzinfo=SHANGHAI)
    return {
        "userid": person.userid,
        "unionid": person.unionid,
        "name": person.name,
        "job_number": person.job_number,
        "title": person.title,
        "dept_id_list": list(person.dept_ids),
        "hired_date": int(hired.timestamp() * 1000),
        "active": True,
        "leader": person.leader,
        "email": person.email,
        "mobile": f"138{int(person.job_number[1:]):08d}",
    }


def create_dingtalk_app(
    world: World,
    app_key: str,
    app_secret: str,
    token_ttl: float = 7200.0,
    agent_id: str = "1000000001",
) -> Starlette:
    """``app.state.notifications`` keeps the work notifications the app's agent was asked to
    send, for tests to read; ``app.state.login`` the sign-in state (codes, user tokens)."""
    # Imported here: the sign-in module builds on this one's user payload.
    from sandbox.apps.dingtalk_login import DingTalkLogin

    tokens = TokenTable(token_ttl)
    limiter = SlidingWindowLimiter(QPS, 1.0)
    departments = {d.dept_id: d for d in world.departments}
    children: dict[int, list[int]] = defaultdict(list)
    for dept in world.departments:
        if dept.parent_id:
            children[dept.parent_id].append(dept.dept_id)
    members: dict[int, list[Employee]] = defaultdict(list)
    for person in world.employees:
        for dept_id in person.dept_ids:
            members[dept_id].append(person)

    async def gettoken(request: Request) -> JSONResponse:
        if (
            request.query_params.get("appkey") != app_key
            or request.query_params.get("appsecret") != app_secret
        ):
            return JSONResponse({"errcode": 40096, "errmsg": "不合法的appKey或appSecret"})
        token = tokens.current(app_key) or tokens.issue(app_key)
        return ok(access_token=token, expires_in=int(token_ttl))

    async def guarded(
        request: Request, api: str, flat: bool = False
    ) -> tuple[dict[str, Any], JSONResponse | None]:
        refuse = flat_error if flat else wrapped
        if tokens.owner(request.query_params.get("access_token")) is None:
            return {}, refuse("40014")
        if limiter.check(api) is not None:
            return {}, refuse("90018")
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return {}, refuse("40035")
        return (body if isinstance(body, dict) else {}), None

    def answering(
        api: str,
        call: Callable[[dict[str, Any]], dict[str, Any]],
        flat: bool = False,
        top: bool = False,
    ) -> Callable[[Request], Awaitable[JSONResponse]]:
        """An endpoint that runs ``call`` on the body and answers under ``result``, or beside
        ``errcode`` when ``flat`` (errors flat too) or ``top`` (errors still wrapped in 88), as
        each DingTalk API documents its own shape."""

        async def endpoint(request: Request) -> JSONResponse:
            body, refusal = await guarded(request, api, flat)
            if refusal is not None:
                return refusal
            try:
                answer = call(body)
            except DingTalkError as exc:
                return flat_error(exc.code, exc.message) if flat else wrapped(exc.code, exc.message)
            except (TypeError, ValueError):
                return flat_error("40035") if flat else wrapped("40035")
            return ok(**answer) if flat or top else ok(result=answer)

        return endpoint

    attendance = DingTalkAttendance(world)
    login = DingTalkLogin(world, app_key, app_secret)
    notifications = WorkNotifications(agent_id, (p.userid for p in world.employees))

    async def listsub(request: Request) -> JSONResponse:
        body, refusal = await guarded(request, "listsub")
        if refusal is not None:
            return refusal
        try:
            dept_id = int(body.get("dept_id", 1))
        except (TypeError, ValueError):
            return wrapped("40035")
        if dept_id not in departments:
            return wrapped("60003")
        result = [
            {"dept_id": d, "name": departments[d].name, "parent_id": dept_id}
            for d in children.get(dept_id, [])
        ]
        return ok(result=result)

    async def user_list(request: Request) -> JSONResponse:
        body, refusal = await guarded(request, "user/list")
        if refusal is not None:
            return refusal
        try:
            dept_id = int(body["dept_id"])
            cursor = int(body.get("cursor", 0))
            size = int(body["size"])
        except (KeyError, TypeError, ValueError):
            return wrapped("40035")
        if dept_id not in departments:
            return wrapped("60003")
        if not 1 <= size <= 100:
            return wrapped("40035")
        people = members.get(dept_id, [])
        page = people[cursor : cursor + size]
        has_more = cursor + size < len(people)
        return ok(
            result={
                "has_more": has_more,
                "next_cursor": cursor + size if has_more else None,
                "list": [user_payload(p) for p in page],
            }
        )

    async def expire(request: Request) -> JSONResponse:
        tokens.expire_all()
        return JSONResponse({"expired": True})

    app = Starlette(
        routes=[
            Route("/gettoken", gettoken, methods=["GET"]),
            Route("/topapi/v2/department/listsub", listsub, methods=["POST"]),
            Route("/topapi/v2/user/list", user_list, methods=["POST"]),
            Route(
                "/attendance/list",
                answering("attendance/list", attendance.attendance_list, flat=True),
                methods=["POST"],
            ),
            Route(
                "/topapi/attendance/getleavestatus",
                answering("getleavestatus", attendance.leave_status),
                methods=["POST"],
            ),
            Route(
                "/topapi/processinstance/listids",
                answering("listids", lambda body: attendance.list_ids(body, world.now)),
                methods=["POST"],
            ),
            Route(
                "/topapi/processinstance/get",
                answering(
                    "processinstance/get",
                    lambda body: {"process_instance": attendance.get(body)},
                    top=True,
                ),
                methods=["POST"],
            ),
            Route(
                "/topapi/message/corpconversation/asyncsend_v2",
                answering("asyncsend_v2", notifications.send, top=True),
                methods=["POST"],
            ),
            Route(
                "/topapi/message/corpconversation/getsendresult",
                answering("getsendresult", notifications.result, top=True),
                methods=["POST"],
            ),
            Route("/oauth2/auth", login.authorize, methods=["GET"]),
            Route("/v1.0/oauth2/userAccessToken", login.user_access_token, methods=["POST"]),
            Route("/v1.0/contact/users/me", login.users_me, methods=["GET"]),
            Route(
                "/topapi/user/getbyunionid",
                answering("getbyunionid", login.userid_by_unionid),
                methods=["POST"],
            ),
            Route(
                "/topapi/v2/user/get",
                answering("v2/user/get", login.user_detail),
                methods=["POST"],
            ),
            Route(
                "/topapi/user/listid",
                answering("user/listid", login.userids_of_department),
                methods=["POST"],
            ),
            Route("/_sandbox/tokens/expire", expire, methods=["POST"]),
            Route("/_sandbox/oauth2/expire", login.expire, methods=["POST"]),
        ]
    )
    app.state.tokens = tokens  # fault injection expires them mid-run
    app.state.notifications = notifications
    app.state.login = login
    return app
