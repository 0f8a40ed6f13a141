"""What DingTalk's records must look like: directory entries name their user; an attendance
result is an OnDuty or OffDuty point with one of the documented time results; a leave has its
times and a share of the day; an approval its originator and status."""

from __future__ import annotations

from connectors.sdk.expectations import StreamSuites, one_of, required, within

TIME_RESULTS = ("Normal", "Early", "Late", "SeriousLate", "Absenteeism", "NotSigned")

SUITES: StreamSuites = {
    "departments": required("dept_id", "name"),
    "users": required("userid", "name"),
    "attendance": (
        *required("id", "userId", "workDate", "checkType", "timeResult"),
        one_of("checkType", ("OnDuty", "OffDuty")),
        one_of("timeResult", TIME_RESULTS),
    ),
    "leave_status": (
        *required("userid", "start_time", "end_time", "duration_percent"),
        within("duration_percent", 0, 100),
    ),
    "approvals": (
        *required("process_instance_id", "originator_userid", "status"),
        one_of("status", ("NEW", "RUNNING", "TERMINATED", "COMPLETED", "CANCELED")),
    ),
}
