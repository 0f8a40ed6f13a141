"""DingTalk attendance results, leave status and approvals, rendered from the attendance model as
specs/dingtalk.md describes them, with the documented limits and error codes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

from sandbox.attendance_data import SHIFT_END, SHIFT_START, Approval, DayRecord, Leave
from sandbox.clock import SHANGHAI, epoch_ms, local, naive_text, period_of
from sandbox.model import World

MAX_SPAN_DAYS = 7
MAX_USERS = 50
MAX_LIMIT = 50
MAX_LEAVE_USERS = 100
MAX_LEAVE_SIZE = 20
MAX_LEAVE_SPAN = timedelta(days=180)
MAX_APPROVAL_SIZE = 20
MAX_APPROVAL_USERS = 10
MAX_APPROVAL_WINDOW = timedelta(days=120)
PLAN_ID = 80001
GROUP_ID = 9001


class DingTalkError(Exception):
    """An error answered in DingTalk's envelope: ``code`` flat, or as sub_code under 88."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_work_date(text: Any) -> date:
    try:
        return datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S").date()
    except ValueError:
        raise DingTalkError("41100", "时间格式错误") from None


def time_result(record: DayRecord) -> str:
    if record.arrival is None:
        return "NotSigned"
    late = (record.arrival - local(record.day, *SHIFT_START)).total_seconds() / 60
    if late > 30:
        return "SeriousLate"
    return "Late" if record.late else "Normal"


def attendance_records(record: DayRecord, userid: str) -> list[dict[str, Any]]:
    """The OnDuty and OffDuty results of one working day."""
    work_date = epoch_ms(local(record.day, 0))
    approval = record.approval
    base: dict[str, Any] = {"userId": userid, "groupId": GROUP_ID, "workDate": work_date}
    on_duty: dict[str, Any] = {
        **base,
        "id": record.record_id * 2,
        "recordId": record.record_id * 2 + 7_000_000,
        "planId": PLAN_ID,
        "checkType": "OnDuty",
        "timeResult": time_result(record),
        "locationResult": "Normal" if record.arrival else "NotSigned",
        "baseCheckTime": epoch_ms(local(record.day, *SHIFT_START)),
        "userCheckTime": epoch_ms(record.arrival or local(record.day, *SHIFT_START)),
        "sourceType": "ATM" if record.arrival else "SYSTEM",
    }
    off_duty: dict[str, Any] = {
        **base,
        "id": record.record_id * 2 + 1,
        "recordId": record.record_id * 2 + 7_000_001,
        "planId": PLAN_ID + 1,
        "checkType": "OffDuty",
        "timeResult": "Normal" if record.departure else "NotSigned",
        "locationResult": "Normal" if record.departure else "NotSigned",
        "baseCheckTime": epoch_ms(local(record.day, *SHIFT_END)),
        "userCheckTime": epoch_ms(record.departure or local(record.day, *SHIFT_END)),
        "sourceType": "ATM" if record.departure else "SYSTEM",
    }
    if approval is not None and approval.result == "agree":
        on_duty.update(procInstId=approval.instance_id, sourceType="APPROVE")
        if approval.kind == "leave":
            off_duty.update(procInstId=approval.instance_id, sourceType="APPROVE")
    return [on_duty, off_duty]


class DingTalkAttendance:
    def __init__(self, world: World) -> None:
        self.world = world
        self.by_userid = {e.userid: e for e in world.employees}
        self._days: dict[date, dict[str, list[dict[str, Any]]]] = {}
        self._approval_ids: dict[str, Approval] | None = None

    def _office_day(self, day: date) -> dict[str, list[dict[str, Any]]]:
        """One day's results per office userid, rendered once: a month is asked for in 7-day x
        50-user chunks, and each chunk must not walk the whole company again."""
        found = self._days.get(day)
        if found is None:
            found = {}
            people = self.world.company.by_job_number()
            for record in self.world.attendance.on(day):
                person = people.get(record.job_number)
                if person and not person.uses_terminals:
                    found.setdefault(person.userid, []).extend(
                        attendance_records(record, person.userid)
                    )
            self._days[day] = found
        return found

    def _office_records(
        self, first: date, last: date, userids: list[str]
    ) -> Iterator[dict[str, Any]]:
        wanted = set(userids)
        day = first
        while day <= last:
            if period_of(day) in self.world.periods:
                by_user = self._office_day(day)
                for userid in wanted:
                    yield from by_user.get(userid, ())
            day += timedelta(days=1)

    def attendance_list(self, body: dict[str, Any]) -> dict[str, Any]:
        first = parse_work_date(body.get("workDateFrom"))
        last = parse_work_date(body.get("workDateTo"))
        if last < first or (last - first).days + 1 > MAX_SPAN_DAYS:
            raise DingTalkError("41041", "时间跨度不能超过7天")
        users = body.get("userIdList") or []
        if not isinstance(users, list) or not users or len(users) > MAX_USERS:
            raise DingTalkError("40035", "userIdList必须是1到50个userid")
        offset, limit = int(body.get("offset", 0)), int(body.get("limit", MAX_LIMIT))
        if offset < 0 or not 1 <= limit <= MAX_LIMIT:
            raise DingTalkError("40035", "limit不能超过50")
        now_ms = epoch_ms(self.world.now())
        records = sorted(
            (
                r
                for r in self._office_records(first, last, [str(u) for u in users])
                if max(r["userCheckTime"], r["baseCheckTime"]) <= now_ms
            ),
            key=lambda r: (r["workDate"], r["userId"], r["checkType"]),
        )
        return {
            "hasMore": offset + limit < len(records),
            "recordresult": records[offset : offset + limit],
        }

    def _leaves(self) -> Iterator[Leave]:
        for period in self.world.periods:
            yield from self.world.attendance.month(period).leaves

    def leave_status(self, body: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(body.get("userid_list", "")).split(",") if u]
        if not users or len(users) > MAX_LEAVE_USERS:
            raise DingTalkError("40035", "userid_list必须是1到100个userid")
        start = _ms(body.get("start_time"))
        end = _ms(body.get("end_time"))
        if end < start or end - start > MAX_LEAVE_SPAN:
            raise DingTalkError("40035", "时间跨度不能超过180天")
        offset, size = int(body.get("offset", 0)), int(body.get("size", MAX_LEAVE_SIZE))
        if offset < 0 or not 1 <= size <= MAX_LEAVE_SIZE:
            raise DingTalkError("40035", "size不能超过20")
        wanted = set(users)
        found = [
            {"userid": leave.userid, "start_time": epoch_ms(leave.start),
             "end_time": epoch_ms(leave.end), "duration_unit": "percent_day",
             "duration_percent": leave.percent_day}
            for leave in self._leaves()
            if leave.userid in wanted and leave.start < end and leave.end > start
        ]  # fmt: skip
        found.sort(key=lambda row: (row["start_time"], row["userid"]))
        return {
            "has_more": offset + size < len(found),
            "leave_status": found[offset : offset + size],
        }

    def _approvals(self) -> Iterator[Approval]:
        for period in self.world.periods:
            yield from self.world.attendance.month(period).approvals

    def list_ids(self, body: dict[str, Any], now: Callable[[], datetime]) -> dict[str, Any]:
        code = body.get("process_code")
        if not code:
            raise DingTalkError("40035", "缺少参数 process_code")
        if body.get("start_time") in (None, ""):
            raise DingTalkError("40035", "缺少参数 start_time")
        start = _ms(body["start_time"])
        end = _ms(body.get("end_time")) if body.get("end_time") else now()
        if end < start or end - start > MAX_APPROVAL_WINDOW:
            raise DingTalkError("40035", "时间跨度不能超过120天")
        if now() - start > timedelta(days=365):
            raise DingTalkError("40035", "开始时间不能早于365天前")
        size, cursor = int(body.get("size", MAX_APPROVAL_SIZE)), int(body.get("cursor", 0))
        if not 1 <= size <= MAX_APPROVAL_SIZE or cursor < 0:
            raise DingTalkError("40035", "size不能超过20")
        users = [u for u in str(body.get("userid_list") or "").split(",") if u]
        if len(users) > MAX_APPROVAL_USERS:
            raise DingTalkError("40035", "userid_list不能超过10个")
        ids = sorted(
            a.instance_id
            for a in self._approvals()
            if a.process_code == code and start <= a.created < end and a.created <= now()
            and (not users or a.originator_userid in users)
        )  # fmt: skip
        result: dict[str, Any] = {"list": ids[cursor : cursor + size]}
        if cursor + size < len(ids):
            result["next_cursor"] = cursor + size
        return result

    def get(self, body: dict[str, Any]) -> dict[str, Any]:
        wanted = str(body.get("process_instance_id", ""))
        if self._approval_ids is None:
            self._approval_ids = {}
            for each in self._approvals():
                self._approval_ids.setdefault(each.instance_id, each)
        approval = self._approval_ids.get(wanted)
        now = self.world.now()
        if approval is None or approval.created > now:
            raise DingTalkError("40035", "审批实例不存在")
        kind = "事假" if approval.kind == "leave" else "外出"
        # Until its approver acts, an instance is RUNNING, with no result and no finish time.
        finished = approval.finished <= now
        return {
            "title": approval.title,
            "create_time": naive_text(approval.created),
            "finish_time": naive_text(approval.finished) if finished else None,
            "originator_userid": approval.originator_userid,
            "status": approval.status if finished else "RUNNING",
            "result": approval.result if finished else "",
            "business_id": approval.instance_id[2:],
            "form_component_values": [
                {"name": "类型", "value": kind, "id": "type", "component_type": "DDSelectField"},
                {"name": "开始时间", "value": f"{approval.day} 08:00", "id": "start",
                 "component_type": "DDDateField"},
                {"name": "结束时间", "value": f"{approval.day} 17:00", "id": "end",
                 "component_type": "DDDateField"},
            ],
            "operation_records": [
                {"userid": approval.originator_userid, "date": naive_text(approval.created),
                 "operation_type": "START_PROCESS_INSTANCE", "operation_result": "NONE"},
            ],
            "tasks": [
                {"userid": "manager", "task_status": "COMPLETED" if finished else "RUNNING",
                 "task_result": approval.result.upper() if finished else "NONE",
                 "create_time": naive_text(approval.created),
                 "finish_time": naive_text(approval.finished) if finished else None},
            ],
        }  # fmt: skip


def _ms(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(value) / 1000, SHANGHAI)
    except (TypeError, ValueError):
        raise DingTalkError("40035", "时间必须是毫秒时间戳") from None
