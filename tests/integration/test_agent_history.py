"""The agent's compliance history: recent snapshots kept, older ones thinned, oldest gone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from carewatch.clock import FixedClock
from carewatch.config import Settings
from carewatch.db import make_engine, make_session_factory, transaction
from edge_agent.jobs import thin_history
from edge_agent.models import ComplianceSnapshot

START = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture()
def factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


def _minutes(factory: sessionmaker[Session], first: datetime, count: int, fail: set[int]) -> None:
    """One snapshot a minute from ``first``; the minutes in ``fail`` are failing."""
    with transaction(factory) as session:
        session.add_all(
            ComplianceSnapshot(
                made_at=first + timedelta(minutes=i),
                overall="fail" if i in fail else "pass",
                results=[],
            )
            for i in range(count)
        )


def _kept(factory: sessionmaker[Session]) -> list[tuple[datetime, str]]:
    with transaction(factory, write=False) as session:
        rows = session.execute(
            select(ComplianceSnapshot.made_at, ComplianceSnapshot.overall).order_by(
                ComplianceSnapshot.id
            )
        ).all()
    return [(made_at, overall) for made_at, overall in rows]


def test_old_minutes_thin_to_the_first_of_each_hour_and_every_change(factory) -> None:  # type: ignore[no-untyped-def]
    # Three days of minutes; on the first day the facility failed from 10:30 to 10:44.
    _minutes(factory, START, 3 * 1440, fail=set(range(630, 645)))
    clock = FixedClock(START + timedelta(days=3))
    settings = Settings(snapshot_detail_days=2, snapshot_keep_days=400)
    # The first day (1,440 rows) keeps 24 hour marks plus 10:30 (to fail) and 10:45 (back).
    assert thin_history(factory, clock, settings) == 1440 - 26
    kept = _kept(factory)
    assert len(kept) == 26 + 2 * 1440
    first_day = [k for k in kept if k[0] < START + timedelta(days=1)]
    assert first_day[10:13] == [
        (START + timedelta(hours=10), "pass"),
        (START + timedelta(hours=10, minutes=30), "fail"),
        (START + timedelta(hours=10, minutes=45), "pass"),
    ]
    # A second run the same day has nothing left to do; a day later the next day thins.
    assert thin_history(factory, clock, settings) == 0
    clock.advance(timedelta(days=1))
    assert thin_history(factory, clock, settings) == 1440 - 24


def test_snapshots_beyond_the_keep_period_are_deleted(factory) -> None:  # type: ignore[no-untyped-def]
    _minutes(factory, START, 180, fail=set())
    clock = FixedClock(START + timedelta(days=3, minutes=90))
    settings = Settings(snapshot_detail_days=1, snapshot_keep_days=3)
    # The first 90 minutes are older than three days; of the other 90, the first of each
    # of their two hours (01:00 is minute 60, so 01:30 is the first one left) stays.
    assert thin_history(factory, clock, settings) == 90 + 88
    assert [k[0] for k in _kept(factory)] == [
        START + timedelta(minutes=90),
        START + timedelta(hours=2),
    ]
