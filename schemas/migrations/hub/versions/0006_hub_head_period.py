"""record heads: the month each record's event time places it in; one index fewer on versions

Revision ID: 0006_hub
Revises: 0005_hub
Create Date: 2026-12-01 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_hub"
down_revision: str | None = "0005_hub"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Heads landed before this have no month: they are read for every month, as before.
    with op.batch_alter_table("record_heads") as batch:
        batch.add_column(sa.Column("event_period", sa.String(length=7), nullable=True))
    op.create_index(
        "ix_head_period",
        "record_heads",
        ["source", "stream", "event_period", "record_key"],
        unique=False,
    )
    # The unique constraint's index already leads with (source, stream, record_key).
    op.drop_index("ix_raw_record", table_name="raw_record_versions")


def downgrade() -> None:
    op.create_index(
        "ix_raw_record",
        "raw_record_versions",
        ["source", "stream", "record_key"],
        unique=False,
    )
    op.drop_index("ix_head_period", table_name="record_heads")
    with op.batch_alter_table("record_heads") as batch:
        batch.drop_column("event_period")
