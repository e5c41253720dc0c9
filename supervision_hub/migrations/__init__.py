"""The supervision hub's Alembic history (separate from the facility database's)."""
