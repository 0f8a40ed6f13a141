"""The portal's Starlette application: routes, signed session cookies, templates and static files.

Sessions are cookies signed with the portal's key (HttpOnly, SameSite=Lax, Secure over HTTPS)
that expire after ``KPIHUB_PORTAL_SESSION_MINUTES``; a forged or stale cookie is simply no
session. Every form that changes something carries the session's CSRF token.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from pipelines.review import SHANGHAI
from pipelines.stores import Stores
from pipelines.talent_pool import pool_rules
from portal.directory import DirectoryCache
from portal.signin import DingTalkSignIn
from schemas.catalog import Catalog, load_catalog
from schemas.settings import Settings
from schemas.templates import TalentPool, load_templates

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "kpihub_session"
KEY_FILE = "portal.key"


@dataclass
class Portal:
    """What every request handler needs, kept on ``app.state.portal``."""

    settings: Settings
    stores: Stores
    signin: DingTalkSignIn
    directory: DirectoryCache
    pool_rules: dict[str, TalentPool]
    templates: Jinja2Templates
    catalog: Catalog


def local_time(iso: str | None) -> str:
    """An instant as people in the company read it: Asia/Shanghai, to the minute."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def session_key(settings: Settings) -> str:
    """``KPIHUB_PORTAL_SECRET``, or a random key kept (owner-only) in the home, so a restart of
    the portal does not sign everyone out."""
    if settings.portal_secret is not None:
        return settings.portal_secret.get_secret_value()
    path = settings.home / KEY_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as key_file:
            key_file.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def signin_of(settings: Settings) -> DingTalkSignIn:
    from portal.errors import PortalConfigError

    missing = [
        name
        for name, value in (
            ("KPIHUB_DINGTALK_BASE_URL", settings.dingtalk_base_url),
            ("KPIHUB_DINGTALK_APP_KEY", settings.dingtalk_app_key),
            ("KPIHUB_DINGTALK_APP_SECRET", settings.dingtalk_app_secret),
        )
        if not value
    ]
    if missing:
        raise PortalConfigError(
            f"sign-in with DingTalk needs {', '.join(missing)} (the app's AppKey and AppSecret)"
        )
    assert settings.dingtalk_base_url and settings.dingtalk_app_key
    assert settings.dingtalk_app_secret is not None
    return DingTalkSignIn(
        login_url=settings.dingtalk_login_url,
        api_url=settings.dingtalk_api_url,
        oapi_url=settings.dingtalk_base_url,
        app_key=settings.dingtalk_app_key,
        app_secret=settings.dingtalk_app_secret,
    )


def create_app(
    settings: Settings,
    stores: Stores,
    signin: DingTalkSignIn | None = None,
    https: bool = False,
) -> Starlette:
    from portal import views

    assert settings.templates_dir is not None
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["local"] = local_time
    portal = Portal(
        settings=settings,
        stores=stores,
        signin=signin or signin_of(settings),
        directory=DirectoryCache(stores.hub),
        pool_rules=pool_rules(load_templates(settings.templates_dir)),
        templates=templates,
        catalog=load_catalog(),
    )
    app = Starlette(
        routes=[
            Route("/", views.home, methods=["GET"]),
            Route("/login", views.login, methods=["GET"]),
            Route("/auth/callback", views.callback, methods=["GET"], name="callback"),
            Route("/logout", views.logout, methods=["POST"]),
            Route("/scores", views.score_list, methods=["GET"], name="scores"),
            Route("/scores/{job_number}/{period}", views.score_page, methods=["GET"]),
            Route("/scores/{job_number}/{period}/{action}", views.review_step, methods=["POST"]),
            Route("/people/{job_number}", views.person_page, methods=["GET"]),
            Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        ],
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=session_key(settings),
                session_cookie=SESSION_COOKIE,
                max_age=settings.portal_session_minutes * 60,
                same_site="lax",
                https_only=https,
            )
        ],
    )
    app.state.portal = portal
    return app
