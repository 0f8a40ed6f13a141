"""Declared shapes of DingTalk records: what the hub relies on. Extra fields pass through, and
numbers are accepted as numbers or as numeric strings, since DingTalk sends either."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, field_validator

LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S"


class DingTalkRecord(BaseModel):
    model_config = ConfigDict(extra="allow")


class Department(DingTalkRecord):
    """One department of department/listsub; the root's children have ``parent_id`` 1."""

    dept_id: int
    name: str
    parent_id: int | None = None


class DirectoryUser(DingTalkRecord):
    """One member of user/list: the employee master's job number lives here."""

    userid: str
    name: str
    job_number: str | None = None
    dept_id_list: list[int] = []
    active: bool | None = None


class AttendanceResult(DingTalkRecord):
    """One scheduled punch point of attendance/list, missed ones (``NotSigned``) included."""

    id: int
    userId: str  # DingTalk's own camelCase names
    workDate: int
    checkType: str
    timeResult: str
    locationResult: str | None = None
    baseCheckTime: int | None = None
    userCheckTime: int | None = None
    sourceType: str | None = None
    procInstId: str | None = None


class LeaveStatus(DingTalkRecord):
    """One leave of getleavestatus; times in epoch ms, ``duration_percent`` is duration x 100."""

    userid: str
    start_time: int
    end_time: int
    duration_unit: str
    duration_percent: float


class ProcessInstance(DingTalkRecord):
    """processinstance/get's ``process_instance``, with the id it was fetched by added."""

    process_instance_id: str
    title: str
    originator_userid: str
    status: str
    result: str | None = None
    create_time: str
    finish_time: str | None = None

    @field_validator("create_time", "finish_time")
    @classmethod
    def _naive_local(cls, value: str | None) -> str | None:
        """Approval times are naive local "yyyy-MM-dd HH:mm:ss"; anything else is refused here
        rather than misread later."""
        if value:
            datetime.strptime(value, LOCAL_FORMAT)
        return value
