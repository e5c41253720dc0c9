"""The agent's scheduler: runs recorded, missed runs caught up once, failures survived."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from carewatch.clock import SystemClock
from carewatch.db import make_engine, make_session_factory, transaction
from carewatch.migrate import upgrade
from edge_agent.models import AgentJobRun
from edge_agent.scheduler import JobScheduler, JobSpec, missed_runs

T = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("last", "now", "interval", "expected"),
    [
        (None, T, timedelta(minutes=1), 0),
        (T, T, timedelta(minutes=1), 0),
        (T, T + timedelta(seconds=59), timedelta(minutes=1), 0),
        # Due at +1 min and running now: nothing was missed yet.
        (T, T + timedelta(minutes=1), timedelta(minutes=1), 0),
        # Due at +1, +2 (missed), +3 is now.
        (T, T + timedelta(minutes=3), timedelta(minutes=1), 2),
        # Due at +1, +2, +3 (all missed), now is between runs.
        (T, T + timedelta(minutes=3, seconds=30), timedelta(minutes=1), 3),
        (T, T + timedelta(days=2, hours=1), timedelta(days=1), 2),
    ],
)
def test_missed_runs_hand_worked(
    last: datetime | None, now: datetime, interval: timedelta, expected: int
) -> None:
    assert missed_runs(last, now, interval) == expected


@pytest.fixture()
def factory(tmp_path) -> Iterator[sessionmaker[Session]]:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'agent.db'}"
    upgrade(url)
    engine = make_engine(url, durable=True)
    yield make_session_factory(engine)
    engine.dispose()


def _record(factory: sessionmaker[Session], job: str, ago: timedelta) -> None:
    with transaction(factory) as session:
        session.add(AgentJobRun(job=job, last_run_at=datetime.now(UTC) - ago, ok=True))


def _runs(factory: sessionmaker[Session]) -> dict[str, AgentJobRun]:
    with transaction(factory, write=False) as session:
        return {r.job: r for r in session.scalars(select(AgentJobRun))}


def _wait_for(predicate, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_never_run_and_overdue_jobs_run_once_at_start_others_keep_their_rhythm(
    factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    _record(factory, "overdue", timedelta(minutes=10, seconds=30))
    _record(factory, "recent", timedelta(seconds=10))
    calls = {"new": 0, "overdue": 0, "recent": 0}

    def job(name: str):  # type: ignore[no-untyped-def]
        def run() -> None:
            calls[name] += 1

        return run

    specs = [JobSpec(name, job(name), timedelta(minutes=1)) for name in calls]
    scheduler = JobScheduler(factory, SystemClock(), specs)
    stop = threading.Event()
    with caplog.at_level(logging.WARNING, logger="edge_agent.scheduler"):
        scheduler.start(stop)
        try:
            assert _wait_for(lambda: calls["new"] == 1 and calls["overdue"] == 1)
            time.sleep(0.5)
        finally:
            scheduler.stop()
    # Coalesced: ten minutes of missed runs become one run, and the log says so.
    assert calls == {"new": 1, "overdue": 1, "recent": 0}
    assert "job overdue missed 10 run(s)" in caplog.text
    assert "recent" not in caplog.text
    runs = _runs(factory)
    assert runs["overdue"].last_run_at > datetime.now(UTC) - timedelta(seconds=30)
    assert runs["recent"].last_run_at < datetime.now(UTC) - timedelta(seconds=9)


def test_a_failing_job_is_recorded_and_keeps_running(factory: sessionmaker[Session]) -> None:
    attempts: list[int] = []

    def flaky() -> None:
        attempts.append(1)
        raise RuntimeError("camera store unreachable")

    scheduler = JobScheduler(factory, SystemClock(), [JobSpec("flaky", flaky, timedelta(hours=1))])
    scheduler.start(threading.Event())
    try:
        assert _wait_for(lambda: "flaky" in _runs(factory))
        assert scheduler.alive()
        scheduler.run_now("flaky")
        assert _wait_for(lambda: len(attempts) == 2)
    finally:
        scheduler.stop()
    run = _runs(factory)["flaky"]
    assert run.ok is False
    assert run.message == "RuntimeError: camera store unreachable"
    assert not scheduler.alive()
