"""Alembic migrations of the hub store and the HR store.

Each store has its own migration history and version table, so both may share one database
(the embedded default) or live on separate servers.
"""
