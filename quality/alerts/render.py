"""How alerts read in a message: a title, then each alert with its subject, kind, delivery key
and payload, in the order they were queued. Shared by the robot, the mail and the notifications,
so an alert reads the same wherever it arrives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from quality.alerts.outbox import Queued

PRODUCT = "KPI Hub"


def title(batch: Sequence[Queued]) -> str:
    if len(batch) == 1:
        return f"{PRODUCT}: {batch[0].subject}"
    return f"{PRODUCT}: {len(batch)} alerts"


def _value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _details(payload: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(str(k), _value(v)) for k, v in payload.items() if k != "text"]


def markdown_text(batch: Sequence[Queued]) -> str:
    parts: list[str] = []
    for alert in batch:
        lines = [f"#### {alert.subject}", "", f"{alert.kind} · `{alert.delivery_key}`", ""]
        if alert.payload.get("text"):
            lines += [str(alert.payload["text"]), ""]
        lines += [f"- **{k}**: {v}" for k, v in _details(alert.payload)]
        parts.append("\n".join(lines).rstrip())
    return "\n\n".join(parts) + "\n"


def plain_text(batch: Sequence[Queued]) -> str:
    parts: list[str] = []
    for alert in batch:
        lines = [alert.subject, f"{alert.kind} [{alert.delivery_key}]"]
        if alert.payload.get("text"):
            lines.append(str(alert.payload["text"]))
        lines += [f"  {k}: {v}" for k, v in _details(alert.payload)]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"
