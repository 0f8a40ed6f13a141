"""Declared shapes of terminal records: what lateness and absence rely on. Extra fields pass
through."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class Shift(BaseModel):
    """One card's planned day: a shift ("HH:MM" to "HH:MM") or a rest day."""

    model_config = ConfigDict(extra="allow")

    card_no: str
    date: str
    shift_start: str | None = None
    shift_end: str | None = None
    rest: bool = False


class Punch(BaseModel):
    """One raw tap on a terminal; ``direction`` is null when the terminal did not know."""

    model_config = ConfigDict(extra="allow")

    card_no: str
    device_id: str
    punch_time: int
    direction: Literal["in", "out"] | None = None
