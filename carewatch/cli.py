"""The ``carewatch`` command line: database, demo data, users, the web server and ``up``."""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import click
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from carewatch import __version__
from carewatch.clock import SystemClock
from carewatch.config import Settings, get_settings
from carewatch.errors import DomainError

log = logging.getLogger("carewatch.cli")

LOG_FORMAT = "%(asctime)s %(levelname)-7s [%(process)d] %(name)s: %(message)s"
LOG_DATEFMT = "%Y-%m-%d %H:%M:%S"
LOG_LEVELS = ["debug", "info", "warning", "error"]


# ------------------------------------------------------------------ errors and plumbing


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


def _masked(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


class _Group(click.Group):
    """Turns the errors a person can fix into one clear line instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
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


def _configure_logging(level: str) -> None:
    lvl = getattr(logging, level.upper())
    logging.basicConfig(level=lvl, format=LOG_FORMAT, datefmt=LOG_DATEFMT)
    # basicConfig leaves an already configured root alone (tests, embedding); the level
    # asked for still applies.
    logging.getLogger().setLevel(lvl)
    if lvl > logging.DEBUG:
        # Alembic narrates every plugin and context at INFO; the commands print a summary.
        logging.getLogger("alembic").setLevel(logging.WARNING)


def _settings() -> Settings:
    from pydantic import ValidationError

    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"CAREWATCH_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        raise CliError(f"invalid setting: {problems}", exit_code=2) from exc


def _database_url(settings: Settings) -> str:
    """The configured URL; a SQLite file's folder is created so the first run just works."""
    url = settings.resolved_database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    click.get_current_context().meta["carewatch.url"] = _masked(url)
    return url


def _head_revision(url: str) -> str | None:
    from alembic.script import ScriptDirectory

    from carewatch.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def _require_schema(url: str) -> None:
    """Refuse to work on a database whose schema is missing or behind."""
    from carewatch.migrate import current

    at, head = current(url), _head_revision(url)
    if at is None:
        raise CliError(
            f"the database {_masked(url)} has no CareWatch schema yet; "
            "run 'carewatch db upgrade' first",
            exit_code=2,
        )
    if at != head:
        raise CliError(
            f"the database schema is at revision {at}, this version needs {head}; "
            "run 'carewatch db upgrade'",
            exit_code=2,
        )


@contextlib.contextmanager
def _sessions(url: str) -> Iterator[sessionmaker[Session]]:
    from carewatch.db import make_engine, make_session_factory

    engine: Engine = make_engine(url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


class _Instant(click.ParamType):
    """An ISO 8601 instant with a UTC offset (hidden --now options, for tests and replays)."""

    name = "instant"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 date and time", param, ctx)
        if at.tzinfo is None:
            self.fail("give a UTC offset, e.g. 2026-03-10T09:00+08:00", param, ctx)
        return at


def _now(override: datetime | None) -> datetime:
    return override if override is not None else SystemClock().now()


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


# ------------------------------------------------------------------ the command group


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--log-level",
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    default="info",
    show_default=True,
    envvar="CAREWATCH_LOG_LEVEL",
    help="Least severe log messages to show (env CAREWATCH_LOG_LEVEL).",
)
@click.version_option(__version__, prog_name="carewatch")
@click.pass_context
def cli(ctx: click.Context, log_level: str) -> None:
    """CareWatch: operations and safety compliance for a childcare centre (托育机构).

    Settings come from CAREWATCH_* environment variables (data folder, database URL,
    host, port, workers); see carewatch/config.py.
    """
    _configure_logging(log_level)
    ctx.meta["carewatch.log_level"] = log_level.lower()


# ------------------------------------------------------------------ db


@cli.group()
def db() -> None:
    """The database schema."""


def _upgrade(url: str) -> tuple[str | None, str | None]:
    from carewatch.migrate import current, upgrade

    before = current(url)
    upgrade(url)
    return before, current(url)


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the newest revision (creates it when empty)."""
    url = _database_url(_settings())
    before, after = _upgrade(url)
    if before == after:
        click.echo(f"database {_masked(url)} is up to date (revision {after})")
    else:
        click.echo(f"database {_masked(url)} upgraded from {before or 'empty'} to {after}")


# ------------------------------------------------------------------ demo


@cli.group()
def demo() -> None:
    """Demo data."""


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


def _seed(
    factory: sessionmaker[Session],
    now: datetime,
    *,
    children: int,
    days: int,
    seed: int,
    if_empty: bool,
) -> Any:
    """Seed the demo in one transaction; None when a facility exists and that is fine."""
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
            return seed_demo(
                session, now, children=children, days=days, seed=seed, progress=progress
            )


def _print_report(report: Any) -> None:
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


def _print_accounts(accounts: list[Any]) -> None:
    if not accounts:
        return
    click.echo("demo sign-ins (user name / password):")
    for acc in accounts:
        click.echo(f"  {acc.username:<10} {acc.password:<22} {acc.role.value:<15} {acc.note}")


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
@click.option("--now", "now_", type=_Instant(), hidden=True, help="Pretend it is this instant.")
def demo_seed(children: int, days: int, seed: int, if_empty: bool, now_: datetime | None) -> None:
    """Fill an empty database with a demo facility and its recent history."""
    from facility_app.demo.people import DEMO_ACCOUNTS

    url = _database_url(_settings())
    _require_schema(url)
    with _sessions(url) as factory:
        report = _seed(
            factory, _now(now_), children=children, days=days, seed=seed, if_empty=if_empty
        )
    if report is not None:
        _print_report(report)
        _print_accounts(list(DEMO_ACCOUNTS))


# ------------------------------------------------------------------ users


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

    url = _database_url(_settings())
    _require_schema(url)
    password = _read_password(password_stdin)
    with _sessions(url) as factory, transaction(factory) as session:
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


# ------------------------------------------------------------------ attendance


@cli.group()
def attendance() -> None:
    """Attendance jobs."""


@attendance.command("close-day")
@click.option(
    "--day",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Day to close (default: the last day whose closing time has passed).",
)
@click.option("--now", "now_", type=_Instant(), hidden=True, help="Pretend it is this instant.")
def close_day_command(day: datetime | None, now_: datetime | None) -> None:
    """Flag children still checked in after closing as missing a check-out, and alert."""
    from carewatch.db import transaction
    from facility_app.attendance.service import close_day
    from facility_app.facility.service import at_local, get_facility, today

    url = _database_url(_settings())
    _require_schema(url)
    now = _now(now_)
    with _sessions(url) as factory, transaction(factory) as session:
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


# ------------------------------------------------------------------ the web server


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


def _browser_url(host: str, port: int) -> str:
    # Browsers accept the Secure session cookie over plain HTTP only on localhost.
    if host in ("127.0.0.1", "0.0.0.0", "::", "::1", "", "localhost"):
        return f"http://localhost:{port}/"
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def _probe_url(host: str, port: int) -> str:
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}/healthz" if ":" in host else f"http://{host}:{port}/healthz"


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
    from gunicorn.app.base import BaseApplication

    url = _browser_url(host, port)

    def when_ready(server: Any) -> None:
        server.log.info(
            "listening on %s:%s (%s workers x %s threads)", host, port, workers, threads
        )
        if announce:
            click.echo(f"CareWatch is running at {url}")

    options: dict[str, Any] = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
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

    class WebApplication(BaseApplication):  # type: ignore[misc]
        """Gunicorn, configured in code, loading the Flask app factory in each worker."""

        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)
            if "control_socket_disable" in self.cfg.settings:
                # Gunicorn ≥ 24 opens a control socket in $HOME; nothing here uses it, and
                # two servers on one machine would fight over the same path.
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:
            from facility_app import create_app

            return create_app()

    WebApplication().run()


def _warn_insecure_cookie(settings: Settings, host: str) -> None:
    """Secure-only cookies over plain HTTP work in browsers on localhost only."""
    if settings.session_cookie_secure and not _browser_url(host, 0).startswith("http://localhost"):
        click.echo(
            f"note: sign-in cookies are Secure-only; over plain HTTP on {host} put TLS in front "
            "or set CAREWATCH_SESSION_COOKIE_SECURE=false on a trusted network",
            err=True,
        )


def _server_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--workers", type=click.IntRange(1, 64), help="Worker processes.")(f)
    f = click.option("--port", type=click.IntRange(1, 65535), help="Port (CAREWATCH_PORT).")(f)
    f = click.option("--host", help="Address to bind (CAREWATCH_HOST).")(f)
    return f


@cli.command()
@_server_options
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
    settings = _settings()
    url = _database_url(settings)
    _require_schema(url)
    host, port = host or settings.host, port or settings.port
    _check_port(host, port)
    _warn_insecure_cookie(settings, host)
    # Create the session key here, once: workers starting together would race to create
    # it, and one reading a half-written file would sign sessions with another key.
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


# ------------------------------------------------------------------ up: components


class ComponentError(RuntimeError):
    """A component could not start."""


class Component(Protocol):
    """One long-running part of the stack that ``up`` starts in order and stops in reverse."""

    name: str

    def start(self, stop: threading.Event) -> None:
        """Start and return once ready; give up when ``stop`` is set."""

    def alive(self) -> bool:
        """Whether it is still running."""

    def stop(self) -> None:
        """Stop and wait for it."""


def _die_with_parent() -> None:
    """In the child: get SIGTERM if ``up`` dies without stopping us (Linux only)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class WebServer:
    """The gunicorn web server as a child process, so that ``up`` owns signals and order."""

    name = "web"

    def __init__(self, *, host: str, port: int, workers: int, threads: int, log_level: str) -> None:
        self.host, self.port = host, port
        self.args = [
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
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, stop: threading.Event, timeout: float = 60.0) -> None:
        """Start gunicorn and wait until /healthz answers."""
        # Its own process group: Ctrl-C reaches only `up`, which then stops it in order.
        self.proc = subprocess.Popen(self.args, process_group=0, preexec_fn=_die_with_parent)
        probe = _probe_url(self.host, self.port)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not stop.is_set():
            code = self.proc.poll()
            if code is not None:
                raise ComponentError(f"the web server exited during start-up (exit code {code})")
            try:
                with urllib.request.urlopen(probe, timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            stop.wait(0.2)
        if not stop.is_set():
            raise ComponentError(f"the web server did not answer {probe} within {timeout:.0f} s")

    def alive(self) -> bool:
        """Whether the gunicorn master still runs."""
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """Graceful shutdown (SIGTERM lets requests finish), then kill if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            log.warning("web server did not stop in 20 s; killing it")
            self.proc.kill()
            self.proc.wait()


def run_components(
    components: list[Component], stop: threading.Event, on_ready: Callable[[], None] | None = None
) -> int:
    """Start components in order, wait for SIGINT/SIGTERM or a failure, stop them in reverse."""

    def _on_signal(signum: int, _frame: Any) -> None:
        log.info("received %s; stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    started: list[Component] = []
    code = 0
    try:
        for component in components:
            if stop.is_set():
                break
            log.info("starting %s", component.name)
            component.start(stop)
            started.append(component)
        else:
            if on_ready is not None:
                on_ready()
        while not stop.wait(0.5):
            dead = [c.name for c in started if not c.alive()]
            if dead:
                log.error("%s stopped unexpectedly; shutting down", ", ".join(dead))
                code = 1
                break
    except ComponentError as exc:
        log.error("%s", exc)
        code = 1
    finally:
        stop.set()
        for component in reversed(started):
            log.info("stopping %s", component.name)
            component.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code


def up_components(
    settings: Settings, host: str, port: int, workers: int, log_level: str
) -> list[Component]:
    """The embedded stack, in start order (broker, agent and hub join here as they land)."""
    return [
        WebServer(
            host=host,
            port=port,
            workers=workers,
            threads=settings.web_threads,
            log_level=log_level,
        ),
    ]


def _accounts_still_demo(factory: sessionmaker[Session]) -> list[Any]:
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


@cli.command()
@_server_options
@click.pass_context
def up(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Run everything on this machine: database, demo data if empty, and the web app."""
    settings = _settings()
    host, port = host or settings.host, port or settings.port
    workers = workers or settings.web_workers
    log_level = ctx.meta.get("carewatch.log_level", "info")

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    click.echo(f"data folder: {settings.data_dir.resolve()}")
    url = _database_url(settings)
    before, after = _upgrade(url)
    click.echo(
        f"database {_masked(url)}: "
        + (
            f"revision {after}"
            if before == after
            else f"upgraded from {before or 'empty'} to {after}"
        )
    )
    _check_port(host, port)
    _warn_insecure_cookie(settings, host)
    with _sessions(url) as factory:
        report = _seed(factory, SystemClock().now(), children=90, days=92, seed=7, if_empty=True)
        if report is not None:
            _print_report(report)
        accounts = _accounts_still_demo(factory)

    def ready() -> None:
        click.echo("")
        click.echo(f"CareWatch is running at {_browser_url(host, port)}")
        _print_accounts(accounts)
        click.echo("press Ctrl-C to stop")

    stop = threading.Event()
    code = run_components(up_components(settings, host, port, workers, log_level), stop, ready)
    ctx.exit(code)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="carewatch")


if __name__ == "__main__":
    main()
