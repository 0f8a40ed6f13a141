"""Every DingTalk stream the hub lands. The directory pages by department; the rest are windows of
days over the directory's users or over processes, each with its own reader."""

from __future__ import annotations

from datetime import timedelta

from connectors.dingtalk.approvals import read_approvals
from connectors.dingtalk.attendance import read_attendance, read_leave_status
from connectors.dingtalk.days import LOOKBACK_DAYS
from connectors.dingtalk.directory import STREAMS as DIRECTORY_STREAMS
from connectors.dingtalk.mapping import result_period
from connectors.dingtalk.records import AttendanceResult, LeaveStatus, ProcessInstance
from connectors.sdk import Stream

STREAMS = (
    *DIRECTORY_STREAMS,
    Stream(
        name="attendance",
        path="/attendance/list",
        record_key="id",
        record_path="recordresult",
        window_field="workDate",
        event_period=result_period,
        lookback=timedelta(days=LOOKBACK_DAYS),
        record_schema=AttendanceResult,
        reader=read_attendance,
    ),
    Stream(
        name="leave_status",
        path="/topapi/attendance/getleavestatus",
        record_key="userid|start_time|end_time",  # derived: see attendance.leave_key
        record_path="result.leave_status",
        # A leave is returned when it overlaps the window, so its end lies within it.
        window_field="end_time",
        lookback=timedelta(days=LOOKBACK_DAYS),
        record_schema=LeaveStatus,
        reader=read_leave_status,
    ),
    Stream(
        name="approvals",
        path="/topapi/processinstance/get",
        record_key="process_instance_id",
        record_path="result.process_instance",
        updated_field="finish_time",
        window_field="create_time",
        lookback=timedelta(days=LOOKBACK_DAYS),
        record_schema=ProcessInstance,
        reader=read_approvals,
    ),
)
