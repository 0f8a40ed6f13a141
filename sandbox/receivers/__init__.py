"""Simulated alert destinations (DingTalk robot, generic webhook, SMTP) on loopback, so the hub's
alert sinks can be exercised end to end without reaching a real service."""

from __future__ import annotations

from sandbox.receivers.mail import MailReceiver, ReceivedMail
from sandbox.receivers.robot import RobotInbox, create_robot_app, new_robot_secret, sign
from sandbox.receivers.webhook import create_webhook_app

__all__ = [
    "MailReceiver",
    "ReceivedMail",
    "RobotInbox",
    "create_robot_app",
    "create_webhook_app",
    "new_robot_secret",
    "sign",
]
