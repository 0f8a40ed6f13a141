from schemas.migrations.environment import run_migrations
from schemas.tables import HubBase

run_migrations(HubBase.metadata, version_table="alembic_version_hub")
