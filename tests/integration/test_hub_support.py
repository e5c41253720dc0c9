"""Shared by the hub tests: a migrated hub database per backend and signing test facilities.

Test modules import the ``hub_url`` fixture from here (``from ... import hub_url``).
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from carewatch.db import make_engine, make_session_factory, transaction
from carewatch.reports import DEFAULT_PREFIX, Kind, Report, public_key_text, sign, topic
from supervision_hub.migrate import upgrade
from supervision_hub.models import HubBase, HubReport
from supervision_hub.service import register_facility

# 2026-03-10 09:00 in Shanghai.
NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def hub_pg_url(request: pytest.FixtureRequest) -> str:
    """A migrated hub database on the session's PostgreSQL server."""
    server = request.getfixturevalue("pg_server")
    # Each test module that imports this fixture has its own copy: one database each.
    name = f"hub_test_{uuid.uuid4().hex[:8]}"
    admin = make_engine(server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    url = server.url_for(name)
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def hub_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite hub database that each test copies."""
    path = tmp_path_factory.mktemp("hub") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def hub_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty hub database of the test's backend."""
    if backend == "sqlite":
        target = tmp_path / "hub.db"
        shutil.copyfile(request.getfixturevalue("hub_sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    url = request.getfixturevalue("hub_pg_url")
    yield url
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in HubBase.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def hub_factory(hub_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on the hub database."""
    engine = make_engine(hub_url)
    yield make_session_factory(engine)
    engine.dispose()


@dataclass
class Site:
    """A test facility: its key, and payloads signed with it."""

    code: str
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    prefix: str = DEFAULT_PREFIX

    @property
    def public(self) -> str:
        """The base64 public key, as registered at the hub."""
        return public_key_text(self.key.public_key())

    def topic(self, kind: Kind | str) -> str:
        """The facility's topic of a kind."""
        return topic(self.prefix, self.code, Kind(kind))

    def report(
        self,
        seq: int,
        kind: Kind = Kind.DAILY,
        body: dict[str, Any] | None = None,
        made_at: datetime = NOW,
        historical: bool = False,
    ) -> bytes:
        """A signed report payload."""
        return sign(
            Report(self.code, kind, body or {"n": seq}, made_at, seq=seq, historical=historical),
            self.key,
        )

    def state(self, status: str, bdseq: int, made_at: datetime = NOW) -> bytes:
        """A signed birth (``online``) or death (``offline``)."""
        body: dict[str, Any] = {"status": status, "agent_version": "0.1.0"}
        if status == "online":
            body["backlog"] = 0
        return sign(Report(self.code, Kind.STATE, body, made_at, bdseq=bdseq), self.key)

    def register(self, factory: sessionmaker[Session], name: str = "") -> None:
        """Register the key at the hub."""
        with transaction(factory) as session:
            register_facility(session, code=self.code, public_key=self.public, name=name, now=NOW)


def stored_count(factory: sessionmaker[Session], code: str | None = None) -> int:
    """Reports in the hub database (of one facility)."""
    stmt = select(func.count()).select_from(HubReport)
    if code is not None:
        stmt = stmt.where(HubReport.facility == code)
    with transaction(factory, write=False) as session:
        return session.scalar(stmt) or 0


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    """Poll until true or fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")


def later(seconds: float) -> datetime:
    """NOW plus some seconds."""
    return NOW + timedelta(seconds=seconds)
