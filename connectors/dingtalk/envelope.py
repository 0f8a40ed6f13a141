"""DingTalk answers HTTP 200 for everything: the error is in the body, flat (``errcode``) or wrapped
under ``errcode 88`` with a ``sub_code``. Numbers sometimes arrive as strings; parse leniently and
never branch on ``errmsg`` text."""

from __future__ import annotations

from typing import Any

from connectors.sdk.errors import ConnectorError, RetryableError
from connectors.sdk.rate import Throttled

TOKEN_ERRORS = frozenset({40014, 40001, 42001, 33001})
RATE_LIMITED = frozenset({90018})
BUSY = frozenset({-1})
WRAPPED = 88


class BusyError(RetryableError):
    """errcode -1, "system busy": retried, but only a few times (see ``DingTalkRetry``)."""


def as_int(value: Any) -> int | None:
    """An integer whether DingTalk sent ``7`` or ``"7"``; None when it is neither."""
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def error_code(body: Any) -> int | None:
    """The effective error code: the sub_code under 88, else errcode; 0 or None means success."""
    if not isinstance(body, dict):
        return None
    code = as_int(body.get("errcode"))
    if code == WRAPPED:
        sub = as_int(body.get("sub_code"))
        return sub if sub is not None else code
    return code


def is_token_error(body: Any) -> bool:
    return error_code(body) in TOKEN_ERRORS


def as_bool(value: Any) -> bool:
    """DingTalk's booleans, which arrive as ``true`` or as the strings ``"true"``/``"false"``."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def check_envelope(body: Any) -> None:
    """Raise for an error envelope: busy and rate-limited are retried, the rest fail the page."""
    if not isinstance(body, dict):
        raise ConnectorError(f"expected a JSON object, got {type(body).__name__}")
    if "errcode" not in body:
        # The per-IP flood guard answers with its own body, e.g. {"status":1111,"wait":5}.
        if "wait" in body or "punish" in body:
            wait = as_int(body.get("wait"))
            raise Throttled("DingTalk flood control", float(wait) if wait else 5.0)
        raise ConnectorError("response has no errcode envelope")
    code = error_code(body)
    if code in (0, None):
        return
    if code in BUSY:
        raise BusyError("DingTalk system busy (errcode -1)")
    if code in RATE_LIMITED:
        raise Throttled(f"DingTalk rate limit (errcode {code})", 1.0)
    raise ConnectorError(f"DingTalk errcode {code}")
