"""scores keep every number of the rules: targets and their source, direction, cap, weights used,
adjustments in order, hold reasons and the template's content hash

Revision ID: 0002_hr
Revises: 0001_hr
Create Date: 2026-12-01 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import schemas.tables.types

revision: str = "0002_hr"
down_revision: str | None = "0001_hr"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _decimal() -> schemas.tables.types.ExactDecimal:
    return schemas.tables.types.ExactDecimal(precision=28, scale=6)


def upgrade() -> None:
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("template_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("subtotal", _decimal(), nullable=True))
        batch_op.add_column(
            sa.Column("hold_reasons", sa.JSON(), server_default="[]", nullable=False)
        )
        batch_op.alter_column("grade", existing_type=sa.String(length=32), nullable=True)

    with op.batch_alter_table("score_components", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="scored", nullable=False)
        )
        batch_op.add_column(sa.Column("target_source", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("target_fact_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("direction", sa.String(length=8), server_default="higher", nullable=False)
        )
        batch_op.add_column(sa.Column("cap", _decimal(), server_default="1.2", nullable=False))
        batch_op.add_column(sa.Column("weight_used", _decimal(), nullable=True))
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch_op.alter_column("target", existing_type=_decimal(), nullable=True)
        batch_op.alter_column("attainment", existing_type=_decimal(), nullable=True)
    # Scores published before this revision scored every component against the template's
    # target with its full weight.
    op.execute("UPDATE score_components SET weight_used = weight, target_source = 'template'")
    with op.batch_alter_table("score_components", schema=None) as batch_op:
        batch_op.alter_column("weight_used", existing_type=_decimal(), nullable=False)

    # Nothing wrote adjustments before this revision: the table is replaced by its new shape.
    with op.batch_alter_table("score_adjustments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_score_adjustments_score_id"))
    op.drop_table("score_adjustments")
    op.create_table(
        "score_adjustments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("score_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("kpi_code", sa.String(length=64), nullable=False),
        sa.Column("value", _decimal(), nullable=True),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("amount", _decimal(), nullable=True),
        sa.Column("fact_ids", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["score_id"], ["scores.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("score_adjustments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_score_adjustments_score_id"), ["score_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("score_adjustments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_score_adjustments_score_id"))
    op.drop_table("score_adjustments")
    op.create_table(
        "score_adjustments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("score_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("points", _decimal(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["score_id"], ["scores.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("score_adjustments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_score_adjustments_score_id"), ["score_id"], unique=False
        )

    with op.batch_alter_table("score_components", schema=None) as batch_op:
        batch_op.alter_column("attainment", existing_type=_decimal(), nullable=False)
        batch_op.alter_column("target", existing_type=_decimal(), nullable=False)
        batch_op.drop_column("note")
        batch_op.drop_column("weight_used")
        batch_op.drop_column("cap")
        batch_op.drop_column("direction")
        batch_op.drop_column("target_fact_id")
        batch_op.drop_column("target_source")
        batch_op.drop_column("status")

    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.alter_column("grade", existing_type=sa.String(length=32), nullable=False)
        batch_op.drop_column("hold_reasons")
        batch_op.drop_column("subtotal")
        batch_op.drop_column("template_sha256")
