"""Create or upgrade the hub's schema with its own Alembic history."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "hub_alembic_version"


def alembic_config(url: str) -> Config:
    """An Alembic configuration pointing at the hub's history."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the hub database at ``url`` to ``revision``."""
    log.info("upgrading hub database schema to %s", revision)
    command.upgrade(alembic_config(url), revision)


def current(url: str) -> str | None:
    """The revision the hub database is at, or None when it has no hub schema."""
    from alembic.runtime.migration import MigrationContext

    from carewatch.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            opts = {"version_table": VERSION_TABLE}
            return MigrationContext.configure(conn, opts=opts).get_current_revision()
    finally:
        engine.dispose()


def head() -> str | None:
    """The newest revision of the hub's history."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
