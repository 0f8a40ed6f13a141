"""initial hr store

Revision ID: 0001_hr
Revises:
Create Date: 2026-11-22 17:30:25.141036
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import schemas.tables.types

revision: str = "0001_hr"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "scores",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_number", sa.String(length=64), nullable=False),
        sa.Column("employee_name", sa.String(length=128), nullable=False),
        sa.Column("department", sa.String(length=255), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("template_version", sa.String(length=32), nullable=False),
        sa.Column(
            "total", schemas.tables.types.ExactDecimal(precision=28, scale=6), nullable=False
        ),
        sa.Column("grade", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("inputs_sha256", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("published_at", schemas.tables.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("superseded_by", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job_number", "period", "version", name="uq_score_version"),
    )
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.create_index("ix_score_current", ["period", "is_current"], unique=False)

    op.create_table(
        "score_adjustments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("score_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column(
            "points", schemas.tables.types.ExactDecimal(precision=28, scale=6), nullable=False
        ),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["score_id"],
            ["scores.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("score_adjustments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_score_adjustments_score_id"), ["score_id"], unique=False
        )

    op.create_table(
        "score_components",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("score_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kpi_code", sa.String(length=64), nullable=False),
        sa.Column(
            "actual", schemas.tables.types.ExactDecimal(precision=28, scale=6), nullable=True
        ),
        sa.Column(
            "target", schemas.tables.types.ExactDecimal(precision=28, scale=6), nullable=False
        ),
        sa.Column(
            "attainment", schemas.tables.types.ExactDecimal(precision=28, scale=6), nullable=False
        ),
        sa.Column(
            "weight", schemas.tables.types.ExactDecimal(precision=28, scale=6), nullable=False
        ),
        sa.Column(
            "points", schemas.tables.types.ExactDecimal(precision=28, scale=6), nullable=False
        ),
        sa.Column("fact_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["score_id"],
            ["scores.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("score_components", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_score_components_score_id"), ["score_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("score_components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_score_components_score_id"))

    op.drop_table("score_components")
    with op.batch_alter_table("score_adjustments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_score_adjustments_score_id"))

    op.drop_table("score_adjustments")
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.drop_index("ix_score_current")

    op.drop_table("scores")
