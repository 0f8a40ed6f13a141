"""Where the hub keeps its state and how it reaches its stores.

Every setting comes from the environment (or ``$KPIHUB_HOME/sources.env``, which
``kpihub sandbox up`` writes), so the same code runs on a laptop and in production.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SOURCES_ENV_FILE = "sources.env"
DEFAULT_TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "pipelines" / "templates"


class Settings(BaseSettings):
    """Hub-wide settings; store URLs default to an embedded SQLite file under ``home``."""

    model_config = SettingsConfigDict(extra="ignore")

    home: Path = Field(default=Path(".kpihub"), validation_alias="KPIHUB_HOME")
    database_url: str | None = Field(default=None, validation_alias="KPIHUB_DATABASE_URL")
    hr_store_url: str | None = Field(default=None, validation_alias="KPIHUB_HR_STORE_URL")
    dagster_home: Path | None = Field(default=None, validation_alias="DAGSTER_HOME")
    templates_dir: Path | None = Field(default=None, validation_alias="KPIHUB_TEMPLATES_DIR")
    clock_tolerance_seconds: float = Field(
        default=300.0, ge=0, validation_alias="KPIHUB_CLOCK_TOLERANCE_SECONDS"
    )
    """How far ahead of the hub's clock a source's time stamp may be before it is a finding."""
    lease_wait_seconds: float = Field(
        default=300.0, ge=0, validation_alias="KPIHUB_LEASE_WAIT_SECONDS"
    )
    """How long a run waits for another run syncing the same stream before it stops."""
    close_day: int = Field(default=3, ge=1, le=28, validation_alias="KPIHUB_CLOSE_DAY")
    """Day of the month (Asia/Shanghai) the previous month is closed and scored: late records of
    the month's last days have arrived by then. At most the 28th, so every month has it."""
    close_hour: int = Field(default=3, ge=0, le=23, validation_alias="KPIHUB_CLOSE_HOUR")
    """Hour of ``close_day`` the monthly close starts, after the 02:00 daily sync."""
    freshness_hours: float = Field(default=26, gt=0, validation_alias="KPIHUB_FRESHNESS_HOURS")
    """How long after its last sync a source is still fresh: a day, plus the slack of a slow
    02:00 daily sync."""

    # Alert sinks: each is configured only when its address is set. Tokens, secrets and the
    # robot URL (it carries the robot's access token) are SecretStr, so no repr, log or error
    # built from the settings can show them.
    alert_robot_url: SecretStr | None = Field(
        default=None, validation_alias="KPIHUB_ALERT_ROBOT_URL"
    )
    alert_robot_secret: SecretStr | None = Field(
        default=None, validation_alias="KPIHUB_ALERT_ROBOT_SECRET"
    )
    alert_webhook_url: str | None = Field(default=None, validation_alias="KPIHUB_ALERT_WEBHOOK_URL")
    alert_webhook_token: SecretStr | None = Field(
        default=None, validation_alias="KPIHUB_ALERT_WEBHOOK_TOKEN"
    )
    alert_smtp_host: str | None = Field(default=None, validation_alias="KPIHUB_ALERT_SMTP_HOST")
    alert_smtp_port: int = Field(default=25, gt=0, validation_alias="KPIHUB_ALERT_SMTP_PORT")
    alert_smtp_user: str | None = Field(default=None, validation_alias="KPIHUB_ALERT_SMTP_USER")
    alert_smtp_password: SecretStr | None = Field(
        default=None, validation_alias="KPIHUB_ALERT_SMTP_PASSWORD"
    )
    alert_mail_from: str = Field(
        default="kpihub@localhost", validation_alias="KPIHUB_ALERT_MAIL_FROM"
    )
    alert_mail_to: str | None = Field(default=None, validation_alias="KPIHUB_ALERT_MAIL_TO")
    """Comma-separated recipients of alert mail; without them no mail is sent."""
    dingtalk_base_url: str | None = Field(default=None, validation_alias="KPIHUB_DINGTALK_BASE_URL")
    dingtalk_app_key: str | None = Field(default=None, validation_alias="KPIHUB_DINGTALK_APP_KEY")
    dingtalk_app_secret: SecretStr | None = Field(
        default=None, validation_alias="KPIHUB_DINGTALK_APP_SECRET"
    )
    dingtalk_agent_id: str | None = Field(default=None, validation_alias="KPIHUB_DINGTALK_AGENT_ID")
    """The app's AgentId, which work notifications (personal reminders) are sent as."""
    dingtalk_login_url: str = Field(
        default="https://login.dingtalk.com", validation_alias="KPIHUB_DINGTALK_LOGIN_URL"
    )
    """DingTalk's sign-in page host, where the portal sends a browser to sign in."""
    dingtalk_api_url: str = Field(
        default="https://api.dingtalk.com", validation_alias="KPIHUB_DINGTALK_API_URL"
    )
    """DingTalk's new API host (user access tokens, ``contact/users/me``)."""

    # The score portal.
    portal_secret: SecretStr | None = Field(default=None, validation_alias="KPIHUB_PORTAL_SECRET")
    """Signs the portal's session cookies; without it a random key is kept in the home."""
    portal_hr_job_numbers: str = Field(default="", validation_alias="KPIHUB_PORTAL_HR_JOB_NUMBERS")
    """Comma-separated job numbers of HR staff, who see every score."""
    portal_hr_roles: str = Field(default="", validation_alias="KPIHUB_PORTAL_HR_ROLES")
    """Comma-separated DingTalk role names whose holders are HR staff."""
    portal_session_minutes: int = Field(
        default=480, gt=0, validation_alias="KPIHUB_PORTAL_SESSION_MINUTES"
    )
    """How long a sign-in lasts: a working day by default."""
    confirm_working_days: int = Field(
        default=5, ge=1, le=30, validation_alias="KPIHUB_CONFIRM_WORKING_DAYS"
    )
    """Working days (Asia/Shanghai) an employee has to confirm or appeal a reviewed score before
    it is confirmed silently."""

    @field_validator("database_url", "hr_store_url")
    @classmethod
    def _a_database_url(cls, value: str | None) -> str | None:
        """A URL SQLAlchemy cannot parse fails here, at start, not at the first query; the
        message never repeats the value, which may carry a password."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        if not value:
            return value
        try:
            make_url(value)
        except ArgumentError:
            raise ValueError(
                "not a database URL (dialect+driver://user@host/database or sqlite:///path)"
            ) from None
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        self.home = self.home.expanduser().resolve()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'hub.db'}"
        if not self.hr_store_url:
            self.hr_store_url = self.database_url
        if self.dagster_home is None:
            self.dagster_home = self.home / "dagster"
        self.dagster_home = self.dagster_home.expanduser().resolve()
        if self.templates_dir is None:
            self.templates_dir = DEFAULT_TEMPLATES_DIR
        self.templates_dir = self.templates_dir.expanduser().resolve()
        return self

    @property
    def hr_job_numbers(self) -> frozenset[str]:
        return _listed(self.portal_hr_job_numbers)

    @property
    def hr_roles(self) -> frozenset[str]:
        return _listed(self.portal_hr_roles)

    @property
    def sources_env_file(self) -> Path:
        return self.home / SOURCES_ENV_FILE

    @property
    def hub_url(self) -> str:
        assert self.database_url is not None
        return self.database_url

    @property
    def hr_url(self) -> str:
        assert self.hr_store_url is not None
        return self.hr_store_url


def _listed(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def load_sources_env(settings: Settings) -> None:
    """Export endpoints and credentials from ``sources.env`` without overriding the environment.

    Dagster resources read credentials through ``EnvVar``, so they must be in ``os.environ``.
    """
    from dotenv import dotenv_values

    path = settings.sources_env_file
    if not path.is_file():
        return
    for key, value in dotenv_values(path).items():
        if value is not None:
            os.environ.setdefault(key, value)


class SettingsError(ValueError):
    """A setting that cannot work, in one line naming its variable and what is wrong with the
    value, never the value itself (it may be a secret)."""


def settings_problem(exc: ValidationError) -> str:
    """``KPIHUB_CLOSE_DAY: Input should be less than or equal to 28``, one per bad variable."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{name}: {message}")
    return "; ".join(problems)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(settings_problem(exc)) from None
