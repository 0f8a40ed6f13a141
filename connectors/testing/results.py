"""What one contract check concluded about one stream (or the whole connector)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


CONNECTOR_WIDE = "-"


@dataclass(frozen=True)
class CheckResult:
    """``stream`` is ``CONNECTOR_WIDE`` for checks about the connection itself."""

    connector: str
    check: str
    stream: str
    status: Status
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL

    def describe(self) -> str:
        where = self.connector
        if self.stream != CONNECTOR_WIDE:
            where = f"{self.connector}/{self.stream}"
        told = f"{where} {self.check}: {self.status.value}"
        return f"{told} - {self.detail}" if self.detail else told


def passed(connector: str, check: str, stream: str, detail: str = "") -> CheckResult:
    return CheckResult(connector, check, stream, Status.PASS, detail)


def failed(connector: str, check: str, stream: str, detail: str) -> CheckResult:
    return CheckResult(connector, check, stream, Status.FAIL, detail)


def skipped(connector: str, check: str, stream: str, detail: str) -> CheckResult:
    return CheckResult(connector, check, stream, Status.SKIP, detail)
