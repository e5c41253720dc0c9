"""The one Alembic history creates exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import edge_agent.models  # noqa: F401 - registers the agent tables
import facility_app.models  # noqa: F401 - registers every table
import monitoring.models  # noqa: F401 - registers the camera registry
from carewatch.db import Base, make_engine
from carewatch.migrate import current, upgrade


def test_migrated_schema_matches_the_models(db_url):
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)
    finally:
        engine.dispose()


def test_upgrade_is_idempotent(db_url):
    head = current(db_url)
    assert head is not None
    upgrade(db_url)
    assert current(db_url) == head
