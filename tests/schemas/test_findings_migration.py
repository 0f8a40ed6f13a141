"""Findings written before the review queue existed are filled in by the migration from what they
already say: quarantines are about their source, future stamps about their stream."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from schemas.migrations.apply import alembic_config, upgrade_stores

EARLIER = [
    (1, "crm.quarantined_records", "WARN", "crm", "open"),
    (2, "dingtalk.future_stamped_records", "WARN", "dingtalk/attendance", "open"),
    (3, "people.badge", "ERROR", "E00004", "resolved"),
    (4, "erp.gap", "ERROR", "erp", "open"),
]


def test_earlier_findings_are_filled_in_and_the_downgrade_drops_the_new_columns(
    store_url: str,
) -> None:
    command.downgrade(alembic_config("hub", store_url), "0003_hub")
    engine = create_engine(store_url)
    with engine.begin() as conn:
        for row_id, check, severity, subject, status in EARLIER:
            conn.execute(
                text(
                    "INSERT INTO findings (id, check_name, severity, subject, period, status,"
                    " count, detail, created_at, updated_at) VALUES (:id, :check, :severity,"
                    " :subject, '2026-10', :status, 1, '{}', '2026-11-01 00:00:00',"
                    " '2026-11-01 00:00:00')"
                ),
                {
                    "id": row_id,
                    "check": check,
                    "severity": severity,
                    "subject": subject,
                    "status": status,
                },
            )
    upgrade_stores(store_url, store_url)
    with engine.connect() as conn:
        filled = conn.execute(
            text(
                "SELECT id, kind, source, stream, job_number, kpi_code, changed_by, status"
                " FROM findings ORDER BY id"
            )
        ).all()
    assert [tuple(r) for r in filled] == [
        (1, "quarantine", "crm", None, None, None, None, "open"),
        (2, "expectation", "dingtalk", "attendance", None, None, None, "open"),
        (3, "expectation", "people", None, "E00004", None, None, "resolved"),
        (4, "expectation", "erp", None, None, None, None, "open"),
    ]
    command.downgrade(alembic_config("hub", store_url), "0003_hub")
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT id, check_name FROM findings ORDER BY id")).all()
    engine.dispose()
    assert [tuple(r) for r in kept] == [(r[0], r[1]) for r in EARLIER]
