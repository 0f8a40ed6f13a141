"""facts carry their kind: actual or target

Revision ID: 0002_hub
Revises: 0001_hub
Create Date: 2026-11-23 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_hub"
down_revision: str | None = "0001_hub"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("kpi_facts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=8), server_default="actual", nullable=False)
        )
        batch_op.drop_constraint("uq_fact_version", type_="unique")
        batch_op.create_unique_constraint(
            "uq_fact_version", ["job_number", "period", "kpi_code", "kind", "version"]
        )


def downgrade() -> None:
    with op.batch_alter_table("kpi_facts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_fact_version", type_="unique")
        batch_op.create_unique_constraint(
            "uq_fact_version", ["job_number", "period", "kpi_code", "version"]
        )
        batch_op.drop_column("kind")
