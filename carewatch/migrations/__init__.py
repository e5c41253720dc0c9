"""The one Alembic history of the CareWatch schema."""
