"""The sinks the settings configure: each one whose address is set, with its secrets as the
settings hold them (SecretStr), so no sink is built from a bare string read somewhere else."""

from __future__ import annotations

import httpx

from quality.alerts.mail import MailSink
from quality.alerts.notify import WorkNotificationSink
from quality.alerts.robot import RobotSink
from quality.alerts.sink import Sink
from quality.alerts.webhook import WebhookSink
from schemas.settings import Settings


def recipients(raw: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (raw or "").split(",") if part.strip())


def sinks_from_settings(
    settings: Settings, transport: httpx.BaseTransport | None = None
) -> list[Sink]:
    """Robot, webhook, mail and work notifications, in that order, as far as configured."""
    sinks: list[Sink] = []
    if settings.alert_robot_url and settings.alert_robot_secret:
        sinks.append(RobotSink(settings.alert_robot_url, settings.alert_robot_secret, transport))
    if settings.alert_webhook_url and settings.alert_webhook_token:
        sinks.append(
            WebhookSink(settings.alert_webhook_url, settings.alert_webhook_token, transport)
        )
    to = recipients(settings.alert_mail_to)
    if settings.alert_smtp_host and to:
        sinks.append(
            MailSink(
                settings.alert_smtp_host,
                settings.alert_smtp_port,
                settings.alert_mail_from,
                to,
                settings.alert_smtp_user,
                settings.alert_smtp_password,
            )
        )
    if (
        settings.dingtalk_base_url
        and settings.dingtalk_app_key
        and settings.dingtalk_app_secret
        and settings.dingtalk_agent_id
    ):
        sinks.append(
            WorkNotificationSink(
                settings.dingtalk_base_url,
                settings.dingtalk_app_key,
                settings.dingtalk_app_secret,
                settings.dingtalk_agent_id,
                transport,
            )
        )
    return sinks


def configured_secrets(settings: Settings) -> tuple[str, ...]:
    """Every secret value the alert settings hold: what no alert, log line or row may contain."""
    values = (
        settings.alert_robot_url,
        settings.alert_robot_secret,
        settings.alert_webhook_token,
        settings.alert_smtp_password,
        settings.dingtalk_app_secret,
    )
    found = [v.get_secret_value() for v in values if v is not None]
    for sink in sinks_from_settings(settings):
        found.extend(sink.secrets())
    return tuple(dict.fromkeys(s for s in found if s))
