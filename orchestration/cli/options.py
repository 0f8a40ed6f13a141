"""Argument checks shared by commands: a bad period is a one-line error with exit code 2."""

from __future__ import annotations

import re
import sys

import typer
from rich.console import Console

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# Piped output (make, CI logs) is not limited to 80 columns, so tables keep their words whole.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def check_period(value: str) -> str:
    if not PERIOD.match(value):
        raise fail(f"period {value!r} is not a month in the form YYYY-MM")
    return value
