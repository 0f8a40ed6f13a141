"""``kpihub status``: where the hub stands, at a glance, for HR operations: when each source was
last synced and whether that is still fresh, the open findings by severity, the last closed
month's scores (published, held, where they stand in the review), what waits for HR (appeals,
target changes, adjustments) and the alerts still queued or failing."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from orchestration.cli.inspect import open_stores
from orchestration.cli.options import PeriodOption, out, period_or_last_closed

if TYPE_CHECKING:
    from connectors.registry import Connector
    from pipelines.stores import Stores

SHANGHAI_FORMAT = "%Y-%m-%d %H:%M"


def source_rows(stores: Stores, now: datetime, window: timedelta) -> list[dict[str, Any]]:
    """Each registered source: its streams, how many have synced, when last, and whether that
    is within its freshness window (its own, or the hub's ``window``)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from connectors.registry import discover
    from connectors.sdk.timeparse import SHANGHAI
    from schemas.tables import StreamState

    with Session(stores.hub) as hub:
        synced = {
            (source, stream): at
            for source, stream, at in hub.execute(
                select(StreamState.source, StreamState.stream, StreamState.updated_at)
            )
        }
    rows = []
    for name, connector in discover().items():
        times = [synced[(name, s.name)] for s in connector.streams if (name, s.name) in synced]
        last = min(times) if len(times) == len(connector.streams) and times else None
        rows.append(
            {
                "source": name,
                "streams": len(connector.streams),
                "synced_streams": len(times),
                "last_sync": last.isoformat() if last else None,
                "last_sync_local": last.astimezone(SHANGHAI).strftime(SHANGHAI_FORMAT)
                if last
                else None,
                "fresh": last is not None and now - last <= freshness_of(connector, window),
            }
        )
    return rows


def freshness_of(connector: Connector, window: timedelta) -> timedelta:
    """The source's own freshness window when it has one, else the hub's."""
    if connector.freshness_hours is not None:
        return timedelta(hours=connector.freshness_hours)
    return window


def month_rows(stores: Stores, period: str) -> dict[str, Any]:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from pipelines.review import state_of
    from schemas.tables import Appeal, Score, ScoreChange, ScoreReview

    with Session(stores.hr) as hr:
        scores = list(
            hr.scalars(select(Score).where(Score.period == period, Score.is_current.is_(True)))
        )
        reviews = {
            r.job_number: r
            for r in hr.scalars(select(ScoreReview).where(ScoreReview.period == period))
        }
        appeals = hr.scalar(select(func.count()).select_from(Appeal).where(Appeal.status == "open"))
        waiting = Counter(
            kind
            for (kind,) in hr.execute(
                select(ScoreChange.kind).where(ScoreChange.status == "proposed")
            )
        )
    states = Counter(
        "held" if s.status == "held" else state_of(s, reviews.get(s.job_number)) for s in scores
    )
    return {
        "period": period,
        "scores": len(scores),
        "held": sum(1 for s in scores if s.status == "held"),
        "review_states": dict(sorted(states.items())),
        "appeals_open": appeals or 0,
        "target_changes_waiting": waiting.get("target", 0),
        "adjustments_waiting": waiting.get("adjustment", 0),
    }


def finding_counts(stores: Stores) -> dict[str, int]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from quality.findings import UNRESOLVED
    from schemas.tables import Finding

    with Session(stores.hub) as hub:
        counts = Counter(
            severity
            for (severity,) in hub.execute(
                select(Finding.severity).where(Finding.status.in_(UNRESOLVED))
            )
        )
    return {"ERROR": counts.get("ERROR", 0), "WARN": counts.get("WARN", 0)}


def alert_counts(stores: Stores) -> dict[str, dict[str, int]]:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from schemas.tables import OutboxAlert

    with Session(stores.hub) as hub:
        found = hub.execute(
            select(OutboxAlert.sink, OutboxAlert.status, func.count())
            .where(OutboxAlert.status != "sent")
            .group_by(OutboxAlert.sink, OutboxAlert.status)
        )
        counts: dict[str, dict[str, int]] = {}
        for sink, status, n in found:
            counts.setdefault(sink, {})[status] = n
    return dict(sorted(counts.items()))


def status_command(
    period: PeriodOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Where the hub stands: sources and their freshness, open findings, the month's scores,
    what waits for HR, and alerts not yet sent."""
    from connectors.sdk.timeparse import now_utc
    from schemas.settings import get_settings

    month = period_or_last_closed(period)
    stores = open_stores()
    window = timedelta(hours=get_settings().freshness_hours)
    report = {
        "sources": source_rows(stores, now_utc(), window),
        "findings_open": finding_counts(stores),
        "month": month_rows(stores, month),
        "alerts_not_sent": alert_counts(stores),
    }
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    table = Table(
        title=f"Sources (fresh: synced within {get_settings().freshness_hours:g} h, unless the "
        "source keeps its own window)"
    )
    for column in ("source", "streams synced", "last sync (Asia/Shanghai)", "fresh"):
        table.add_column(column)
    for row in report["sources"]:
        table.add_row(
            row["source"],
            f"{row['synced_streams']}/{row['streams']}",
            row["last_sync_local"] or "never",
            "yes" if row["fresh"] else "[red]no[/red]",
        )
    out.print(table)
    m = report["month"]
    states = ", ".join(f"{k} {v}" for k, v in m["review_states"].items()) or "none"
    findings = report["findings_open"]
    out.print(
        f"Findings open: {findings['ERROR']} ERROR, {findings['WARN']} WARN\n"
        f"Scores of {month}: {m['scores']} ({m['held']} held); review: {states}\n"
        f"Waiting for HR: {m['appeals_open']} appeal(s), {m['target_changes_waiting']} target "
        f"change(s), {m['adjustments_waiting']} adjustment(s)"
    )
    alerts = report["alerts_not_sent"]
    if alerts:
        out.print(
            "Alerts not sent: "
            + "; ".join(
                f"{sink}: " + ", ".join(f"{n} {s}" for s, n in sorted(by.items()))
                for sink, by in alerts.items()
            )
        )
    else:
        out.print("Alerts not sent: none")
