"""``carewatch demo seed``, and the seeding and reporting that ``carewatch up`` reuses."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session, sessionmaker

from carewatch.cli.common import (
    CliError,
    Instant,
    load_settings,
    migrated_database_url,
    now_or,
    sessions,
)

log = logging.getLogger(__name__)


@contextlib.contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """Raise a chatty logger to WARNING for the duration (hundreds of seeded alerts)."""
    logger = logging.getLogger(logger_name)
    before = logger.level
    logger.setLevel(max(before, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(before)


def _progress_callback(stack: contextlib.ExitStack) -> Callable[[str, int, int], None] | None:
    """A rich progress bar on stderr, or nothing when stderr is not a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        return None
    bar = stack.enter_context(
        Progress(
            TextColumn("{task.description:<22}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
    )
    labels = {
        "people": "children and families",
        "history": "days of history",
        "breaches": "ratio checks",
    }
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(labels.get(stage, stage), total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return update


def seed_empty_database(
    factory: sessionmaker[Session],
    now: datetime,
    *,
    children: int,
    days: int,
    seed: int,
    if_empty: bool,
    cameras_dir: Path | None = None,
) -> Any:
    """Seed the demo in one transaction; None when a facility exists and that is fine.

    With ``cameras_dir``, simulated cameras (generated clips) and a generated recording
    store are written there and registered, probed and scanned, so the CCTV pages and the
    compliance status have real results to show.
    """
    from carewatch.db import transaction
    from facility_app.demo.seed import existing_facility, seed_demo

    with transaction(factory, write=True) as session:
        found = existing_facility(session)
        if found is not None:
            if if_empty:
                click.echo(f"the database already has a facility ({found.name}); nothing seeded")
                return None
            raise CliError(
                f"the database already has a facility ({found.name}, id {found.id}); the demo "
                "seed only fills an empty database (use --if-empty to skip without an error)"
            )
        with contextlib.ExitStack() as stack, _quiet("facility_app.alerts.service"):
            progress = _progress_callback(stack)
            report = seed_demo(
                session, now, children=children, days=days, seed=seed, progress=progress
            )
        if cameras_dir is not None:
            from monitoring.demo import seed_cctv

            click.echo("generating simulated cameras and 90 days of recordings …")
            seed_cctv(cameras_dir, session, now)
        return report


def print_report(report: Any) -> None:
    """Summarise what the seed created and how long each stage took."""
    t = report.timings
    click.echo(
        f"seeded {report.facility} in {report.seconds:.1f} s "
        f"(people {t.get('people', 0):.1f} s, history {t.get('history', 0):.1f} s, "
        f"breaches {t.get('breaches', 0):.1f} s)"
    )
    click.echo(
        f"  {report.classes} classes, {report.children} children enrolled "
        f"(and {report.former_children} who left during the history), {report.staff} staff, "
        f"{len(report.accounts)} sign-ins"
    )
    click.echo(
        f"  history {report.first_day} to {report.last_day}: {report.service_days} service days "
        f"({report.closed_days} public-holiday weekdays closed), {report.attendance_rows} "
        f"child-days, illness absences {report.illness_rate:.1%}, "
        f"{report.late_pickups} late pick-ups"
    )
    click.echo(
        f"  {report.incidents} caregiver late arrivals or early departures, "
        f"{report.breaches} ratio breaches stored, {report.alerts} alerts "
        f"({report.open_alerts} open)"
    )
    if report.today_live:
        click.echo("  today so far: children checked in and caregivers on duty as of now")


def print_accounts(accounts: list[Any]) -> None:
    """List demo sign-ins with their published passwords (nothing when there are none)."""
    if not accounts:
        return
    click.echo("demo sign-ins (user name / password):")
    for acc in accounts:
        click.echo(f"  {acc.username:<10} {acc.password:<22} {acc.role.value:<15} {acc.note}")


def accounts_still_demo(factory: sessionmaker[Session]) -> list[Any]:
    """Demo sign-ins that exist and still have their published password."""
    from sqlalchemy import select

    from facility_app.accounts.models import User
    from facility_app.accounts.service import verify_password
    from facility_app.demo.people import DEMO_ACCOUNTS

    with factory() as session:
        hashes = dict(
            session.execute(
                select(User.username, User.password_hash).where(
                    User.username.in_([a.username for a in DEMO_ACCOUNTS]), User.active.is_(True)
                )
            ).all()
        )
    return [
        a
        for a in DEMO_ACCOUNTS
        if a.username in hashes and verify_password(hashes[a.username], a.password)
    ]


@click.group()
def demo() -> None:
    """Demo data."""


@demo.command("seed")
@click.option(
    "--children", type=click.IntRange(6, 2000), default=90, show_default=True, help="Children."
)
@click.option(
    "--days",
    type=click.IntRange(0, 1100),
    default=92,
    show_default=True,
    help="Calendar days of history before today.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed (reproducible).")
@click.option("--if-empty", is_flag=True, help="Do nothing, successfully, if a facility exists.")
@click.option("--now", "now_", type=Instant(), hidden=True, help="Pretend it is this instant.")
def demo_seed(children: int, days: int, seed: int, if_empty: bool, now_: datetime | None) -> None:
    """Fill an empty database with a demo facility and its recent history."""
    from facility_app.demo.people import DEMO_ACCOUNTS

    url = migrated_database_url(load_settings())
    with sessions(url) as factory:
        report = seed_empty_database(
            factory, now_or(now_), children=children, days=days, seed=seed, if_empty=if_empty
        )
    if report is not None:
        print_report(report)
        print_accounts(list(DEMO_ACCOUNTS))
