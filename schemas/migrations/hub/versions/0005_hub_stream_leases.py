"""stream leases: one writer per stream at a time

Revision ID: 0005_hub
Revises: 0004_hub
Create Date: 2026-12-01 07:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import schemas.tables.types

revision: str = "0005_hub"
down_revision: str | None = "0004_hub"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stream_leases",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("acquired_at", schemas.tables.types.UtcDateTime(), nullable=False),
        sa.Column("expires_at", schemas.tables.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", "stream"),
    )


def downgrade() -> None:
    op.drop_table("stream_leases")
