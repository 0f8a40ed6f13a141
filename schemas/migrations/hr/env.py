from schemas.migrations.environment import run_migrations
from schemas.tables import HrBase

run_migrations(HrBase.metadata, version_table="alembic_version_hr")
