"""DingTalk's retry rule: "system busy" (errcode -1) is retried at most three times, while rate
limits (90018), 5xx and connection errors keep the SDK's full budget. A server that stays busy is
more likely broken than loaded, and hammering it longer only delays a clear error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from connectors.dingtalk.envelope import BusyError
from connectors.sdk import RetryPolicy
from connectors.sdk.errors import ConnectorError

T = TypeVar("T")

BUSY_RETRIES = 3


@dataclass(frozen=True)
class DingTalkRetry(RetryPolicy):
    busy_retries: int = BUSY_RETRIES

    def run(self, call: Callable[[], T]) -> T:
        busy = 0

        def counted() -> T:
            nonlocal busy
            try:
                return call()
            except BusyError:
                busy += 1
                if busy > self.busy_retries:
                    raise ConnectorError(
                        f"DingTalk still busy (errcode -1) after {self.busy_retries} retries"
                    ) from None
                raise

        return super().run(counted)
