"""target changes and manual adjustments, proposed and decided, and the change an amended appeal
makes

Revision ID: 0004_hr
Revises: 0003_hr
Create Date: 2026-12-01 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import schemas.tables.types

revision: str = "0004_hr"
down_revision: str | None = "0003_hr"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at() -> schemas.tables.types.UtcDateTime:
    return schemas.tables.types.UtcDateTime()


def _number() -> schemas.tables.types.ExactDecimal:
    return schemas.tables.types.ExactDecimal()


def upgrade() -> None:
    op.create_table(
        "score_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("job_number", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("kpi_code", sa.String(length=64), nullable=True),
        sa.Column("old_value", _number(), nullable=True),
        sa.Column("value", _number(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("appeal_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposed_at", _at(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", _at(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_score_change", "score_changes", ["period", "job_number"], unique=False)
    with op.batch_alter_table("appeals") as batch:
        batch.add_column(sa.Column("change_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("appeals") as batch:
        batch.drop_column("change_id")
    op.drop_index("ix_score_change", table_name="score_changes")
    op.drop_table("score_changes")
