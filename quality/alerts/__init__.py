"""Alerts that are never lost or doubled: queued in the hub store's outbox (``enqueue``), then
sent by ``deliver`` to the DingTalk robot, a webhook, e-mail or DingTalk work notifications."""

from quality.alerts.config import configured_secrets, sinks_from_settings
from quality.alerts.deliver import Backoff, DeliveryReport, SinkReport, deliver
from quality.alerts.mail import MailSink
from quality.alerts.notify import WorkNotificationSink
from quality.alerts.outbox import FAILED, QUEUED, SENT, Alert, Queued, enqueue, requeue
from quality.alerts.reminders import reminder
from quality.alerts.robot import RobotSink
from quality.alerts.sink import DeliveryFailed, Sink, Throttled
from quality.alerts.webhook import WebhookSink

__all__ = [
    "FAILED",
    "QUEUED",
    "SENT",
    "Alert",
    "Backoff",
    "DeliveryFailed",
    "DeliveryReport",
    "MailSink",
    "Queued",
    "RobotSink",
    "Sink",
    "SinkReport",
    "Throttled",
    "WebhookSink",
    "WorkNotificationSink",
    "configured_secrets",
    "deliver",
    "enqueue",
    "reminder",
    "requeue",
    "sinks_from_settings",
]
