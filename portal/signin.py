"""Sign-in with DingTalk for an internal web app (OAuth 2.0 authorization code).

The browser goes to DingTalk's login page and comes back with a single-use ``authCode``; the
portal exchanges it for a user access token (new API), reads the user's unionId, resolves it to
the userid with the app's own token (legacy API) and reads the roles and led departments. Only
the userid and what the directory says about it are kept: the user token is used once and
dropped, and no token or secret is ever logged or shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import SecretStr

from connectors.dingtalk.client import DingTalkTokenAuth
from connectors.sdk.errors import AuthError, RetryableError

TIMEOUT = httpx.Timeout(10.0)
UNKNOWN_USER = 60121


class SignInError(Exception):
    """DingTalk did not sign the person in; the message is safe to show them."""


@dataclass(frozen=True)
class DingTalkUser:
    userid: str
    unionid: str
    nick: str
    roles: tuple[str, ...]
    leader_depts: tuple[int, ...] | None
    """The departments DingTalk says the person leads (``leader_in_dept``); None when it did not
    say, and the landed directory's leader flag decides."""


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class DingTalkSignIn:
    def __init__(
        self,
        *,
        login_url: str,
        api_url: str,
        oapi_url: str,
        app_key: str,
        app_secret: SecretStr,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.login_url = login_url.rstrip("/")
        self.app_key = app_key
        self._secret = app_secret
        self._api = httpx.Client(base_url=api_url, timeout=TIMEOUT, transport=transport)
        self._oapi = httpx.Client(
            base_url=oapi_url,
            timeout=TIMEOUT,
            transport=transport,
            auth=DingTalkTokenAuth(app_key, app_secret.get_secret_value()),
        )

    def __repr__(self) -> str:
        return f"DingTalkSignIn(login_url={self.login_url!r}, app_key={self.app_key!r})"

    def close(self) -> None:
        self._api.close()
        self._oapi.close()

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        query = urlencode(
            {
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "client_id": self.app_key,
                "scope": "openid",
                "state": state,
                "prompt": "consent",
            }
        )
        return f"{self.login_url}/oauth2/auth?{query}"

    def user_for(self, auth_code: str) -> DingTalkUser:
        """The person an ``authCode`` signs in. Raises :class:`SignInError` for a bad, reused or
        expired code and for a person the organisation's directory does not hold."""
        try:
            token = self._user_token(auth_code)
            me = self._me(token)
            userid = self._userid(str(me["unionId"]))
            detail = self._user_detail(userid)
        except (httpx.HTTPError, AuthError, RetryableError) as exc:
            raise SignInError(f"DingTalk could not be reached ({type(exc).__name__})") from None
        roles = tuple(
            str(r.get("name")) for r in detail.get("role_list") or [] if isinstance(r, dict)
        )
        leads = detail.get("leader_in_dept")
        led = (
            tuple(
                int(d["dept_id"])
                for d in leads
                if isinstance(d, dict) and d.get("leader") is True and "dept_id" in d
            )
            if isinstance(leads, list)
            else None
        )
        return DingTalkUser(userid, str(me["unionId"]), str(me.get("nick") or ""), roles, led)

    def _user_token(self, auth_code: str) -> str:
        response = self._api.post(
            "/v1.0/oauth2/userAccessToken",
            json={
                "clientId": self.app_key,
                "clientSecret": self._secret.get_secret_value(),
                "code": auth_code,
                "grantType": "authorization_code",
            },
        )
        body = _body(response)
        if response.status_code != 200 or "accessToken" not in body:
            code = body.get("code") or f"HTTP {response.status_code}"
            raise SignInError(f"DingTalk refused the sign-in code ({code})")
        return str(body["accessToken"])

    def _me(self, token: str) -> dict[str, Any]:
        response = self._api.get(
            "/v1.0/contact/users/me", headers={"x-acs-dingtalk-access-token": token}
        )
        body = _body(response)
        if response.status_code != 200 or not body.get("unionId"):
            raise SignInError(f"DingTalk did not say who signed in (HTTP {response.status_code})")
        return body

    def _legacy(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = _body(self._oapi.post(path, json=body))
        code = answer.get("errcode")
        sub_code = answer.get("sub_code")
        if code == UNKNOWN_USER or str(sub_code) == str(UNKNOWN_USER):
            raise SignInError("this DingTalk account is not a member of the organisation")
        if code != 0:
            raise SignInError(f"DingTalk refused a directory look-up (errcode {code})")
        result = answer.get("result")
        return result if isinstance(result, dict) else {}

    def _userid(self, unionid: str) -> str:
        result = self._legacy("/topapi/user/getbyunionid", {"unionid": unionid})
        if not result.get("userid"):
            raise SignInError("this DingTalk account is not a member of the organisation")
        return str(result["userid"])

    def _user_detail(self, userid: str) -> dict[str, Any]:
        return self._legacy("/topapi/v2/user/get", {"userid": userid, "language": "zh_CN"})
