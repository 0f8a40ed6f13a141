"""What the stores hold, as plain data two runs can be compared by.

Row ids, run ids and time stamps differ between two runs that did the same work (a killed run's
transaction may have taken an id from a PostgreSQL sequence before it died), so every reference
between rows is replaced by the natural key of the row it points to: a raw version is its
source, stream, record key and payload hash; a fact is its person, month, KPI, kind and version;
a score is its person, month and version. The ``inputs_sha256`` of facts and scores are left
out: they digest row ids, and what they stand for (the lineage, the components) is compared by
natural key instead. What is left must be equal, row for row.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import create_engine, text

# Keys of a stream's cursor that say when it was synced, not what it has seen.
CURSOR_CLOCK_KEYS = frozenset({"last_sync_at"})
# Keys of an audit entry's detail that are row ids, mapped to natural keys below.
AUDIT_ID_KEYS = frozenset({"score_id", "supersedes_score_id"})


def _rows(conn: Any, sql: str) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(text(sql))]


def _json(value: Any) -> Any:
    """JSON columns come back as text on some drivers and as objects on others."""
    import json

    return json.loads(value) if isinstance(value, str) else value


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def hub_snapshot(url: str) -> dict[str, Any]:
    """The hub store: raw versions, heads, cursors, facts with their lineage, quarantine,
    findings, the alert outbox and the audit log."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            versions = {
                r["id"]: (r["source"], r["stream"], r["record_key"], r["payload_sha256"])
                for r in _rows(
                    conn,
                    "SELECT id, source, stream, record_key, payload_sha256 "
                    "FROM raw_record_versions",
                )
            }
            raw = Counter(versions.values())
            heads = {
                (r["source"], r["stream"], r["record_key"]): versions[r["version_id"]][3]
                for r in _rows(
                    conn, "SELECT source, stream, record_key, version_id FROM record_heads"
                )
            }
            cursors = {
                (r["source"], r["stream"]): {
                    k: v for k, v in _json(r["cursor"]).items() if k not in CURSOR_CLOCK_KEYS
                }
                for r in _rows(conn, "SELECT source, stream, cursor FROM stream_states")
            }
            fact_rows = _rows(
                conn,
                "SELECT id, job_number, period, kpi_code, kind, value, unit, source, version, "
                "is_current, change_reason, superseded_at FROM kpi_facts",
            )
            fact_keys = {
                f["id"]: (f["job_number"], f["period"], f["kpi_code"], f["kind"], f["version"])
                for f in fact_rows
            }
            inputs: dict[int, list[tuple[str, str, str, str]]] = {}
            for edge in _rows(conn, "SELECT fact_id, raw_version_id FROM fact_inputs"):
                inputs.setdefault(edge["fact_id"], []).append(versions[edge["raw_version_id"]])
            facts = {
                fact_keys[f["id"]]: (
                    _text(f["value"]),
                    f["unit"],
                    f["source"],
                    bool(f["is_current"]),
                    f["change_reason"],
                    f["superseded_at"] is None,
                    sorted(inputs.get(f["id"], [])),
                )
                for f in fact_rows
            }
            quarantine = Counter(
                (
                    q["source"],
                    q["stream"],
                    q["record_key"],
                    versions.get(q["raw_version_id"]),
                    q["period"],
                    q["reason"],
                    q["detail"],
                )
                for q in _rows(
                    conn,
                    "SELECT source, stream, record_key, raw_version_id, period, reason, detail "
                    "FROM quarantine",
                )
            )
            findings = Counter(
                (
                    f["check_name"],
                    f["kind"],
                    f["severity"],
                    f["subject"],
                    f["source"],
                    f["stream"],
                    f["job_number"],
                    f["kpi_code"],
                    f["period"],
                    f["status"],
                    f["count"],
                    repr(_json(f["detail"])),
                )
                for f in _rows(
                    conn,
                    "SELECT check_name, kind, severity, subject, source, stream, job_number, "
                    "kpi_code, period, status, count, detail FROM findings",
                )
            )
            outbox = Counter(
                (o["sink"], o["delivery_key"], o["kind"], o["subject"], repr(_json(o["payload"])))
                for o in _rows(
                    conn, "SELECT sink, delivery_key, kind, subject, payload FROM alert_outbox"
                )
            )
            audit = [
                (a["action"], a["subject"], _json(a["detail"]))
                for a in _rows(conn, "SELECT action, subject, detail FROM audit_log")
            ]
            leases = _rows(conn, "SELECT source, stream, holder FROM stream_leases")
    finally:
        engine.dispose()
    return {
        "raw_versions": raw,
        "record_heads": heads,
        "stream_states": cursors,
        "kpi_facts": facts,
        "quarantine": quarantine,
        "findings": findings,
        "alert_outbox": outbox,
        "audit_log": audit,
        "stream_leases": leases,
    }


def hr_snapshot(url: str) -> dict[str, Any]:
    """The HR store: every score version with its components and adjustments, facts named by
    their natural keys (taken from the hub, which is the same database in the default)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            fact_keys = {
                f["id"]: (f["job_number"], f["period"], f["kpi_code"], f["kind"], f["version"])
                for f in _rows(
                    conn, "SELECT id, job_number, period, kpi_code, kind, version FROM kpi_facts"
                )
            }
            score_rows = _rows(
                conn,
                "SELECT id, job_number, employee_name, department, period, template, "
                "template_version, template_sha256, subtotal, total, grade, status, "
                "hold_reasons, version, is_current, reason, superseded_by "
                "FROM scores",
            )
            score_keys = {s["id"]: (s["job_number"], s["period"], s["version"]) for s in score_rows}

            def facts_of(ids: Any) -> list[Any]:
                return sorted(fact_keys[i] for i in _json(ids) or [])

            parts: dict[int, list[Any]] = {}
            for c in _rows(
                conn,
                "SELECT score_id, position, kpi_code, status, actual, target, target_source, "
                "target_fact_id, direction, cap, attainment, weight, weight_used, points, "
                "fact_ids, note FROM score_components",
            ):
                parts.setdefault(c["score_id"], []).append(
                    (
                        "component",
                        c["position"],
                        c["kpi_code"],
                        c["status"],
                        _text(c["actual"]),
                        _text(c["target"]),
                        c["target_source"],
                        fact_keys.get(c["target_fact_id"]),
                        c["direction"],
                        _text(c["cap"]),
                        _text(c["attainment"]),
                        _text(c["weight"]),
                        _text(c["weight_used"]),
                        _text(c["points"]),
                        facts_of(c["fact_ids"]),
                        c["note"],
                    )
                )
            for a in _rows(
                conn,
                "SELECT score_id, position, rule, kind, kpi_code, value, applied, amount, "
                "fact_ids, note FROM score_adjustments",
            ):
                parts.setdefault(a["score_id"], []).append(
                    (
                        "adjustment",
                        a["position"],
                        a["rule"],
                        a["kind"],
                        a["kpi_code"],
                        _text(a["value"]),
                        bool(a["applied"]),
                        _text(a["amount"]),
                        facts_of(a["fact_ids"]),
                        a["note"],
                    )
                )
            scores = {
                score_keys[s["id"]]: (
                    s["employee_name"],
                    s["department"],
                    s["template"],
                    s["template_version"],
                    s["template_sha256"],
                    _text(s["subtotal"]),
                    _text(s["total"]),
                    s["grade"],
                    s["status"],
                    _json(s["hold_reasons"]),
                    bool(s["is_current"]),
                    s["reason"],
                    score_keys.get(s["superseded_by"]),
                    sorted(parts.get(s["id"], []), key=repr),
                )
                for s in score_rows
            }
    finally:
        engine.dispose()
    return {"scores": scores, "score_keys": score_keys}


def snapshot(hub_url: str, hr_url: str) -> dict[str, Any]:
    """Both stores; the audit log's score ids become the natural keys of those scores."""
    hub = hub_snapshot(hub_url)
    hr = hr_snapshot(hr_url)
    score_keys = hr.pop("score_keys")
    hub["audit_log"] = Counter(
        (
            action,
            subject,
            repr(
                {
                    k: score_keys.get(v) if k in AUDIT_ID_KEYS else v
                    for k, v in sorted((detail or {}).items())
                }
            ),
        )
        for action, subject, detail in hub["audit_log"]
    )
    return {**hub, **hr}


def differences(left: dict[str, Any], right: dict[str, Any]) -> list[str]:
    """One line per table whose contents differ, with a few of the differing rows."""
    lines: list[str] = []
    for table in sorted(set(left) | set(right)):
        a, b = left.get(table), right.get(table)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            only_a = [k for k in a if k not in b or a[k] != b[k]][:3]
            only_b = [k for k in b if k not in a][:3]
            lines.append(
                f"{table}: {len(a)} vs {len(b)} rows; "
                f"differing {only_a!r:.600} / extra {only_b!r:.300}"
            )
        else:
            lines.append(f"{table}: {a!r:.400} vs {b!r:.400}")
    return lines
