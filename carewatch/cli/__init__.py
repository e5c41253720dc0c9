"""The ``carewatch`` command line: database, demo data, users, the web server and ``up``.

The group and the small commands live here; ``demo``, ``web`` and ``up`` have modules of
their own. Commands import the web app and heavy libraries inside their bodies, so
``carewatch --help`` stays quick and importing ``carewatch`` never imports Flask.
"""

from __future__ import annotations

import logging
import sys
from datetime import date, datetime, timedelta

import click

from carewatch import __version__

# Modules, not their commands: ``from carewatch.cli.web import web`` would rebind the package
# attribute ``web`` to the command and hide the module from ``import carewatch.cli.web as m``.
from carewatch.cli import demo, settle, up, web
from carewatch.cli.common import (
    LOG_LEVELS,
    CliError,
    CliGroup,
    Instant,
    configure_logging,
    database_url,
    load_settings,
    masked,
    migrated_database_url,
    now_or,
    sessions,
    upgrade_database,
)
from carewatch.clock import SystemClock

# Re-exported: ``carewatch.cli.run_components`` predates carewatch.stack.
from carewatch.stack import run_components

__all__ = ["cli", "main", "run_components"]

log = logging.getLogger(__name__)


@click.group(cls=CliGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--log-level",
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    default="info",
    show_default=True,
    envvar="CAREWATCH_LOG_LEVEL",
    help="Least severe log messages to show (env CAREWATCH_LOG_LEVEL).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    envvar="CAREWATCH_LOG_FORMAT",
    help="Log lines as text or as one JSON object each (env CAREWATCH_LOG_FORMAT).",
)
@click.version_option(__version__, prog_name="carewatch")
@click.pass_context
def cli(ctx: click.Context, log_level: str, log_format: str) -> None:
    """CareWatch: operations and safety compliance for a childcare centre (托育机构).

    Settings come from CAREWATCH_* environment variables (data folder, database URL,
    host, port, workers); see carewatch/config.py.
    """
    configure_logging(log_level, log_format)
    ctx.meta["carewatch.log_level"] = log_level.lower()
    ctx.meta["carewatch.log_format"] = log_format


cli.add_command(demo.demo)
cli.add_command(web.web)
cli.add_command(up.up)
cli.add_command(settle.settle)

# monitoring/ is a library with its own click group; its module imports only click.
from monitoring.cli import monitor  # noqa: E402

cli.add_command(monitor)

from edge_agent.cli import agent  # noqa: E402
from supervision_hub.cli import hub  # noqa: E402

cli.add_command(agent)
cli.add_command(hub)


@cli.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the newest revision (creates it when empty)."""
    url = database_url(load_settings())
    before, after = upgrade_database(url)
    if before == after:
        click.echo(f"database {masked(url)} is up to date (revision {after})")
    else:
        click.echo(f"database {masked(url)} upgraded from {before or 'empty'} to {after}")


@cli.group()
def user() -> None:
    """User accounts."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@user.command("create")
@click.option("--username", required=True, help="Sign-in name.")
@click.option(
    "--role",
    type=click.Choice(["admin", "director", "caregiver", "health_officer", "regulator"]),
    required=True,
)
@click.option("--staff-id", type=int, help="The staff record (required for caregivers).")
@click.option("--display-name", default="", help="Name shown in the app (default: user name).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_create(
    username: str, role: str, staff_id: int | None, display_name: str, password_stdin: bool
) -> None:
    """Create a user account (the password is asked for, never taken as an option)."""
    from carewatch.db import transaction
    from facility_app.accounts.models import Role
    from facility_app.accounts.service import create_user
    from facility_app.audit import service as audit
    from facility_app.staff.models import Staff

    url = migrated_database_url(load_settings())
    password = _read_password(password_stdin)
    with sessions(url) as factory, transaction(factory) as session:
        if staff_id is not None and session.get(Staff, staff_id) is None:
            raise CliError(f"there is no staff member with id {staff_id}")
        account = create_user(
            session,
            username=username,
            password=password,
            role=Role(role),
            display_name=display_name,
            staff_id=staff_id,
        )
        audit.record(
            session,
            at=SystemClock().now(),
            user_id=None,
            action="create",
            entity="user",
            entity_id=account.id,
            after={"username": account.username, "role": role, "staff_id": staff_id},
            reason="carewatch user create",
        )
    click.echo(f"created user {username!r} with role {role}")


@cli.group()
def attendance() -> None:
    """Attendance jobs."""


@attendance.command("close-day")
@click.option(
    "--day",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Day to close (default: the last day whose closing time has passed).",
)
@click.option("--now", "now_", type=Instant(), hidden=True, help="Pretend it is this instant.")
def close_day_command(day: datetime | None, now_: datetime | None) -> None:
    """Flag children still checked in after closing as missing a check-out, and alert."""
    from carewatch.db import transaction
    from facility_app.attendance.service import close_day
    from facility_app.facility.service import at_local, get_facility, today

    url = migrated_database_url(load_settings())
    now = now_or(now_)
    with sessions(url) as factory, transaction(factory) as session:
        fac = get_facility(session)
        target: date = day.date() if day is not None else today(fac, now)
        if day is None and now < at_local(fac, target, fac.closing_time):
            target -= timedelta(days=1)
        closing = at_local(fac, target, fac.closing_time)
        if now < closing:
            raise CliError(
                f"{target} has not closed yet (closing time {fac.closing_time:%H:%M}); "
                "nothing flagged"
            )
        flagged = close_day(session, fac, target, now=now)
    click.echo(f"{target}: {flagged} open check-in(s) flagged as missing a check-out")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="carewatch")
