"""Statistical anomaly detection: each person's KPI fact against their own trailing months (robust
z-score on median and MAD), against their cohort when their history is short, and each stream's
record volume per day and per month against its history.

Median and MAD rather than mean and standard deviation, because one bad month must not hide the
next one by inflating the baseline; past findings HR confirmed as real anomalies are left out of
every baseline for the same reason. Thresholds are per KPI in the catalog (``anomaly:``). Each
anomaly becomes a finding of kind ``anomaly`` naming the raw records behind it; WARN by default,
so a statistical hunch never holds a score unless HR configured the KPI as ERROR.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from quality import clock as terminal_clock
from quality import duplicates as booked_twice
from quality import uniform as uniform_evaluator
from quality.fact_records import fact_records
from quality.findings import CONFIRMED, Observation, clear_finding, raise_finding
from quality.scores import Anomaly, Score, robust_z
from schemas.catalog import Catalog, Kpi
from schemas.tables import FactInput, Finding, KpiFactRow, RawRecordVersion, RecordHead

SHANGHAI = ZoneInfo("Asia/Shanghai")
RECORDS_IN_DETAIL = 50
PERSON_CHECK = "anomaly.{kpi}"
VOLUME_CHECK = "anomaly.volume"
CHECKS = {
    "volume": VOLUME_CHECK,
    booked_twice.METHOD: "anomaly.booked_twice",
    uniform_evaluator.METHOD: "anomaly.uniform_evaluator",
    terminal_clock.METHOD: "anomaly.terminal_clock",
}
"""The finding's check per method; a person's own-history or cohort anomaly is per KPI."""


def basis_of(kpi: Kpi) -> str:
    return kpi.anomaly.basis or ("per_record" if kpi.aggregation == "sum" else "value")


@dataclass(frozen=True)
class FactPoint:
    """One current fact as the detectors see it."""

    job_number: str
    period: str
    kpi_code: str
    value: Decimal
    records: int
    source: str = ""
    stream: str | None = None
    record_keys: tuple[str, ...] = ()

    def measure(self, basis: str) -> float:
        if basis == "per_record":
            return float(self.value) / max(1, self.records)
        return float(self.value)


def person_anomalies(
    current: Iterable[FactPoint],
    history: Mapping[tuple[str, str], Sequence[FactPoint]],
    kpi: Kpi,
) -> list[Anomaly]:
    """Each fact of one KPI and month against the person's own trailing months, or, with fewer
    than ``min_history`` of them, against the month's cohort (everyone with that KPI)."""
    rule = kpi.anomaly
    if not rule.enabled:
        return []
    basis = basis_of(kpi)

    def usable(p: FactPoint) -> bool:
        # A sum with no record behind it (a month without receipts) has no per-record value.
        return p.records >= rule.min_records and (basis == "value" or p.value != 0)

    points = [p for p in current if usable(p)]
    cohort = [p.measure(basis) for p in points]
    found: list[Anomaly] = []
    for point in points:
        past = [
            p.measure(basis)
            for p in history.get((point.job_number, point.kpi_code), ())
            if usable(p)
        ][-rule.history_months :]
        if len(past) >= rule.min_history:
            method, baseline = "own_history", past
        elif len(cohort) >= rule.min_cohort:
            method, baseline = "cohort", cohort
        else:
            continue
        score = robust_z(
            point.measure(basis),
            baseline,
            relative_floor=rule.relative_floor,
            absolute_floor=rule.absolute_floor,
        )
        if abs(score.z) >= rule.threshold:
            found.append(
                Anomaly(
                    point.source, kpi.code, point.period, method, score,
                    job_number=point.job_number, stream=point.stream, value=str(point.value),
                    record_keys=point.record_keys, extra={"basis": basis},
                )
            )  # fmt: skip
    return found


def volume_anomalies(
    source: str,
    stream: str,
    kpi: Kpi,
    period: str,
    by_day: Mapping[date, int],
    by_month: Mapping[str, int],
    *,
    excluded_days: Iterable[date] = (),
    excluded_months: Iterable[str] = (),
) -> list[Anomaly]:
    """The stream's record count per day of ``period`` against the days of its window (days
    with no records at all are rest days, not data), and the month's count against the
    trailing months. One anomaly for the stream and month, listing the days that stood out."""
    rule = kpi.anomaly
    skip_days, skip_months = set(excluded_days), set(excluded_months)
    baseline_days = [n for d, n in sorted(by_day.items()) if n > 0 and d not in skip_days]
    odd: list[dict[str, Any]] = []
    worst: Score | None = None
    if len(baseline_days) >= rule.min_history:
        for day, count in sorted(by_day.items()):
            if count <= 0 or f"{day:%Y-%m}" != period:
                continue
            score = robust_z(
                count, baseline_days, relative_floor=rule.volume_relative_floor, absolute_floor=1
            )
            if abs(score.z) >= rule.volume_threshold:
                odd.append({"day": day.isoformat(), "records": count, "z": round(score.z, 2)})
                if worst is None or abs(score.z) > abs(worst.z):
                    worst = score
    months = [n for m, n in sorted(by_month.items()) if m < period and m not in skip_months]
    months = months[-rule.history_months :]
    month_score: Score | None = None
    if len(months) >= rule.min_history and period in by_month:
        score = robust_z(by_month[period], months, relative_floor=0.1, absolute_floor=1)
        if abs(score.z) >= rule.volume_threshold:
            month_score = score
    if not odd and month_score is None:
        return []
    chosen = worst or month_score
    assert chosen is not None
    return [
        Anomaly(
            source, kpi.code, period, "volume", chosen, stream=stream,
            value=str(by_month.get(period, 0)),
            extra={
                "days": odd,
                "month_records": by_month.get(period, 0),
                "month_baseline": months,
                "month_z": None if month_score is None else round(month_score.z, 2),
            },
        )
    ]  # fmt: skip


def _rounded(x: float) -> float | str:
    return round(x, 4) if abs(x) != float("inf") else str(x)


def _threshold(method: str, kpi: Kpi) -> float | int:
    """What the method's measure was held against: a z-score threshold, or a count."""
    rule = kpi.anomaly
    return {
        "volume": rule.volume_threshold,
        booked_twice.METHOD: 2,
        uniform_evaluator.METHOD: rule.uniform_min_facts,
    }.get(method, rule.threshold)


def observation(anomaly: Anomaly, kpi: Kpi) -> Observation:
    """The finding an anomaly raises: where, what value, against which baseline, which records."""
    score = anomaly.score
    who = anomaly.job_number or f"{anomaly.source}/{anomaly.stream}"
    message = (
        f"{kpi.code} of {who} in {anomaly.period} is {anomaly.value}: robust z "
        f"{_rounded(score.z)} against the {anomaly.method.replace('_', ' ')} median "
        f"{_rounded(score.median)}"
    )
    detail: dict[str, Any] = {
        "message": message,
        "method": anomaly.method,
        "value": anomaly.value,
        "measured": _rounded(score.value),
        "baseline_median": _rounded(score.median),
        "baseline_scale": _rounded(score.scale),
        "baseline": [_rounded(b) for b in score.baseline][:60],
        "z": _rounded(score.z),
        "threshold": _threshold(anomaly.method, kpi),
        "records": list(anomaly.record_keys[:RECORDS_IN_DETAIL]),
        "records_total": len(anomaly.record_keys),
        **anomaly.extra,
    }
    check = CHECKS.get(anomaly.method) or PERSON_CHECK.format(kpi=kpi.code)
    return Observation(
        check_name=check,
        kind="anomaly",
        severity=kpi.anomaly.severity,
        source=anomaly.source,
        period=anomaly.period,
        count=max(1, len(anomaly.record_keys)),
        detail=detail,
        stream=anomaly.stream,
        job_number=anomaly.job_number,
        kpi_code=kpi.code,
    )


# --- reading the hub store -------------------------------------------------------------------


def shift_period(period: str, months: int) -> str:
    year, month = int(period[:4]), int(period[5:7]) + months
    while month < 1:
        year, month = year - 1, month + 12
    while month > 12:
        year, month = year + 1, month - 12
    return f"{year:04d}-{month:02d}"


def _points(
    session: Session, source: str, codes: Sequence[str], periods: Sequence[str]
) -> list[FactPoint]:
    facts = list(
        session.scalars(
            select(KpiFactRow).where(
                KpiFactRow.source == source,
                KpiFactRow.kpi_code.in_(list(codes)),
                KpiFactRow.period.in_(list(periods)),
                KpiFactRow.is_current.is_(True),
                KpiFactRow.kind == "actual",
            )
        )
    )
    inputs: dict[int, list[tuple[str, str]]] = defaultdict(list)
    ids = [f.id for f in facts]
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(FactInput.fact_id, RawRecordVersion.stream, RawRecordVersion.record_key)
            .join(RawRecordVersion, RawRecordVersion.id == FactInput.raw_version_id)
            .where(FactInput.fact_id.in_(ids[start : start + 500]))
        )
        for fact_id, stream, key in rows:
            inputs[fact_id].append((stream, key))
    points: list[FactPoint] = []
    for f in facts:
        used = inputs[f.id]
        main = Counter(s for s, _ in used).most_common(1)
        stream = main[0][0] if main else None
        keys = tuple(sorted(k for s, k in used if s == stream))
        points.append(
            FactPoint(f.job_number, f.period, f.kpi_code, f.value, len(keys), f.source, stream,
                      keys)
        )  # fmt: skip
    return points


def _confirmed(session: Session, check_names: Sequence[str]) -> list[Finding]:
    return list(
        session.scalars(
            select(Finding).where(
                Finding.check_name.in_(list(check_names)), Finding.status == CONFIRMED
            )
        )
    )


def _day_of(value: Any) -> date | None:
    """The local day of a payload time: epoch seconds, or ISO text read as Asia/Shanghai."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, SHANGHAI).date()
    if isinstance(value, str) and len(value) >= 10:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment.astimezone(SHANGHAI).date() if moment.tzinfo else moment.date()
    return None


def _volume_counts(
    session: Session, source: str, stream: str, months: Sequence[str], time_field: str | None
) -> tuple[dict[date, int], dict[str, int]]:
    """Records of the stream per local day of their source time stamp (current versions), or
    of ``time_field`` in the payload for a stream whose records carry no stamp."""
    column = RawRecordVersion.payload if time_field else RawRecordVersion.source_updated_at
    stamps = session.scalars(
        select(column)
        .join(RecordHead, RecordHead.version_id == RawRecordVersion.id)
        .where(RecordHead.source == source, RecordHead.stream == stream)
    )
    wanted = set(months)
    by_day: Counter[date] = Counter()
    for stamp in stamps:
        if time_field:
            day = _day_of(stamp.get(time_field)) if isinstance(stamp, dict) else None
        else:
            day = None if stamp is None else stamp.astimezone(SHANGHAI).date()
        if day is None:
            continue
        if f"{day:%Y-%m}" in wanted:
            by_day[day] += 1
    by_month: Counter[str] = Counter()
    for day, n in by_day.items():
        by_month[f"{day:%Y-%m}"] += n
    return dict(by_day), dict(by_month)


def detect(session: Session, catalog: Catalog, source: str, period: str) -> list[Anomaly]:
    """Every anomaly of one source's facts and streams in ``period``."""
    kpis = [k for k in catalog.from_source(source) if k.anomaly.enabled]
    if not kpis:
        return []
    window = max(k.anomaly.history_months for k in kpis)
    periods = [shift_period(period, -n) for n in range(window, -1, -1)]
    points = _points(session, source, [k.code for k in kpis], periods)
    confirmed = _confirmed(
        session, [PERSON_CHECK.format(kpi=k.code) for k in kpis] + [VOLUME_CHECK]
    )
    left_out = {(f.job_number, f.kpi_code, f.period) for f in confirmed if f.job_number}
    history: dict[tuple[str, str], list[FactPoint]] = defaultdict(list)
    current: dict[str, list[FactPoint]] = defaultdict(list)
    for point in sorted(points, key=lambda p: p.period):
        if point.period == period:
            current[point.kpi_code].append(point)
        elif (point.job_number, point.kpi_code, point.period) not in left_out:
            history[(point.job_number, point.kpi_code)].append(point)
    found: list[Anomaly] = []
    for kpi in kpis:
        found += person_anomalies(current[kpi.code], history, kpi)
        for ref in kpi.anomaly.volume_streams:
            stream_source, _, stream = ref.partition("/")
            if stream_source != source:
                continue
            months = periods[-(kpi.anomaly.history_months + 1) :]
            by_day, by_month = _volume_counts(
                session, source, stream, months, kpi.anomaly.volume_time_fields.get(ref)
            )
            mine = [f for f in confirmed if f.check_name == VOLUME_CHECK and f.stream == stream]
            found += volume_anomalies(
                source, stream, kpi, period, by_day, by_month,
                excluded_days=[
                    date.fromisoformat(d["day"]) for f in mine for d in f.detail.get("days", [])
                ],
                excluded_months=[f.period for f in mine if f.detail.get("month_z") is not None],
            )  # fmt: skip
        found += _booking_anomalies(session, source, kpi, period)
        for ref, rule in sorted(kpi.anomaly.clock_streams.items()):
            stream_source, _, stream = ref.partition("/")
            if stream_source == source:
                months = periods[-(kpi.anomaly.history_months + 1) :]
                punches = _payloads(session, source, stream, months)
                found += terminal_clock.clock_anomalies(
                    source, stream, kpi, period, rule, punches, months
                )
    return found


def _booking_anomalies(session: Session, source: str, kpi: Kpi, period: str) -> list[Anomaly]:
    """How the month's facts were booked: an event twice, one evaluator's values all alike."""
    rule = kpi.anomaly
    wanted = rule.uniform_by is not None or any(
        ref.partition("/")[0] == source for ref in rule.duplicate_fields
    )
    if not wanted:
        return []
    fields = {f for names in rule.duplicate_fields.values() for f in names}
    if rule.uniform_by is not None:
        fields.add(rule.uniform_by)
    facts = fact_records(session, source, kpi.code, period, fields)
    return booked_twice.duplicate_anomalies(
        source, period, kpi, facts
    ) + uniform_evaluator.uniform_anomalies(source, period, kpi, facts)


def _payloads(
    session: Session, source: str, stream: str, months: Sequence[str]
) -> Iterator[tuple[str, Any]]:
    """The record key and payload of each current record of a stream in ``months`` (by the
    month its stream places it in; a record without one is read too), streamed: a large
    company's punches of half a year never sit in memory at once."""
    rows = session.execute(
        select(RecordHead.record_key, RawRecordVersion.payload)
        .join(RawRecordVersion, RawRecordVersion.id == RecordHead.version_id)
        .where(
            RecordHead.source == source,
            RecordHead.stream == stream,
            or_(RecordHead.event_period.in_(list(months)), RecordHead.event_period.is_(None)),
        )
        .execution_options(yield_per=5000)
    )
    for key, payload in rows:
        if isinstance(payload, dict):
            yield key, payload


def run_anomaly_detection(
    session: Session, catalog: Catalog, source: str, period: str, run_id: str = "kpihub"
) -> list[tuple[Anomaly, Finding]]:
    """Detect, raise a finding per anomaly, and clear this source's anomaly findings of the
    month that the data no longer shows (a corrected source record, a new threshold)."""
    kpis = {k.code: k for k in catalog.root}
    raised: list[tuple[Anomaly, Finding]] = []
    seen: set[int] = set()
    for anomaly in detect(session, catalog, source, period):
        finding = raise_finding(session, observation(anomaly, kpis[anomaly.kpi_code]), run_id)
        raised.append((anomaly, finding))
        seen.add(finding.id)
    stale = session.scalars(
        select(Finding).where(
            Finding.kind == "anomaly",
            Finding.source == source,
            Finding.period == period,
            Finding.check_name.like("anomaly.%"),
            Finding.count > 0,
        )
    )
    for finding in list(stale):
        if finding.id not in seen:
            clear_finding(session, finding, {"message": "no longer anomalous"}, run_id)
    return raised
