"""Who hears about a review step, by DingTalk work notification through the alert outbox: the
employee when their score is reviewed, when their appeal is answered and when the amended score
is back for confirmation; their managers when they appeal. The delivery key names the step, the
score version and the appeal, so each notice leaves once however often a request is repeated."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine

from connectors.sdk.timeparse import now_utc
from pipelines.directory import Directory, read_directory
from quality.alerts.notify import SINK
from quality.alerts.outbox import Alert, enqueue
from quality.alerts.reminders import reminders_enabled
from schemas.settings import get_settings

KIND = "review_notice"
TEXTS = {
    "review.approve": (
        "employee",
        "您 {period} 的绩效成绩已审核，请在 {due} 前确认或申诉。",
    ),
    "review.appeal": ("managers", "{name}（{job_number}）对 {period} 的绩效成绩提出了申诉。"),
    "appeal.upheld": ("employee", "您对 {period} 绩效成绩的申诉已答复：维持原结果。"),
    "appeal.amended": ("employee", "您对 {period} 绩效成绩的申诉已答复：将予以修正。"),
    "review.amended": (
        "employee",
        "您 {period} 的绩效成绩已按申诉修正并重新发布，请在 {due} 前确认或申诉。",
    ),
}


def notice(
    action: str,
    directory: Directory,
    job_number: str,
    period: str,
    version: int,
    appeal_id: int | None = None,
    due: str = "",
) -> Alert | None:
    """The notice of one step, or None when the step tells nobody or the directory does not
    know whom to tell."""
    if action not in TEXTS:
        return None
    member = directory.by_job_numbers().get(job_number)
    if member is None:
        return None
    audience, text = TEXTS[action]
    receivers: Sequence[str]
    if audience == "employee":
        receivers = [member.userid]
    else:
        receivers = [m.userid for m in directory.leaders_of(member)]
    if not receivers:
        return None
    body = text.format(period=period, due=due, name=member.name, job_number=job_number)
    key = f"review:{action}:{job_number}:{period}:v{version}" + (
        f":appeal{appeal_id}" if appeal_id is not None else ""
    )
    return Alert(
        sink=SINK,
        delivery_key=key,
        kind=KIND,
        subject=f"{action} {job_number} {period}",
        payload={
            "job_number": job_number,
            "period": period,
            "userid_list": list(receivers),
            "title": f"KPI Hub: {period}",
            "text": body,
        },
    )


def send_notice(
    hub: Engine,
    action: str,
    job_number: str,
    period: str,
    version: int,
    appeal_id: int | None = None,
    due: str = "",
) -> int:
    """Queue the step's notice in the hub's outbox, after the step committed; nothing when work
    notifications are not configured."""
    if not reminders_enabled(get_settings()):
        return 0
    found = notice(action, read_directory(hub), job_number, period, version, appeal_id, due)
    return 0 if found is None else enqueue(hub, [found], now_utc())
