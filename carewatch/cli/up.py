"""``carewatch up``: schema, demo data if empty, then the stack's components until stopped."""

from __future__ import annotations

import logging
import sys
import threading

import click

from carewatch.cli.common import database_url, load_settings, masked, sessions, upgrade_database
from carewatch.cli.demo import (
    accounts_still_demo,
    print_accounts,
    print_report,
    seed_empty_database,
)
from carewatch.cli.web import browser_url, listen_address, probe_url, server_options
from carewatch.clock import SystemClock
from carewatch.config import Settings
from carewatch.stack import Component, HttpChildProcess, run_components

log = logging.getLogger(__name__)


class WebServer(HttpChildProcess):
    """The gunicorn web server as a child process, so that ``up`` owns signals and order."""

    name = "web"
    label = "the web server"

    def __init__(self, *, host: str, port: int, workers: int, threads: int, log_level: str) -> None:
        args = [
            sys.executable,
            "-m",
            "carewatch.cli",
            "--log-level",
            log_level,
            "web",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--no-announce",
        ]
        super().__init__(args, probe_url(host, port))


def register_demo_facility(settings: Settings, name: str) -> None:
    """Make sure the hub knows this facility's signing key (the demo's one machine is both)."""
    from carewatch.db import make_engine, make_session_factory, transaction
    from carewatch.reports import public_key_text
    from edge_agent.keys import load_or_create
    from supervision_hub.migrate import upgrade as upgrade_hub
    from supervision_hub.service import register_facility

    url = settings.resolved_hub_database_url()
    upgrade_hub(url)
    key = public_key_text(load_or_create(settings.data_dir).public_key())
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as session:
            register_facility(
                session,
                code=settings.facility_code,
                public_key=key,
                name=name,
                now=SystemClock().now(),
            )
    finally:
        engine.dispose()


def up_components(
    settings: Settings, host: str, port: int, workers: int, log_level: str
) -> list[Component]:
    """The embedded stack in start order: broker, web app, hub, then the agent.

    The stack stops them in reverse: the agent says goodbye (its ``offline`` state) while
    the broker and the hub still listen.
    """
    from carewatch.broker import LocalBroker
    from carewatch.db import make_engine, make_session_factory
    from edge_agent.agent import build_agent
    from supervision_hub.component import HubProcess

    broker = LocalBroker.from_settings(settings)
    # The agent's commits (its outbox) must reach the disk: a durable engine of its own.
    agent_factory = make_session_factory(make_engine(database_url(settings), durable=True))
    return [
        broker,
        WebServer(
            host=host,
            port=port,
            workers=workers,
            threads=settings.web_threads,
            log_level=log_level,
        ),
        HubProcess(
            host=settings.hub_host,
            port=settings.hub_port,
            log_level=log_level,
            protocol=broker.protocol,
            shared=broker.shared_subscriptions,
        ),
        *build_agent(settings, agent_factory, SystemClock(), protocol=broker.protocol),
    ]


@click.command()
@server_options
@click.pass_context
def up(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Run everything on this machine: database, demo data, broker, web app, hub and agent."""
    settings = load_settings()
    workers = workers or settings.web_workers
    log_level = ctx.meta.get("carewatch.log_level", "info")

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    click.echo(f"data folder: {settings.data_dir.resolve()}")
    url = database_url(settings)
    before, after = upgrade_database(url)
    click.echo(
        f"database {masked(url)}: "
        + (
            f"revision {after}"
            if before == after
            else f"upgraded from {before or 'empty'} to {after}"
        )
    )
    host, port = listen_address(settings, host, port)
    with sessions(url) as factory:
        report = seed_empty_database(
            factory,
            SystemClock().now(),
            children=90,
            days=92,
            seed=7,
            if_empty=True,
            cameras_dir=settings.data_dir,
        )
        if report is not None:
            print_report(report)
        accounts = accounts_still_demo(factory)
        with factory() as session:
            from facility_app.facility.service import get_facility

            facility_name = get_facility(session).name
    register_demo_facility(settings, facility_name)

    def ready() -> None:
        click.echo("")
        click.echo(f"CareWatch (the facility app) is running at {browser_url(host, port)}")
        click.echo(
            "the supervision hub (regulator's view) is at "
            f"{browser_url(settings.hub_host, settings.hub_port)}"
        )
        print_accounts(accounts)
        click.echo("press Ctrl-C to stop")

    stop = threading.Event()
    code = run_components(up_components(settings, host, port, workers, log_level), stop, ready)
    ctx.exit(code)
