"""``carewatch web``: the production server, and the address checks ``carewatch up`` shares."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any

import click

from carewatch.cli.common import (
    LOG_DATEFMT,
    LOG_FORMAT,
    CliError,
    load_settings,
    migrated_database_url,
)
from carewatch.config import Settings

log = logging.getLogger(__name__)

# Addresses a browser on this machine reaches as "localhost".
_LOCAL_HOSTS = ("127.0.0.1", "0.0.0.0", "::", "::1", "", "localhost")


def _authority(host: str, port: int) -> str:
    """``host:port``, with an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def browser_url(host: str, port: int) -> str:
    """The address to open in a browser for a server bound to ``host``."""
    # Browsers accept the Secure session cookie over plain HTTP only on localhost.
    if host in _LOCAL_HOSTS:
        return f"http://localhost:{port}/"
    return f"http://{_authority(host, port)}/"


def probe_url(host: str, port: int) -> str:
    """The health check to poll from this machine (a wildcard bind answers on loopback)."""
    host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://{_authority(host, port)}/healthz"


def _check_port(host: str, port: int) -> None:
    """Fail early, with a hint, when the address is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise CliError(
                f"cannot listen on {host}:{port} ({exc.strerror}); choose another port "
                "with --port or CAREWATCH_PORT",
                exit_code=2,
            ) from exc


def listen_address(settings: Settings, host: str | None, port: int | None) -> tuple[str, int]:
    """Host and port (options over settings), checked free, warning if cookies will not work."""
    host, port = host or settings.host, port or settings.port
    _check_port(host, port)
    # Secure-only cookies over plain HTTP work in browsers on localhost only.
    if settings.session_cookie_secure and not browser_url(host, 0).startswith("http://localhost"):
        click.echo(
            f"note: sign-in cookies are Secure-only; over plain HTTP on {host} put TLS in front "
            "or set CAREWATCH_SESSION_COOKIE_SECURE=false on a trusted network",
            err=True,
        )
    return host, port


def server_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The --host, --port and --workers options of ``web`` and ``up``."""
    f = click.option("--workers", type=click.IntRange(1, 64), help="Worker processes.")(f)
    f = click.option("--port", type=click.IntRange(1, 65535), help="Port (CAREWATCH_PORT).")(f)
    f = click.option("--host", help="Address to bind (CAREWATCH_HOST).")(f)
    return f


def _gunicorn_logconfig(level: str, access_log: bool) -> dict[str, Any]:
    """Gunicorn's own loggers in the same format as everything else."""
    lvl = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"std": {"format": LOG_FORMAT, "datefmt": LOG_DATEFMT}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "std",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": lvl, "handlers": ["console"]},
        "loggers": {
            "gunicorn.error": {"level": lvl, "handlers": [], "propagate": True},
            # With a logconfig gunicorn always calls the access logger; the level decides.
            "gunicorn.access": {
                "level": "INFO" if access_log else "WARNING",
                "handlers": [],
                "propagate": True,
            },
        },
    }


def serve(
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    log_level: str,
    access_log: bool = False,
    announce: bool = True,
) -> None:
    """Run the web app under gunicorn (gthread workers) in this process until stopped."""
    # Imported here: gunicorn takes a noticeable time to import and only this command needs it.
    from carewatch.server import WebApplication

    url = browser_url(host, port)

    def when_ready(server: Any) -> None:
        server.log.info(
            "listening on %s:%s (%s workers x %s threads)", host, port, workers, threads
        )
        if announce:
            click.echo(f"CareWatch is running at {url}")

    WebApplication(
        {
            "bind": _authority(host, port),
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 60,
            "graceful_timeout": 10,
            "keepalive": 5,
            "proc_name": "carewatch-web",
            "loglevel": log_level,
            "logconfig_dict": _gunicorn_logconfig(log_level, access_log),
            "accesslog": "-" if access_log else None,
            "when_ready": when_ready,
        }
    ).run()


@click.command()
@server_options
@click.option("--threads", type=click.IntRange(1, 64), help="Threads per worker.")
@click.option("--access-log", is_flag=True, help="Log every request.")
@click.option("--announce/--no-announce", default=True, hidden=True)
@click.pass_context
def web(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    workers: int | None,
    threads: int | None,
    access_log: bool,
    announce: bool,
) -> None:
    """Serve the web app with the production WSGI server (gunicorn)."""
    settings = load_settings()
    migrated_database_url(settings)
    host, port = listen_address(settings, host, port)
    # Resolved before gunicorn forks, so the workers only read the key and a data folder where
    # it cannot be written fails here, once, rather than in every worker's boot.
    settings.resolved_secret_key()
    serve(
        host=host,
        port=port,
        workers=workers or settings.web_workers,
        threads=threads or settings.web_threads,
        log_level=ctx.meta.get("carewatch.log_level", "info"),
        access_log=access_log,
        announce=announce,
    )
