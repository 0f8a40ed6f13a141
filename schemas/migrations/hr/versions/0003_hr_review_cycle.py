"""the review cycle: where each score of a month stands (reviewed, confirmed, appealed, archived)
and the appeals filed against scores

Revision ID: 0003_hr
Revises: 0002_hr
Create Date: 2026-12-01 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import schemas.tables.types

revision: str = "0003_hr"
down_revision: str | None = "0002_hr"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at() -> schemas.tables.types.UtcDateTime:
    return schemas.tables.types.UtcDateTime()


def upgrade() -> None:
    op.create_table(
        "score_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_number", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("score_version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("confirm_by", _at(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", _at(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job_number", "period", name="uq_score_review"),
    )
    op.create_table(
        "appeals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_number", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("score_version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("kpi_code", sa.String(length=64), nullable=True),
        sa.Column("record_key", sa.String(length=255), nullable=True),
        sa.Column("filed_by", sa.String(length=64), nullable=False),
        sa.Column("filed_at", _at(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("answered_at", _at(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_appeal_score", "appeals", ["job_number", "period"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_appeal_score", table_name="appeals")
    op.drop_table("appeals")
    op.drop_table("score_reviews")
