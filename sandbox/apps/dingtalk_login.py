"""Sign-in with DingTalk for the company's internal web apps, and the directory look-ups a portal
makes after it, as specs/dingtalk.md describes them.

The real flow spans three hosts: the login page (``login.dingtalk.com``), the new API
(``api.dingtalk.com``: camelCase JSON, errors as HTTP 4xx with ``{code, message, requestid}``)
and the legacy API (``oapi.dingtalk.com``: errcode envelopes). The sandbox serves all three under
one base URL. Where a person would scan a QR code with the DingTalk app, the sandbox login page
lists the employees and the tester picks who signs in.

The simulated company has no HR department, so who holds the HR role is a fixed rule over the
generated world (see :func:`hr_userids`); the world itself is not changed.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable
from html import escape
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from sandbox.apps.dingtalk import user_payload
from sandbox.apps.dingtalk_attendance import DingTalkError
from sandbox.apps.limits import TokenTable
from sandbox.company import Employee
from sandbox.model import World

HR_ROLE = "人事"
HR_ROLE_ID = 3001
HR_ROLE_GROUP = "职务"
# 行政部: the department whose people look after personnel matters in the simulated company.
HR_DEPT_ID = 250
AUTH_CODE_TTL = 300.0
USER_TOKEN_TTL = 7200
REFRESH_TOKEN_TTL = 30 * 24 * 3600.0
STATE_CODE = "86"
LOGIN_TITLE = "钉钉登录 · 选择登录身份"


def hr_userids(world: World) -> set[str]:
    """Who carries the HR role: the leader of 行政部 and the first other person whose home
    department it is, by job number (someone of another department who is also listed in
    行政部 is not HR).

    A rule rather than a generated attribute, so that adding it left every random draw of the
    world (and so every other system's data) exactly as it was."""
    members = sorted(
        (p for p in world.employees if p.home_dept == HR_DEPT_ID), key=lambda p: p.job_number
    )
    leaders = [p for p in members if leads(p, HR_DEPT_ID)]
    others = [p for p in members if not leads(p, HR_DEPT_ID)]
    return {p.userid for p in leaders + others[:1]}


def leads(person: Employee, dept_id: int) -> bool:
    """A person leads only their home department; a second department is led by its own."""
    return person.leader and person.home_dept == dept_id


def corp_id_for(seed: int) -> str:
    """The simulated company's corpId: stable per seed, shaped like DingTalk's."""
    return "ding" + hashlib.sha256(f"kpihub-sandbox-corp/{seed}".encode()).hexdigest()[:32]


def api_error(status: int, code: str, message: str) -> JSONResponse:
    """An error of the new API: a real HTTP status, not an errcode envelope."""
    request_id = str(uuid.uuid4()).upper()
    return JSONResponse(
        {"code": code, "message": message, "requestid": request_id},
        status_code=status,
        headers={"x-acs-request-id": request_id},
    )


def bad_code() -> JSONResponse:
    """DingTalk answers alike for a code that never existed, was used already or expired."""
    return api_error(400, "invalidParameter.authCode.notFound", "不合法的临时授权码")


def missing(field: str) -> JSONResponse:
    return api_error(400, f"Missing{field}", f"{field} is mandatory for this action.")


class DingTalkLogin:
    """The login page, the code exchange, ``users/me`` and the directory look-ups of one app.

    The legacy look-ups (``getbyunionid``, ``v2/user/get``, ``user/listid``) take the request
    body and return the ``result``, raising :class:`DingTalkError` for the envelope; the app's
    token check and rate limit are applied around them by the DingTalk app."""

    def __init__(
        self,
        world: World,
        app_key: str,
        app_secret: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.world = world
        self.app_key = app_key
        self.app_secret = app_secret
        self.corp_id = corp_id_for(world.seed)
        self.codes = TokenTable(AUTH_CODE_TTL, clock)
        self.refresh_tokens = TokenTable(REFRESH_TOKEN_TTL, clock)
        self.user_tokens = TokenTable(USER_TOKEN_TTL, clock)
        self.hr = hr_userids(world)
        self.departments = {d.dept_id: d for d in world.departments}
        self.by_userid = {p.userid: p for p in world.employees}
        self.by_unionid = {p.unionid: p for p in world.employees}
        self.members: dict[int, list[Employee]] = {d: [] for d in self.departments}
        for person in world.employees:
            for dept_id in person.dept_ids:
                self.members.setdefault(dept_id, []).append(person)
        self.admins = {p.userid for p in world.employees if leads(p, HR_DEPT_ID)}

    # The login page (login.dingtalk.com)

    async def authorize(self, request: Request) -> Response:
        params = request.query_params
        if params.get("client_id") != self.app_key:
            return error_page("client_id", "应用不存在或 client_id 不正确。")
        if params.get("response_type") != "code":
            return error_page("response_type", "response_type 必须为 code。")
        redirect_uri = params.get("redirect_uri", "")
        target = urlsplit(redirect_uri)
        if target.scheme not in ("http", "https") or not target.netloc:
            return error_page("redirect_uri", "redirect_uri 必须是完整的 http(s) 地址。")
        login_as = params.get("login_as")
        if login_as is None:
            return HTMLResponse(self.chooser(request))
        if login_as not in self.by_userid:
            return error_page("login_as", "该企业中没有这名员工。")
        code = self.codes.issue(login_as)
        query = parse_qsl(target.query, keep_blank_values=True)
        query.append(("authCode", code))
        if "state" in params:
            query.append(("state", params["state"]))
        location = urlunsplit(target._replace(query=urlencode(query)))
        return RedirectResponse(location, status_code=302)

    def chooser(self, request: Request) -> str:
        """Every employee, by home department, each a link that signs in as them."""
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "login_as"]
        sections: list[str] = []
        for dept in self.world.departments:
            people = [p for p in self.world.employees if p.home_dept == dept.dept_id]
            if not people:
                continue
            items = []
            for person in people:
                href = f"{request.url.path}?{urlencode([*kept, ('login_as', person.userid)])}"
                labels = [("主管", person.leader), (HR_ROLE, person.userid in self.hr)]
                badges = "".join(
                    f' <span class="badge">{escape(label)}</span>' for label, on in labels if on
                )
                items.append(
                    f'<li><a data-userid="{escape(person.userid)}" href="{escape(href)}">'
                    f'<span class="name">{escape(person.name)}</span></a>'
                    f' <span class="job-number">{escape(person.job_number)}</span>'
                    f' <span class="dept">{escape(dept.name)}</span>{badges}</li>'
                )
            sections.append(
                f'<section data-dept-id="{dept.dept_id}"><h2>{escape(dept.name)}</h2>'
                f"<ul>{''.join(items)}</ul></section>"
            )
        return page(
            LOGIN_TITLE,
            '<p class="note">沙箱环境：本页代替钉钉扫码登录。选择一名员工，即以其身份登录应用。</p>'
            + "".join(sections),
        )

    # The new API (api.dingtalk.com)

    async def user_access_token(self, request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        for field in ("clientId", "clientSecret", "grantType"):
            if not body.get(field):
                return missing(field)
        if body["clientId"] != self.app_key or body["clientSecret"] != self.app_secret:
            return api_error(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
        grant_type = body["grantType"]
        if grant_type == "authorization_code":
            if not body.get("code"):
                return missing("code")
            userid = self.codes.redeem(str(body["code"]))
            if userid is None:
                return bad_code()
        elif grant_type == "refresh_token":
            if not body.get("refreshToken"):
                return missing("refreshToken")
            userid = self.refresh_tokens.redeem(str(body["refreshToken"]))
            if userid is None:
                return api_error(
                    400, "invalidParameter.refreshToken.notFound", "不合法的refreshToken"
                )
        else:
            return api_error(400, "invalidParameter.grantType.invalid", "不支持的grantType")
        return JSONResponse(
            {
                "accessToken": self.user_tokens.issue(userid),
                "refreshToken": self.refresh_tokens.issue(userid),
                "expireIn": USER_TOKEN_TTL,
                "corpId": self.corp_id,
            }
        )

    async def users_me(self, request: Request) -> JSONResponse:
        userid = self.user_tokens.owner(request.headers.get("x-acs-dingtalk-access-token"))
        if userid is None:
            return api_error(401, "InvalidAuthentication", "不合法的access_token")
        person = self.by_userid[userid]
        shared = user_payload(person)
        return JSONResponse(
            {
                "nick": person.name,
                "unionId": person.unionid,
                "openId": self.open_id(person),
                "avatarUrl": "",
                "mobile": shared["mobile"],
                "email": person.email,
                "stateCode": STATE_CODE,
            }
        )

    def open_id(self, person: Employee) -> str:
        """A person's id as this app sees them: differs per app, unlike the unionId."""
        return hashlib.sha256(f"{self.app_key}/{person.userid}".encode()).hexdigest()[:28]

    async def expire(self, request: Request) -> JSONResponse:
        """Make every auth code and user token expire now, to test a portal's handling of it."""
        self.codes.expire_all()
        self.user_tokens.expire_all()
        self.refresh_tokens.expire_all()
        return JSONResponse({"expired": True})

    # Directory look-ups (oapi.dingtalk.com/topapi)

    def userid_by_unionid(self, body: dict[str, Any]) -> dict[str, Any]:
        unionid = body.get("unionid")
        if not unionid:
            raise DingTalkError("40035", "缺少参数 unionid")
        person = self.by_unionid.get(str(unionid))
        if person is None:
            raise DingTalkError("60121", "找不到该用户")
        return {"contact_type": 0, "userid": person.userid}

    def user_detail(self, body: dict[str, Any]) -> dict[str, Any]:
        userid = body.get("userid")
        if not userid:
            raise DingTalkError("40035", "缺少参数 userid")
        person = self.by_userid.get(str(userid))
        if person is None:
            raise DingTalkError("60121", "找不到该用户")
        roles = (
            [{"id": HR_ROLE_ID, "name": HR_ROLE, "group_name": HR_ROLE_GROUP}]
            if person.userid in self.hr
            else []
        )
        return {
            **user_payload(person),
            "leader_in_dept": [{"dept_id": d, "leader": leads(person, d)} for d in person.dept_ids],
            "role_list": roles,
            "admin": person.userid in self.admins,
            "boss": False,
        }

    def userids_of_department(self, body: dict[str, Any]) -> dict[str, Any]:
        if "dept_id" not in body:
            raise DingTalkError("40035", "缺少参数 dept_id")
        dept_id = int(body["dept_id"])
        if dept_id not in self.departments:
            raise DingTalkError("60003", "部门不存在")
        return {"userid_list": [p.userid for p in self.members.get(dept_id, [])]}


def page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:48rem;margin:2rem auto}"
        ".badge{font-size:.8em;border:1px solid #1677ff;color:#1677ff;border-radius:4px;"
        "padding:0 .3em}.job-number,.dept{color:#666}li{margin:.3em 0}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def error_page(parameter: str, detail: str) -> HTMLResponse:
    """What the login host shows a browser sent with a bad request: a page, not JSON."""
    return HTMLResponse(
        page(
            "钉钉登录 · 请求参数错误",
            f'<p class="error" data-parameter="{escape(parameter)}">'
            f"参数 {escape(parameter)} 不正确：{escape(detail)}</p>",
        ),
        status_code=400,
    )
