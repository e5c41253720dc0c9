"""The `carewatch` command line against real database files and servers."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner, Result
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from carewatch import cli
from carewatch.config import get_settings
from carewatch.db import make_engine, make_session_factory
from facility_app.accounts import service as accounts_service
from facility_app.accounts.models import Role, User
from facility_app.accounts.permissions import SYSTEM
from facility_app.alerts.models import Alert, AlertKind
from facility_app.attendance.models import AbsenceReason, AttendanceRecord
from facility_app.attendance.service import check_in
from facility_app.children.models import Enrolment
from facility_app.facility.models import ClassRoom, ClosedDay
from facility_app.ratio.models import ClassBreach
from facility_app.staff.models import Staff, StaffRole
from tests.conftest import T0
from tests.factories import Builder

# Monday 12 October 2026, mid-morning: the window holds 中秋 and the National Day week.
SEED_NOW = "2026-10-12T10:00+08:00"


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Settings pointed at a temporary data folder, read afresh by each command."""
    monkeypatch.setenv("CAREWATCH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("CAREWATCH_DATABASE_URL", raising=False)
    # Argon2 at production cost is most of a small seed's time; the CLI tests need none.
    monkeypatch.setattr(
        accounts_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    root_level = logging.getLogger().level
    get_settings.cache_clear()
    yield tmp_path / "var"
    get_settings.cache_clear()
    logging.getLogger().setLevel(root_level)


def run(*args: str, input: str | None = None) -> Result:
    """Invoke the command line in-process, as `carewatch ARGS`."""
    get_settings.cache_clear()
    return CliRunner().invoke(cli.cli, list(args), input=input, catch_exceptions=False)


def _session(url: str) -> Session:
    return make_session_factory(make_engine(url))()


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _enrolled(session: Session) -> int:
    """Children enrolled with no end date (the seed also keeps children who have left)."""
    stmt = select(func.count()).select_from(Enrolment).where(Enrolment.end_date.is_(None))
    return session.scalar(stmt) or 0


def test_db_upgrade_creates_the_schema_in_a_fresh_sqlite_file(cli_env: Path) -> None:
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "upgraded from empty to" in result.output
    engine = make_engine(f"sqlite:///{cli_env / 'carewatch.db'}")
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"facility", "child", "attendance", "class_breach", "alembic_version"} <= tables
    again = run("db", "upgrade")
    assert again.exit_code == 0 and "up to date" in again.output


def test_commands_refuse_a_database_without_schema(cli_env: Path) -> None:
    result = run("demo", "seed")
    assert result.exit_code == 2
    assert "carewatch db upgrade" in result.output


def test_unreachable_database_is_one_clear_line(cli_env: Path, monkeypatch) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(
        "CAREWATCH_DATABASE_URL", f"postgresql+psycopg://carewatch:secret@127.0.0.1:{port}/x"
    )
    result = run("db", "upgrade")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach the database")
    assert "secret" not in result.output


def test_invalid_setting_is_reported(cli_env: Path, monkeypatch) -> None:
    monkeypatch.setenv("CAREWATCH_PORT", "eighty")
    result = run("web")
    assert result.exit_code == 2
    assert "invalid setting: CAREWATCH_PORT" in result.output


def test_demo_seed_default_size_then_refuses_a_second_time(cli_env: Path) -> None:
    assert run("db", "upgrade").exit_code == 0
    result = run("demo", "seed", "--now", SEED_NOW)
    assert result.exit_code == 0, result.output
    assert "seeded 阳光宝贝托育中心 in" in result.output
    assert "director   carewatch-director" in result.output

    with _session(f"sqlite:///{cli_env / 'carewatch.db'}") as s:
        assert _count(s, ClassRoom) == 6
        assert _enrolled(s) == 90
        assert 18 <= _count(s, Staff) <= 26
        closed = set(s.scalars(select(ClosedDay.day)))
        days = set(s.scalars(select(AttendanceRecord.day).distinct()))
        assert len(days) > 55
        assert all(d.weekday() < 5 for d in days) and not days & closed
        assert len(closed) >= 6  # 中秋 and the National Day weekdays
        illness = s.scalar(
            select(func.count())
            .select_from(AttendanceRecord)
            .where(AttendanceRecord.absence_reason == AbsenceReason.ILLNESS)
        )
        assert 0.04 < illness / _count(s, AttendanceRecord) < 0.09
        assert _count(s, ClassBreach) >= 1

    second = run("demo", "seed", "--now", SEED_NOW)
    assert second.exit_code == 1
    assert "already has a facility" in second.output and "--if-empty" in second.output
    quiet = run("demo", "seed", "--if-empty")
    assert quiet.exit_code == 0 and "nothing seeded" in quiet.output
    with _session(f"sqlite:///{cli_env / 'carewatch.db'}") as s:
        assert _enrolled(s) == 90


def test_small_demo_seed_on_each_backend(cli_env: Path, db_url: str, monkeypatch) -> None:
    monkeypatch.setenv("CAREWATCH_DATABASE_URL", db_url)
    result = run(
        "demo", "seed", "--children", "24", "--days", "21", "--seed", "5", "--now", SEED_NOW
    )
    assert result.exit_code == 0, result.output
    with _session(db_url) as s:
        assert _enrolled(s) == 24
        assert _count(s, ClassRoom) == 6
        assert _count(s, User) == 5
        assert _count(s, ClassBreach) >= 1


def test_user_create_reads_the_password_and_checks_it(cli_env: Path) -> None:
    assert run("db", "upgrade").exit_code == 0
    ok = run(
        "user", "create", "--username", "li.na", "--role", "director", "--password-stdin",
        input="a long enough password\n",
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert "created user 'li.na'" in ok.output
    with _session(f"sqlite:///{cli_env / 'carewatch.db'}") as s:
        user = s.scalar(select(User).where(User.username == "li.na"))
        assert user is not None and user.role == Role.DIRECTOR
        assert accounts_service.verify_password(user.password_hash, "a long enough password")

    weak = run(
        "user", "create", "--username", "weak", "--role", "admin", "--password-stdin",
        input="short\n",
    )  # fmt: skip
    assert weak.exit_code == 1
    assert "at least 8 characters" in weak.output
    taken = run(
        "user", "create", "--username", "li.na", "--role", "admin", "--password-stdin",
        input="another long password\n",
    )  # fmt: skip
    assert taken.exit_code == 1 and "already taken" in taken.output
    caregiver = run(
        "user", "create", "--username", "c1", "--role", "caregiver", "--password-stdin",
        input="another long password\n",
    )  # fmt: skip
    assert caregiver.exit_code == 1 and "staff member" in caregiver.output
    missing = run(
        "user", "create", "--username", "c2", "--role", "caregiver", "--staff-id", "999",
        "--password-stdin", input="another long password\n",
    )  # fmt: skip
    assert missing.exit_code == 1 and "no staff member with id 999" in missing.output


def test_close_day_flags_open_check_ins(cli_env: Path) -> None:
    assert run("db", "upgrade").exit_code == 0
    url = f"sqlite:///{cli_env / 'carewatch.db'}"
    with _session(url) as s:
        b = Builder(s, T0)
        fac = b.facility()
        room = b.room(fac)
        kid = b.child(fac, room, birth_date=datetime(2025, 1, 5).date())
        b.staff(fac, StaffRole.CAREGIVER, classes=[room.id])
        check_in(s, SYSTEM, fac, kid, now=T0, dropped_off_by_id=kid.guardians[0].id)
        s.commit()

    early = run("attendance", "close-day", "--day", "2026-03-10", "--now", "2026-03-10T15:00+08:00")
    assert early.exit_code == 1 and "has not closed yet" in early.output
    closed = run("attendance", "close-day", "--now", "2026-03-10T18:00+08:00")
    assert closed.exit_code == 0, closed.output
    assert "2026-03-10: 1 open check-in(s) flagged" in closed.output
    again = run("attendance", "close-day", "--day", "2026-03-10", "--now", "2026-03-11T08:00+08:00")
    assert "2026-03-10: 0 open check-in(s)" in again.output
    with _session(url) as s:
        rec = s.scalar(select(AttendanceRecord))
        assert rec is not None and rec.missing_checkout
        kinds = list(s.scalars(select(Alert.kind)))
        assert kinds.count(AlertKind.MISSING_CHECKOUT) == 1


def test_close_day_without_facility_says_what_to_do(cli_env: Path) -> None:
    assert run("db", "upgrade").exit_code == 0
    result = run("attendance", "close-day")
    assert result.exit_code == 1
    assert "carewatch demo seed" in result.output


def test_web_refuses_a_port_in_use(cli_env: Path) -> None:
    assert run("db", "upgrade").exit_code == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("web", "--host", "127.0.0.1", "--port", str(port))
    assert result.exit_code == 2
    assert "cannot listen on 127.0.0.1" in result.output and "--port" in result.output


def test_web_serves_the_app_with_gunicorn_and_stops_on_sigterm(cli_env: Path) -> None:
    assert run("db", "upgrade").exit_code == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CAREWATCH_DATA_DIR": str(cli_env)}
    command = [sys.executable, "-m", "carewatch.cli", "--log-level", "warning", "web"]
    options = ["--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--threads", "2"]
    proc = subprocess.Popen(
        [*command, *options],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        body = b""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    body = r.read()
                    break
            except OSError:
                time.sleep(0.2)
        assert b'"status":"ok"' in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/auth/login", timeout=5) as r:
            assert b'name="csrf-token"' in r.read()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert f"CareWatch is running at http://localhost:{port}/" in out.decode()


class _Fake:
    """A component that records what happened to it."""

    def __init__(self, name: str, events: list[str], dies: bool = False) -> None:
        self.name, self.events, self.dies = name, events, dies
        self.running = False

    def start(self, stop: threading.Event) -> None:
        self.events.append(f"start {self.name}")
        self.running = True

    def alive(self) -> bool:
        return self.running and not self.dies

    def stop(self) -> None:
        self.events.append(f"stop {self.name}")
        self.running = False


def test_components_start_in_order_and_stop_in_reverse_on_sigterm() -> None:
    events: list[str] = []
    stop = threading.Event()
    parts = [_Fake(n, events) for n in ("broker", "web", "agent")]
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGTERM))
    timer.start()
    code = cli.run_components(parts, stop, on_ready=lambda: events.append("ready"))
    timer.join()
    assert code == 0
    assert events == [
        "start broker", "start web", "start agent", "ready",
        "stop agent", "stop web", "stop broker",
    ]  # fmt: skip


def test_a_dying_component_stops_the_others() -> None:
    events: list[str] = []
    parts = [_Fake("web", events), _Fake("agent", events, dies=True)]
    code = cli.run_components(parts, threading.Event())
    assert code == 1
    assert events[-2:] == ["stop agent", "stop web"]
