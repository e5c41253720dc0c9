"""``carewatch hub``: run the supervision hub, register facilities' keys, show the status.

The hub's database is ``CAREWATCH_HUB_DATABASE_URL`` (a SQLite file ``hub.db`` in the data
folder by default; PostgreSQL in production), with its own schema history
(``carewatch hub db-upgrade``; ``hub run`` upgrades on start unless told not to).
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import click

log = logging.getLogger(__name__)


def hub_database_url(settings: Any, *, upgrade: bool) -> str:
    """The hub database URL (its SQLite folder created); upgraded or checked to be current."""
    from sqlalchemy.engine import make_url

    from carewatch.cli.common import CliError, masked
    from supervision_hub.migrate import current, head
    from supervision_hub.migrate import upgrade as run_upgrade

    url = settings.resolved_hub_database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    click.get_current_context().meta["carewatch.url"] = masked(url)
    if upgrade:
        run_upgrade(url)
    elif current(url) != head():
        raise CliError(
            f"the hub database {masked(url)} is not at revision {head()}; "
            "run 'carewatch hub db-upgrade' first",
            exit_code=2,
        )
    return url


@click.group()
def hub() -> None:
    """The supervision hub: the regulator's side that verifies and stores facility reports."""


@hub.command("db-upgrade")
def db_upgrade() -> None:
    """Create or upgrade the hub database's schema."""
    from carewatch.cli.common import load_settings, masked
    from supervision_hub.migrate import current

    settings = load_settings()
    url = hub_database_url(settings, upgrade=True)
    click.echo(f"hub database {masked(url)} is at revision {current(url)}")


@hub.command("run")
@click.option("--client-id", help="MQTT client id (default carewatch-hub-<host>); keep it stable.")
@click.option(
    "--workers",
    type=click.IntRange(0, 32),
    default=1,
    show_default=True,
    help="MQTT clients in this process sharing the subscription (0: web view only).",
)
@click.option("--web/--no-web", default=True, show_default=True, help="Serve the web view.")
@click.option("--host", help="Web view address (default CAREWATCH_HUB_HOST, 127.0.0.1).")
@click.option("--port", type=int, help="Web view port (default CAREWATCH_HUB_PORT, 8001).")
@click.option(
    "--protocol",
    type=click.Choice(["5", "3.1.1"]),
    default="5",
    show_default=True,
    help="MQTT protocol version of the broker.",
)
@click.option(
    "--shared/--no-shared",
    default=True,
    show_default=True,
    help="Use the $share/hub/... subscription (brokers without it: one hub only).",
)
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=500, show_default=True)
@click.option(
    "--upgrade/--no-upgrade",
    default=True,
    show_default=True,
    help="Upgrade the hub database's schema on start.",
)
@click.pass_context
def run(
    ctx: click.Context,
    client_id: str | None,
    workers: int,
    web: bool,
    host: str | None,
    port: int | None,
    protocol: str,
    shared: bool,
    batch_size: int,
    upgrade: bool,
) -> None:
    """Receive, verify and store reports, and serve the read-only web view, until stopped."""
    from carewatch.cli.common import CliError, load_settings
    from carewatch.clock import SystemClock
    from carewatch.db import make_engine, make_session_factory
    from carewatch.stack import Component, run_components
    from supervision_hub.worker import HubWorker, default_client_id

    settings = load_settings()
    if workers == 0 and not web:
        raise CliError("nothing to run: give --workers 1 or more, or --web")
    url = hub_database_url(settings, upgrade=upgrade)
    # Each worker's writer and each web thread holds a connection while it works.
    pool = {} if url.startswith("sqlite") else {"pool_size": workers + 4, "max_overflow": 8}
    factory = make_session_factory(make_engine(url, **pool))
    clock = SystemClock()
    base_id = client_id or default_client_id()
    components: list[Component] = []
    for i in range(workers):
        components.append(
            HubWorker(
                factory,
                clock,
                host=settings.mqtt_host,
                port=settings.mqtt_port,
                prefix=settings.topic_prefix,
                client_id=base_id if workers == 1 else f"{base_id}-{i}",
                shared=shared,
                protocol=protocol,
                batch_size=batch_size,
                username=settings.mqtt_username,
                password=(
                    settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
                ),
                ca_file=settings.mqtt_ca_file,
                cert_file=settings.mqtt_cert_file,
                key_file=settings.mqtt_key_file,
            )
        )
    if web:
        from supervision_hub.web import create_hub_app
        from supervision_hub.webserver import WebView

        app = create_hub_app(factory=factory, clock=clock, timezone=settings.timezone)
        components.append(WebView(app, host or settings.hub_host, port or settings.hub_port))
    log.info(
        "hub on %s, broker %s:%s, %d worker(s)",
        _masked(url),
        settings.mqtt_host,
        settings.mqtt_port,
        workers,
    )
    ctx.exit(run_components(components, threading.Event()))


def _masked(url: str) -> str:
    from carewatch.cli.common import masked

    return masked(url)


@hub.command("register")
@click.option("--facility", "code", required=True, help="The facility's code (its topic id).")
@click.option("--public-key", help="The key printed by 'carewatch agent export-key' (base64).")
@click.option(
    "--public-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file holding that key.",
)
@click.option("--name", default="", help="The facility's name, shown to the regulator.")
def register(code: str, public_key: str | None, public_key_file: Path | None, name: str) -> None:
    """Register a facility's public key (or replace it) so its reports are accepted."""
    from carewatch.cli.common import CliError, load_settings, sessions
    from carewatch.clock import SystemClock
    from carewatch.db import transaction
    from supervision_hub.service import HubError, register_facility

    if (public_key is None) == (public_key_file is None):
        raise CliError("give exactly one of --public-key and --public-key-file")
    key = public_key if public_key is not None else public_key_file.read_text()  # type: ignore[union-attr]
    url = hub_database_url(load_settings(), upgrade=True)
    try:
        with sessions(url) as factory, transaction(factory) as session:
            _facility, created = register_facility(
                session, code=code, public_key=key, name=name, now=SystemClock().now()
            )
    except HubError as exc:
        raise CliError(str(exc)) from exc
    click.echo(f"{'registered' if created else 'updated'} facility {code}")


@hub.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(as_json: bool) -> None:
    """Every facility: compliance, online or offline since when, reports, alerts, gaps."""
    from carewatch.cli.common import load_settings, sessions
    from carewatch.db import transaction
    from supervision_hub import service

    url = hub_database_url(load_settings(), upgrade=False)
    with sessions(url) as factory, transaction(factory, write=False) as session:
        rows = service.overview(session)
        totals = service.totals(rows, session)
    if as_json:
        click.echo(
            json.dumps(
                {"totals": totals, "facilities": [r.as_json() for r in rows]},
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    click.echo(
        f"{totals['facilities']} facilities: {totals['online']} online, "
        f"{totals['offline']} offline, {totals['failing']} failing, "
        f"{totals['open_alerts']} open alerts, {totals['open_gaps']} open gaps"
    )
    for r in rows:
        data = r.as_json()
        since = f" since {data['status_since']}" if data["status_since"] else ""
        click.echo(
            f"{r.code:<20} {r.overall or '-':<8} {data['state']}{since}; "
            f"{r.reports} reports (last {data['last_report_at'] or '-'}), "
            f"{r.open_alerts} open alerts, {r.open_gaps} open gaps ({r.missing} missing), "
            f"{r.rejections} rejected"
        )
