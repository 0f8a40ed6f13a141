"""initial hub store

Revision ID: 0001_hub
Revises:
Create Date: 2026-11-22 17:30:25.121730
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import schemas.tables.types

revision: str = "0001_hub"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", schemas.tables.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("check_name", sa.String(length=128), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", schemas.tables.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", schemas.tables.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("check_name", "subject", "period", name="uq_finding"),
    )
    op.create_table(
        "kpi_facts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_number", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("kpi_code", sa.String(length=64), nullable=False),
        sa.Column(
            "value", schemas.tables.types.ExactDecimal(precision=28, scale=6), nullable=False
        ),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("inputs_sha256", sa.String(length=64), nullable=False),
        sa.Column("change_reason", sa.Text(), nullable=True),
        sa.Column("created_at", schemas.tables.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", schemas.tables.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job_number", "period", "kpi_code", "version", name="uq_fact_version"),
    )
    with op.batch_alter_table("kpi_facts", schema=None) as batch_op:
        batch_op.create_index("ix_fact_current", ["period", "kpi_code", "is_current"], unique=False)

    op.create_table(
        "raw_record_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("record_key", sa.String(length=255), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column(
            "source_updated_at", schemas.tables.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("extracted_at", schemas.tables.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "source", "stream", "record_key", "payload_sha256", name="uq_raw_version"
        ),
    )
    with op.batch_alter_table("raw_record_versions", schema=None) as batch_op:
        batch_op.create_index("ix_raw_record", ["source", "stream", "record_key"], unique=False)

    op.create_table(
        "stream_states",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("cursor", sa.JSON(), nullable=False),
        sa.Column("updated_at", schemas.tables.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("source", "stream"),
    )
    op.create_table(
        "fact_inputs",
        sa.Column("fact_id", sa.Integer(), nullable=False),
        sa.Column("raw_version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fact_id"],
            ["kpi_facts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["raw_version_id"],
            ["raw_record_versions.id"],
        ),
        sa.PrimaryKeyConstraint("fact_id", "raw_version_id"),
    )
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("record_key", sa.String(length=255), nullable=False),
        sa.Column("raw_version_id", sa.Integer(), nullable=True),
        sa.Column("period", sa.String(length=7), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", schemas.tables.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["raw_version_id"],
            ["raw_record_versions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("raw_version_id", "period", "reason", name="uq_quarantine_record"),
    )
    op.create_table(
        "record_heads",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("record_key", sa.String(length=255), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("seen_at", schemas.tables.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["raw_record_versions.id"],
        ),
        sa.PrimaryKeyConstraint("source", "stream", "record_key"),
    )


def downgrade() -> None:

    op.drop_table("record_heads")
    op.drop_table("quarantine")
    op.drop_table("fact_inputs")
    op.drop_table("stream_states")
    with op.batch_alter_table("raw_record_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_raw_record")

    op.drop_table("raw_record_versions")
    with op.batch_alter_table("kpi_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_fact_current")

    op.drop_table("kpi_facts")
    op.drop_table("findings")
    op.drop_table("audit_log")
