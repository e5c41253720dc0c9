"""``carewatch agent``: the facility's daemon, its signing key and its outbox."""

from __future__ import annotations

import json
import logging
import threading

import click

log = logging.getLogger(__name__)


@click.group(invoke_without_command=True)
@click.option(
    "--protocol",
    type=click.Choice(["5", "3.1.1"]),
    default="5",
    show_default=True,
    help="MQTT protocol version of the broker.",
)
@click.option("--produce", type=int, hidden=True, help="Only queue N numbered test reports.")
@click.option(
    "--produce-pause", type=float, default=0.0, hidden=True, help="Seconds between batches."
)
@click.pass_context
def agent(ctx: click.Context, protocol: str, produce: int | None, produce_pause: float) -> None:
    """Run the edge agent: scheduled checks, compliance reports and their delivery."""
    if ctx.invoked_subcommand is not None:
        return
    from carewatch.cli.common import load_settings, migrated_database_url
    from carewatch.clock import SystemClock
    from carewatch.db import make_engine, make_session_factory
    from carewatch.stack import run_components
    from edge_agent.agent import build_agent

    settings = load_settings()
    url = migrated_database_url(settings)
    # durable: every outbox commit reaches the disk before the report counts as made.
    factory = make_session_factory(make_engine(url, durable=True))
    components = build_agent(
        settings,
        factory,
        SystemClock(),
        protocol=protocol,
        produce=produce,
        produce_pause=produce_pause,
    )
    log.info(
        "agent for facility %s, broker %s:%s",
        settings.facility_code,
        settings.mqtt_host,
        settings.mqtt_port,
    )
    ctx.exit(run_components(components, threading.Event()))


@agent.command("export-key")
def export_key() -> None:
    """Print the facility's public signing key (base64), to register it at the hub."""
    from carewatch.cli.common import load_settings
    from carewatch.reports import public_key_text
    from edge_agent.keys import load_or_create

    settings = load_settings()
    key = load_or_create(settings.data_dir)
    click.echo(public_key_text(key.public_key()))


@agent.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(as_json: bool) -> None:
    """Show the outbox backlog, the last compliance snapshot and the jobs' last runs."""
    from sqlalchemy import func, select

    from carewatch.cli.common import load_settings, migrated_database_url, sessions
    from carewatch.db import transaction
    from edge_agent.models import AgentJobRun, ComplianceSnapshot, OutboxReport

    url = migrated_database_url(load_settings())
    with sessions(url) as factory, transaction(factory, write=False) as session:
        backlog = session.scalar(select(func.count()).select_from(OutboxReport)) or 0
        oldest = session.scalar(select(func.min(OutboxReport.made_at)))
        snap = session.scalars(
            select(ComplianceSnapshot).order_by(ComplianceSnapshot.id.desc()).limit(1)
        ).first()
        runs = session.scalars(select(AgentJobRun).order_by(AgentJobRun.job)).all()
    data = {
        "backlog": backlog,
        "oldest_waiting": oldest.isoformat() if oldest else None,
        "compliance": (
            {"overall": snap.overall, "made_at": snap.made_at.isoformat()} if snap else None
        ),
        "jobs": [
            {
                "job": r.job,
                "last_run_at": r.last_run_at.isoformat(),
                "ok": r.ok,
                "message": r.message,
            }
            for r in runs
        ],
    }
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(
        f"outbox: {backlog} report(s) waiting"
        + (f" since {oldest:%Y-%m-%d %H:%M}" if oldest else "")
    )
    if snap:
        click.echo(f"compliance: {snap.overall} at {snap.made_at:%Y-%m-%d %H:%M}")
    else:
        click.echo("compliance: not evaluated yet")
    for r in runs:
        outcome = "ok" if r.ok else f"failed: {r.message}"
        click.echo(f"  {r.job:<16} {r.last_run_at:%Y-%m-%d %H:%M:%S}  {outcome}")
