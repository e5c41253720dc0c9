"""Shared fixtures: a real database per backend, a fixed clock, the app and signed-in clients."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

import edge_agent.models  # noqa: F401 - the agent's tables are emptied between tests too
import monitoring.models  # noqa: F401 - and the camera registry
from carewatch.clock import FixedClock
from carewatch.db import Base, make_engine, make_session_factory
from carewatch.migrate import upgrade
from facility_app import create_app
from facility_app.accounts.models import User
from tests.factories import PASSWORD, Builder
from tests.mqtt_broker import Mosquitto
from tests.pgserver import PostgresServer

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Tuesday morning; every test that needs "now" starts here unless it moves the clock.
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        default=os.environ.get("CAREWATCH_TEST_DB", "all"),
        choices=["all", "sqlite", "postgresql"],
        help="database backends to run the database tests against",
    )


def _backends(config: pytest.Config) -> list[str]:
    choice = config.getoption("--db")
    return ["sqlite", "postgresql"] if choice == "all" else [choice]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        params = [
            pytest.param(b, marks=[pytest.mark.postgres] if b == "postgresql" else [], id=b)
            for b in _backends(metafunc.config)
        ]
        metafunc.parametrize("backend", params, scope="session")


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Argon2 with minimal cost: same code path, a fraction of the time per sign-in."""
    from argon2 import PasswordHasher

    from facility_app.accounts import service

    strong = service._hasher
    service._hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    yield
    service._hasher = strong


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole test session."""
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template_url(request: pytest.FixtureRequest) -> str:
    """A migrated PostgreSQL database shared by the tests, emptied between them."""
    server: PostgresServer = request.getfixturevalue("pg_server")
    admin = make_engine(server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE carewatch_test"))
    admin.dispose()
    url = server.url_for("carewatch_test")
    upgrade(url)
    return url


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of the test's backend."""
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        target = tmp_path / "carewatch.db"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
        return
    url = request.getfixturevalue("pg_template_url")
    yield url
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    """The injected clock, starting at T0."""
    return FixedClock(T0)


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    """A session for service-level tests; the test commits what it wants kept."""
    engine = make_engine(db_url)
    s = make_session_factory(engine)()
    yield s
    s.rollback()
    s.close()
    engine.dispose()


@pytest.fixture
def build(session: Session, clock: FixedClock) -> Builder:
    """Builds each test's own data through the services."""
    return Builder(session, clock.now())


@pytest.fixture
def app(db_url: str, clock: FixedClock):  # type: ignore[no-untyped-def]
    """The web app on the test's database with the fixed clock."""
    from facility_app.web.extensions import dispose

    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": db_url,
            "SECRET_KEY": "test-secret",
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
            "CLOCK": clock,
        }
    )
    yield application
    dispose(application)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    """A browser-like test client."""
    return app.test_client()


@pytest.fixture
def runner(app):  # type: ignore[no-untyped-def]
    """A CLI runner for the app."""
    return app.test_cli_runner()


_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


class AuthActions:
    """Signs a test client in and out, and posts forms with their CSRF token."""

    def __init__(self, client, language: str | None = "en") -> None:  # type: ignore[no-untyped-def]
        self._client = client
        self.csrf: str | None = None
        self.language = language

    def csrf_token(self) -> str:
        """Fetch a page and read its CSRF token."""
        page = self._client.get("/auth/login").get_data(as_text=True)
        match = _CSRF.search(page)
        assert match, "login page carries a CSRF token"
        self.csrf = match.group(1)
        return self.csrf

    def login(self, user: User | str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
        """Sign in as a user (object or user name)."""
        username = user if isinstance(user, str) else user.username
        token = self.csrf_token()
        response = self._client.post(
            "/auth/login", data={"username": username, "password": password, "csrf_token": token}
        )
        # The session is renewed at sign-in, and with it the token.
        self.csrf = None
        if self.language and response.status_code == 302:
            # Assertions read English message ids; the Chinese default has tests of its own.
            self._client.post(f"/auth/language/{self.language}", data={"csrf_token": self.token()})
        return response

    def logout(self):  # type: ignore[no-untyped-def]
        """Sign out."""
        return self._client.post("/auth/logout", data={"csrf_token": self.token()})

    def token(self) -> str:
        """The current session's CSRF token."""
        return self.csrf or self.csrf_token()

    def post(self, url: str, data: dict | None = None, **kw):  # type: ignore[no-untyped-def]
        """POST a form with the CSRF token added."""
        return self._client.post(url, data={**(data or {}), "csrf_token": self.token()}, **kw)

    def api(self, method: str, url: str, json: object | None = None):  # type: ignore[no-untyped-def]
        """Call the JSON API with the CSRF header."""
        return self._client.open(
            url, method=method, json=json, headers={"X-CSRFToken": self.token()}
        )


@pytest.fixture
def auth(client) -> AuthActions:  # type: ignore[no-untyped-def]
    """Sign-in helper for the test client."""
    return AuthActions(client)


@pytest.fixture()
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A real mosquitto broker on a free loopback port, stopped after the test."""
    root = tmp_path / "mqtt"
    root.mkdir()
    broker = Mosquitto(root).start()
    try:
        yield broker
    finally:
        broker.close()
