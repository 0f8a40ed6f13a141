"""What a person sees when a command fails: one line and an exit code, never a traceback.

A command reports the errors it expects itself (``fail``). Whatever escapes it is turned into one
line here: a configuration that cannot work (a setting, a template, a store out of reach) exits 2
like any other bad input; a source that failed or anything unexpected exits 1. ``kpihub --debug``
lets the exception through, traceback and all, for whoever has to dig.

The line is built from the exception's type and its first line only: a driver's error goes on
with the statement and its bound parameters, which may hold payloads, and those are never shown.
"""

from __future__ import annotations

from typing import Any

import click
import typer
from typer.core import TyperGroup

from orchestration.cli.options import fail

DEBUG = "kpihub.debug"
"""Key in the click context's ``meta`` (shared by every nested command) set by ``--debug``."""
CONFIGURATION = 2
FAILED = 1
MAX_CHARS = 300


def first_line(exc: BaseException) -> str:
    """The message's first line, cut to a readable length."""
    lines = str(exc).strip().splitlines()
    text = lines[0].strip() if lines else ""
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 3] + "..."


def _store_urls() -> str:
    """The stores as configured, passwords hidden."""
    from sqlalchemy.engine import make_url

    from schemas.settings import get_settings

    settings = get_settings()
    urls = dict.fromkeys([settings.hub_url, settings.hr_url])
    return " and ".join(make_url(u).render_as_string(hide_password=True) for u in urls)


def explain(exc: Exception) -> tuple[int, str]:
    """(exit code, one line) for an exception no command handled."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    from connectors.sdk.errors import ConnectorError
    from pipelines.leases import LeaseHeld
    from schemas.catalog import CatalogError
    from schemas.settings import SettingsError
    from schemas.templates import TemplateError

    if isinstance(exc, SettingsError | TemplateError | CatalogError):
        return CONFIGURATION, first_line(exc)
    if isinstance(exc, OperationalError):
        # Connecting failed (a server down, a folder that is not there): the driver's own words,
        # never the statement or its parameters.
        reason = first_line(exc.orig) if exc.orig is not None else type(exc).__name__
        return CONFIGURATION, f"cannot use the store at {_store_urls()}: {reason}"
    if isinstance(exc, DBAPIError):
        reason = first_line(exc.orig) if exc.orig is not None else ""
        name = type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__
        return FAILED, f"the store refused a change: {name}: {reason}"
    if isinstance(exc, ConnectorError | LeaseHeld):
        return FAILED, first_line(exc)
    return FAILED, (
        f"unexpected {type(exc).__name__}: {first_line(exc)} "
        "(run the command again with --debug for the traceback)"
    )


class OneLineErrors(TyperGroup):
    """The top-level command group: every subcommand runs inside :meth:`invoke`."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (
            typer.Exit,
            click.exceptions.ClickException,
            click.exceptions.Exit,
            click.exceptions.Abort,
        ):
            raise
        except Exception as exc:
            if ctx.meta.get(DEBUG):
                raise
            code, line = explain(exc)
            raise fail(line, code) from None


def check_environment() -> None:
    """Settings read from the environment that cannot work stop every command before it starts,
    each in one line naming the variable."""
    from connectors.sdk.calendar import history_months, today_local
    from schemas.settings import SettingsError, get_settings

    try:
        get_settings()
        today_local()
        history_months()
    except (SettingsError, ValueError) as exc:
        raise fail(first_line(exc), CONFIGURATION) from None


def debug_option(ctx: typer.Context, debug: bool) -> None:
    ctx.meta[DEBUG] = debug
