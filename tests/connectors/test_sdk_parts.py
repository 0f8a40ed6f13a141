"""The SDK's small parts: retry waits, paginator guards, DingTalk envelopes, secret redaction."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from connectors.dingtalk.envelope import check_envelope, error_code, is_token_error
from connectors.dingtalk.retry import DingTalkRetry
from connectors.sdk import CursorPaginator, HttpSource, RetryPolicy
from connectors.sdk.errors import ConnectorError, RetryableError, StreamError, redact
from connectors.sdk.paginators import PaginationError
from connectors.sdk.retry import BACKOFF_ENV, parse_retry_after
from connectors.sdk.timeparse import local_period


def run_with_waits(policy: RetryPolicy, errors: list[Exception]) -> list[float]:
    """Run a call that fails with ``errors`` then succeeds; return the waits tenacity chose."""
    waits: list[float] = []
    remaining = list(errors)

    def call() -> str:
        if remaining:
            raise remaining.pop(0)
        return "ok"

    assert replace(policy, sleep=waits.append).run(call) == "ok"
    return waits


def test_retry_after_is_honoured_when_positive() -> None:
    waits = run_with_waits(RetryPolicy(initial_backoff=0.5), [RetryableError("429", 7.0)])
    assert waits == [7.0]


def test_retry_after_zero_uses_normal_backoff() -> None:
    policy = RetryPolicy(initial_backoff=0.5, max_backoff=30)
    waits = run_with_waits(policy, [RetryableError("429", 0.0)] * 3)
    assert len(waits) == 3
    assert all(w >= 0.5 for w in waits)
    assert waits[2] >= 2.0  # exponential: 0.5, 1, 2 (plus jitter)


def test_retry_gives_up_after_the_attempt_budget() -> None:
    policy = RetryPolicy(attempts=3, initial_backoff=0.01, max_backoff=0.01)
    with pytest.raises(RetryableError, match="HTTP 503"):
        run_with_waits(policy, [RetryableError("HTTP 503")] * 5)


@pytest.mark.parametrize(
    ("header", "expected"), [("3", 3.0), ("0", 0.0), (" 1.5 ", 1.5), ("soon", None), (None, None)]
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_cursor_paginator_starts_without_cursor_and_stops_on_null() -> None:
    paginator = CursorPaginator(limit=500)
    assert paginator.start() == {"limit": 500}
    assert paginator.advance({"next_cursor": "abc"}, 500) == {"cursor": "abc", "limit": 500}
    assert paginator.advance({"next_cursor": None}, 3) is None


def test_cursor_paginator_refuses_a_repeated_cursor() -> None:
    paginator = CursorPaginator()
    paginator.start()
    paginator.advance({"next_cursor": "abc"}, 100)
    with pytest.raises(PaginationError, match="repeated cursor 'abc'"):
        paginator.advance({"next_cursor": "abc"}, 100)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"errcode": 0, "errmsg": "ok"}, 0),
        ({"errcode": "0"}, 0),
        ({"errcode": 40014, "errmsg": "x"}, 40014),
        ({"errcode": 88, "sub_code": "40014", "errmsg": "x"}, 40014),
        ({"errcode": "88", "sub_code": "90018"}, 90018),
    ],
)
def test_dingtalk_error_code_reads_flat_and_wrapped(body: dict, code: int) -> None:
    assert error_code(body) == code


def test_dingtalk_token_errors_are_recognised_flat_or_wrapped() -> None:
    for code in ("40014", "40001", "42001", "33001"):
        assert is_token_error({"errcode": int(code)})
        assert is_token_error({"errcode": 88, "sub_code": code})
    assert not is_token_error({"errcode": 60003})


def test_dingtalk_envelope_classification() -> None:
    check_envelope({"errcode": 0, "errmsg": "ok"})
    with pytest.raises(RetryableError) as busy:
        check_envelope({"errcode": -1, "errmsg": "系统繁忙"})
    assert busy.value.retry_after is None
    with pytest.raises(RetryableError) as limited:
        check_envelope({"errcode": 88, "sub_code": "90018"})
    assert limited.value.retry_after == 1.0
    with pytest.raises(RetryableError) as flood:
        check_envelope({"status": 1111, "wait": 5, "punish": "deny"})
    assert flood.value.retry_after == 5.0
    with pytest.raises(ConnectorError, match="DingTalk errcode 60003"):
        check_envelope({"errcode": 88, "sub_code": "60003", "errmsg": "部门不存在"})


def test_secrets_are_redacted_from_errors() -> None:
    error = StreamError(
        "dingtalk", "users", 3, "GET /x?access_token=abc123&appsecret=s3cr3t failed"
    )
    assert str(error) == "dingtalk/users page 3: GET /x?access_token=***&appsecret=*** failed"
    assert redact("client_secret=hunter2&x=1") == "client_secret=***&x=1"


@pytest.mark.parametrize(
    ("stamp", "period"),
    [
        ("2026-10-01T00:30:00+08:00", "2026-10"),
        ("2026-09-30T16:30:00Z", "2026-10"),
        ("2026-09-30T15:59:59+00:00", "2026-09"),
        ("2026-10-31 23:59:59", "2026-10"),
    ],
)
def test_periods_are_chosen_in_shanghai_time(stamp: str, period: str) -> None:
    assert local_period(stamp) == period


def _stand_in_server(bodies: list[bytes]) -> httpx.Client:
    """A stand-in server answering each request with the next body (the last one repeats)."""
    served = list(bodies)

    def answer(request: httpx.Request) -> httpx.Response:
        body = served.pop(0) if len(served) > 1 else served[0]
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    return httpx.Client(base_url="http://source.test", transport=httpx.MockTransport(answer))


def test_a_page_cut_off_once_is_asked_for_again() -> None:
    good = b'{"data": [{"id": "1"}], "next_cursor": null}'
    source = HttpSource(
        "crm", _stand_in_server([good[:17], good]), retry=RetryPolicy(sleep=lambda _: None)
    )
    assert source.request_json("GET", "/api", stream="orders", page=1) == {
        "data": [{"id": "1"}],
        "next_cursor": None,
    }
    assert source.requests_made == 2


def test_a_page_that_stays_malformed_fails_naming_source_stream_and_page() -> None:
    source = HttpSource(
        "crm",
        _stand_in_server([b'{"data": [{"id": "1"']),
        retry=RetryPolicy(attempts=3, sleep=lambda _: None),
    )
    with pytest.raises(StreamError) as caught:
        source.request_json("GET", "/api", stream="orders", page=4)
    assert str(caught.value) == (
        "crm/orders page 4: gave up after retries: malformed JSON: "
        "Expecting ',' delimiter: line 1 column 21 (char 20)"
    )
    assert source.requests_made == 3


def test_the_first_backoff_comes_from_the_environment() -> None:
    assert RetryPolicy.from_environ({}) == RetryPolicy()
    assert RetryPolicy.from_environ({BACKOFF_ENV: " 2.5 "}).initial_backoff == 2.5
    dingtalk = DingTalkRetry.from_environ({BACKOFF_ENV: "0"})
    assert type(dingtalk) is DingTalkRetry
    assert (dingtalk.initial_backoff, dingtalk.busy_retries) == (0, 3)
    for bad in ("soon", "-1", "61", "nan"):
        with pytest.raises(ValueError) as caught:
            RetryPolicy.from_environ({BACKOFF_ENV: bad})
        assert str(caught.value) == (
            f"KPIHUB_RETRY_INITIAL_BACKOFF={bad!r}: must be a number of seconds from 0 to 60"
        )


def test_clients_of_the_same_credentials_share_one_rate_budget() -> None:
    from connectors.sdk.rate import RateBudget

    first = RateBudget.shared("crm http://127.0.0.1:1 client-a", 9.0)
    assert RateBudget.shared("crm http://127.0.0.1:1 client-a", 9.0) is first
    assert RateBudget.shared("crm http://127.0.0.1:1 client-b", 9.0) is not first
