"""What every command shares: clear errors, logging, settings, the database and instants."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from carewatch.clock import SystemClock
from carewatch.config import Settings, get_settings
from carewatch.errors import DomainError

log = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)-7s [%(process)d] %(name)s: %(message)s"
LOG_DATEFMT = "%Y-%m-%d %H:%M:%S"
LOG_LEVELS = ["debug", "info", "warning", "error"]


class CliError(click.ClickException):
    """A failure a person can act on: one line on stderr and a meaningful exit code."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        """Print ``error: <message>`` without a traceback."""
        click.echo(f"error: {self.format_message()}", err=True)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def masked(url: str) -> str:
    """The database URL with its password hidden, fit for output."""
    return make_url(url).render_as_string(hide_password=True)


class CliGroup(click.Group):
    """Turns the errors a person can fix into one clear line instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command, translating database and domain errors into a ``CliError``."""
        try:
            return super().invoke(ctx)
        except (OperationalError, InterfaceError) as exc:
            url = ctx.meta.get("carewatch.url", "the configured database")
            detail = _first_line(exc)
            if "locked" in detail:
                raise CliError(
                    f"the database {url} is busy ({detail}); another process is writing, "
                    "try again in a moment",
                    exit_code=2,
                ) from exc
            raise CliError(
                f"cannot reach the database {url}: {detail} (check CAREWATCH_DATABASE_URL, "
                "that the server is running and that the data folder is writable)",
                exit_code=2,
            ) from exc
        except DomainError as exc:
            raise CliError(str(exc)) from exc


def configure_logging(level: str, fmt: str = "text") -> None:
    """Send log records at ``level`` and above to stderr, as text lines or JSON lines."""
    lvl = getattr(logging, level.upper())
    logging.basicConfig(level=lvl, format=LOG_FORMAT, datefmt=LOG_DATEFMT)
    if fmt == "json":
        from carewatch.logs import JsonFormatter

        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter())
    # basicConfig leaves an already configured root alone (tests, embedding); the level
    # asked for still applies.
    logging.getLogger().setLevel(lvl)
    if lvl > logging.DEBUG:
        # Alembic narrates every plugin and context at INFO; the commands print a summary.
        logging.getLogger("alembic").setLevel(logging.WARNING)
        # APScheduler logs every run of every job at INFO; the agent logs what its jobs do.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)


def load_settings() -> Settings:
    """The settings, or one line naming each invalid CAREWATCH_* variable."""
    from pydantic import ValidationError

    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"CAREWATCH_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        raise CliError(f"invalid setting: {problems}", exit_code=2) from exc


def database_url(settings: Settings) -> str:
    """The configured URL; a SQLite file's folder is created so the first run just works."""
    url = settings.resolved_database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # For CliGroup's error message, which has no other way to learn which database it was.
    click.get_current_context().meta["carewatch.url"] = masked(url)
    return url


def _head_revision(url: str) -> str | None:
    from alembic.script import ScriptDirectory

    from carewatch.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def migrated_database_url(settings: Settings) -> str:
    """The database URL, refusing a database whose schema is missing or behind."""
    from carewatch.migrate import current

    url = database_url(settings)
    at, head = current(url), _head_revision(url)
    if at is None:
        raise CliError(
            f"the database {masked(url)} has no CareWatch schema yet; "
            "run 'carewatch db upgrade' first",
            exit_code=2,
        )
    if at != head:
        raise CliError(
            f"the database schema is at revision {at}, this version needs {head}; "
            "run 'carewatch db upgrade'",
            exit_code=2,
        )
    return url


def upgrade_database(url: str) -> tuple[str | None, str | None]:
    """Upgrade the schema to the newest revision; the revisions before and after."""
    from carewatch.migrate import current, upgrade

    before = current(url)
    upgrade(url)
    return before, current(url)


@contextlib.contextmanager
def sessions(url: str) -> Iterator[sessionmaker[Session]]:
    """A session factory on a fresh engine, disposed of afterwards."""
    from carewatch.db import make_engine, make_session_factory

    engine: Engine = make_engine(url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


class Instant(click.ParamType):
    """An ISO 8601 instant with a UTC offset (hidden --now options, for tests and replays)."""

    name = "instant"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime:
        """Parse the text, insisting on an offset so the instant is unambiguous."""
        if isinstance(value, datetime):
            return value
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 date and time", param, ctx)
        if at.tzinfo is None:
            self.fail("give a UTC offset, e.g. 2026-03-10T09:00+08:00", param, ctx)
        return at


def now_or(override: datetime | None) -> datetime:
    """The ``--now`` override if given, else the system clock."""
    return override if override is not None else SystemClock().now()
