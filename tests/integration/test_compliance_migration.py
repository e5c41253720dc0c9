"""Revision 0004 widens the alert kind constraint, and narrows it again on downgrade."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from carewatch.db import make_engine
from carewatch.migrate import alembic_config, current, upgrade

_names = count(1)
INSERT = text(
    "INSERT INTO alert (facility_id, kind, severity, created_at, params)"
    " VALUES (:f, :kind, 'info', '2026-03-10 01:00:00', '{}')"
)


@pytest.fixture
def fresh_url(backend: str, request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """An empty database of the test's backend, not yet migrated."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    server = request.getfixturevalue("pg_server")
    name = f"carewatch_mig_{next(_names)}"
    admin = make_engine(server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield server.url_for(name)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


def _insert(url: str, kind: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            fac = conn.execute(
                text(
                    "INSERT INTO facility (name, registration_no, filing_no, grade,"
                    " puhui_certified, ownership, opening_time, closing_time, timezone, address)"
                    " VALUES ('F', '', '', 'ungraded', false, 'private', '07:30:00',"
                    " '17:30:00', 'Asia/Shanghai', '') RETURNING id"
                )
            ).scalar_one()
            conn.execute(INSERT, {"f": fac, "kind": kind})
    finally:
        engine.dispose()


def test_compliance_alert_kind_is_allowed_from_0004_only(fresh_url: str) -> None:
    upgrade(fresh_url, "0003")
    with pytest.raises(IntegrityError):
        _insert(fresh_url, "compliance_change")
    upgrade(fresh_url, "0004")
    _insert(fresh_url, "compliance_change")
    with pytest.raises(IntegrityError):
        _insert(fresh_url, "no_such_kind")
    # Downgrading removes the new kind's alerts first, then restores the old constraint.
    command.downgrade(alembic_config(fresh_url), "0003")
    assert current(fresh_url) == "0003"
    _insert(fresh_url, "late_pickup")
    with pytest.raises(IntegrityError):
        _insert(fresh_url, "compliance_change")
