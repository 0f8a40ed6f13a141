"""Argument checks shared by commands: a bad period, or a filter naming something the hub does not
know, is a one-line error with exit code 2, never an empty table that looks like "nobody"."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from schemas.periods import PERIOD_HINT, is_period, last_closed_period

# Piped output (make, CI logs) is not limited to 80 columns, so tables keep their words whole.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True)

PERIOD_HELP = "Month, YYYY-MM; by default the last closed month (Asia/Shanghai)."
PeriodOption = Annotated[str | None, typer.Option("--period", help=PERIOD_HELP)]
"""A month that defaults to the last closed one: the month HR reads after the monthly close."""
KNOWN_SHOWN = 30
"""How many known names an error lists before it says how many more there are."""


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` as one error line and return the exit to raise. The message is printed
    as it is: a file name or a cell reading ``[b]`` is not markup."""
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def check_period(value: str) -> str:
    if not is_period(value):
        raise fail(f"period {value!r} is not {PERIOD_HINT}")
    return value


def period_or_last_closed(value: str | None) -> str:
    """``value`` checked, or the last closed month in Asia/Shanghai when none was given."""
    return last_closed_period() if value is None else check_period(value)


def check_known(what: str, value: str, known: Iterable[str]) -> str:
    """``value`` if it is one of ``known``; otherwise an error naming what is known, so a typo is
    told apart from a filter that matches nobody."""
    names = sorted(set(known))
    if value in names:
        return value
    shown = ", ".join(names[:KNOWN_SHOWN])
    if len(names) > KNOWN_SHOWN:
        shown += f" and {len(names) - KNOWN_SHOWN} more"
    raise fail(f"unknown {what} {value!r}; known: {shown or 'none yet'}")
