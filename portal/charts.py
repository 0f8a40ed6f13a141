"""Chart geometry for the pages, drawn as inline SVG by the templates: a grade distribution and
a person's totals over the months need no JavaScript."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH, HEIGHT, PAD = 560, 180, 28


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    x: float
    y: float
    width: float
    height: float


def grade_bars(grades: Sequence[str | None]) -> list[Bar]:
    """One bar per grade seen, best grade first (grades are named ``A 优秀``, ``B 良好``...)."""
    counts = Counter(g or "—" for g in grades)
    if not counts:
        return []
    labels = sorted(counts)
    slot = (WIDTH - 2 * PAD) / len(labels)
    tallest = max(counts.values())
    bars = []
    for i, label in enumerate(labels):
        height = (HEIGHT - 2 * PAD) * counts[label] / tallest
        bars.append(
            Bar(
                label,
                counts[label],
                PAD + i * slot + slot * 0.15,
                HEIGHT - PAD - height,
                slot * 0.7,
                height,
            )
        )
    return bars


@dataclass(frozen=True)
class Point:
    label: str
    value: str
    x: float
    y: float


def trend_points(totals: Sequence[tuple[str, Decimal | None]]) -> list[Point]:
    """A point per month with a total, oldest on the left, on a 0..max scale."""
    known = [(p, v) for p, v in totals if v is not None]
    if not known:
        return []
    top = max(max(v for _, v in known), Decimal(100))
    step = (WIDTH - 2 * PAD) / max(len(known) - 1, 1)
    return [
        Point(
            period,
            str(value),
            PAD + i * step,
            HEIGHT - PAD - float(value / top) * (HEIGHT - 2 * PAD),
        )
        for i, (period, value) in enumerate(known)
    ]
