"""The outbox and the reporter: numbering, signatures, the bound, waking after commit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from carewatch.clock import FixedClock
from carewatch.db import make_engine, make_session_factory, transaction
from carewatch.reports import Kind, verify
from edge_agent.jobs import ChangeWatcher, produce_synthetic
from edge_agent.models import OutboxReport
from edge_agent.outbox import OutboxFull, enqueue, pending_count
from edge_agent.reporter import Reporter
from facility_app.accounts.permissions import SYSTEM
from facility_app.audit import service as audit


@pytest.fixture()
def factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url, durable=True)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture()
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _reporter(key: Ed25519PrivateKey, limit: int = 1000, **kw: object) -> Reporter:
    return Reporter(key=key, facility="F1", prefix="carewatch/v1", limit=limit, **kw)  # type: ignore[arg-type]


def test_reports_are_numbered_signed_and_never_renumbered(
    factory: sessionmaker[Session], key: Ed25519PrivateKey, clock: FixedClock
) -> None:
    reporter = _reporter(key)
    with transaction(factory) as session:
        first = reporter(session, Kind.COMPLIANCE, {"overall": "pass"}, clock.now())
        second = reporter(session, Kind.ALERTS, {"rule": "class.ratio"}, clock.now())
    assert (first.seq, second.seq) == (1, 2)
    assert first.topic == "carewatch/v1/F1/compliance" and first.retained
    assert second.topic == "carewatch/v1/F1/alerts" and not second.retained
    report = verify(first.payload, key.public_key())
    assert (report.seq, report.facility, report.body) == (1, "F1", {"overall": "pass"})
    # Acknowledged reports leave the outbox; their numbers are never handed out again.
    with transaction(factory) as session:
        session.execute(delete(OutboxReport))
    with transaction(factory) as session:
        assert reporter(session, Kind.DAILY, {}, clock.now()).seq == 3
    # A rolled-back transaction takes its report and its number back with it: no gap.
    with pytest.raises(RuntimeError), transaction(factory) as session:
        reporter(session, Kind.DAILY, {}, clock.now())
        raise RuntimeError("the job failed after queueing")
    with transaction(factory) as session:
        assert reporter(session, Kind.DAILY, {}, clock.now()).seq == 4


def test_reports_made_offline_are_historical_and_the_publisher_is_woken_after_commit(
    factory: sessionmaker[Session], key: Ed25519PrivateKey, clock: FixedClock
) -> None:
    online = {"now": False}
    woken: list[int] = []
    reporter = _reporter(key, online=lambda: online["now"], wake=lambda: woken.append(1))
    with transaction(factory) as session:
        row = reporter(session, Kind.DAILY, {}, clock.now())
        assert woken == []  # not before the row is committed
    assert row.historical and verify(row.payload, key.public_key()).historical
    assert woken == [1]
    online["now"] = True
    with pytest.raises(RuntimeError), transaction(factory) as session:
        reporter(session, Kind.DAILY, {}, clock.now())
        raise RuntimeError("rolled back")
    assert woken == [1]
    with transaction(factory) as session:
        assert not reporter(session, Kind.DAILY, {}, clock.now()).historical
    assert len(woken) == 2


def test_the_bound_holds_back_snapshots_first_and_drops_nothing(
    factory: sessionmaker[Session], key: Ed25519PrivateKey, clock: FixedClock
) -> None:
    args = {"key": key, "facility": "F1", "prefix": "p", "limit": 100, "now": clock.now()}
    with transaction(factory) as session:
        for _ in range(100):
            enqueue(session, kind=Kind.DAILY, body={}, **args)  # type: ignore[arg-type]
    with transaction(factory) as session:
        with pytest.raises(OutboxFull):
            enqueue(session, kind=Kind.COMPLIANCE, body={}, **args)  # type: ignore[arg-type]
        # Alerts still go in, up to 110 % of the bound.
        for _ in range(10):
            enqueue(session, kind=Kind.ALERTS, body={}, **args)  # type: ignore[arg-type]
        with pytest.raises(OutboxFull):
            enqueue(session, kind=Kind.ALERTS, body={}, **args)  # type: ignore[arg-type]
    with transaction(factory, write=False) as session:
        assert pending_count(session) == 110
        seqs = session.scalars(select(OutboxReport.seq).order_by(OutboxReport.id)).all()
    assert seqs == list(range(1, 111))


def test_synthetic_producer_continues_across_restarts_up_to_its_total(
    factory: sessionmaker[Session], key: Ed25519PrivateKey, clock: FixedClock
) -> None:
    reporter = _reporter(key)
    assert produce_synthetic(factory, clock, reporter, total=120, batch=50) == 50
    # A new process (a new reporter) picks up from the counter, not from memory.
    assert produce_synthetic(factory, clock, _reporter(key), total=120, batch=50) == 100
    assert produce_synthetic(factory, clock, reporter, total=120, batch=50) == 120
    assert produce_synthetic(factory, clock, reporter, total=120, batch=50) == 120
    with transaction(factory, write=False) as session:
        assert session.scalar(select(func.count()).select_from(OutboxReport)) == 120


def test_change_watcher_fires_once_per_change_of_any_audited_record(
    factory: sessionmaker[Session], clock: FixedClock
) -> None:
    changes: list[int] = []
    watcher = ChangeWatcher(factory, lambda: changes.append(1))
    assert watcher() is False  # the first look only sets the baseline
    with transaction(factory) as session:
        audit.record(
            session, at=clock.now(), user_id=None, action="create", entity="child", entity_id=1
        )
    assert watcher() is True
    assert watcher() is False
    assert changes == [1]
    # Reading a health record is audited but changes nothing to evaluate.
    with transaction(factory) as session:
        audit.record(
            session, at=clock.now(), user_id=None, action="read", entity="child_health", entity_id=1
        )
    assert watcher() is False
    assert changes == [1]


def test_outbox_ids_keep_growing_after_the_outbox_empties(
    factory: sessionmaker[Session], key: Ed25519PrivateKey, clock: FixedClock
) -> None:
    # The publisher reads onwards from the last id it sent: an id handed out again after
    # the outbox emptied would never be read, and its report never sent.
    reporter = _reporter(key)
    with transaction(factory) as session:
        first = [reporter(session, Kind.DAILY, {}, clock.now()).id for _ in range(3)]
    with transaction(factory) as session:
        session.execute(delete(OutboxReport))
    with transaction(factory) as session:
        later = reporter(session, Kind.DAILY, {}, clock.now()).id
    assert later > max(first)


def test_each_settled_month_is_reported_once_without_names(
    factory: sessionmaker[Session], key: Ed25519PrivateKey, clock: FixedClock, build, session
) -> None:  # type: ignore[no-untyped-def]
    from edge_agent.jobs import run_settlement
    from facility_app.settlement.service import settle_month

    fac = build.facility()
    room = build.room(fac)
    build.child(fac, room, birth_date=date(2024, 9, 1), name="王小明", start=date(2026, 1, 5))
    session.commit()
    reporter = _reporter(key)
    assert run_settlement(factory, clock, reporter) == []
    settle_month(session, SYSTEM, fac, "2026-02", now=clock.now())
    session.commit()
    assert run_settlement(factory, clock, reporter) == ["2026-02"]
    assert run_settlement(factory, clock, reporter) == []
    with transaction(factory, write=False) as s:
        rows = s.scalars(select(OutboxReport).where(OutboxReport.kind == "settlement")).all()
    [row] = rows
    report = verify(row.payload, key.public_key())
    assert report.body["month"] == "2026-02" and report.body["settled"] is True
    assert "王小明" not in row.payload.decode()
