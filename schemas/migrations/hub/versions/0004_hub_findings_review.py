"""findings for the review queue: kind, where they point, who changed them last

Revision ID: 0004_hub
Revises: 0003_hub
Create Date: 2026-12-01 07:45:00.000000

Rows written before this revision are filled from what they already say: a
``<source>.quarantined_records`` finding is a quarantine about that source; any other is a failed
expectation of the source its check name starts with, about a stream when the subject is
``source/stream``, the whole source when the subject is the source, else one person (the subject
is then their job number).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import schemas.tables.types

revision: str = "0004_hub"
down_revision: str | None = "0003_hub"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUARANTINE_CHECK = ".quarantined_records"


def _filled(check_name: str, subject: str) -> dict[str, str | None]:
    """What an earlier row's check name and subject say about its kind and place."""
    source = check_name.split(".", 1)[0] if "." in check_name else None
    if check_name.endswith(QUARANTINE_CHECK):
        return {"kind": "quarantine", "source": subject, "stream": None, "job_number": None}
    if "/" in subject:
        head, stream = subject.split("/", 1)
        return {"kind": "expectation", "source": head, "stream": stream, "job_number": None}
    if subject == source:
        return {"kind": "expectation", "source": source, "stream": None, "job_number": None}
    return {"kind": "expectation", "source": source, "stream": None, "job_number": subject}


def upgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="expectation", nullable=False)
        )
        batch_op.add_column(sa.Column("source", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("stream", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("job_number", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("kpi_code", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("changed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("changed_at", schemas.tables.types.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_finding_review", ["period", "severity", "status"], unique=False)
    findings = sa.table(
        "findings",
        sa.column("id", sa.Integer),
        sa.column("check_name", sa.String),
        sa.column("subject", sa.String),
        sa.column("kind", sa.String),
        sa.column("source", sa.String),
        sa.column("stream", sa.String),
        sa.column("job_number", sa.String),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(findings.c.id, findings.c.check_name, findings.c.subject))
    for row_id, check_name, subject in rows.all():
        bind.execute(
            findings.update().where(findings.c.id == row_id).values(**_filled(check_name, subject))
        )


def downgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index("ix_finding_review")
        for column in (
            "changed_at",
            "changed_by",
            "kpi_code",
            "job_number",
            "stream",
            "source",
            "kind",
        ):
            batch_op.drop_column(column)
