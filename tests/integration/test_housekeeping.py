"""Children still checked in after closing are flagged without anyone running a command."""

from __future__ import annotations

import threading
from datetime import date, timedelta

from sqlalchemy import select

from carewatch.db import make_engine, make_session_factory
from carewatch.policy import ClassType
from facility_app.accounts.permissions import SYSTEM
from facility_app.alerts.models import Alert, AlertKind
from facility_app.attendance import service as attendance
from facility_app.attendance.models import AttendanceRecord
from facility_app.housekeeping import DayCloser, close_past_days


def _one_child_checked_in(build, session, clock):  # type: ignore[no-untyped-def]
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER)
    kid = build.child(fac, room, birth_date=date(2025, 1, 5))
    attendance.check_in(
        session, SYSTEM, fac, kid, now=clock.now(), dropped_off_by_id=kid.guardians[0].id
    )
    session.commit()


def test_close_past_days_flags_only_after_closing(build, session, clock, db_url):
    _one_child_checked_in(build, session, clock)
    factory = make_session_factory(make_engine(db_url))
    assert close_past_days(factory, clock) == 0  # 09:00
    clock.advance(timedelta(hours=8, minutes=31))  # 17:31, closing 17:30
    assert close_past_days(factory, clock) == 1
    clock.advance(timedelta(hours=12))  # next morning: nothing new, nothing twice
    assert close_past_days(factory, clock) == 0
    session.expire_all()
    assert session.scalar(select(AttendanceRecord.missing_checkout)) is True
    kinds = session.scalars(select(Alert.kind)).all()
    assert kinds.count(AlertKind.MISSING_CHECKOUT) == 1


def test_day_closer_worker_runs_and_stops(build, session, clock, db_url):
    _one_child_checked_in(build, session, clock)
    clock.advance(timedelta(hours=10))
    worker = DayCloser(make_session_factory(make_engine(db_url)), clock, interval=0.05)
    stop = threading.Event()
    worker.start(stop)
    try:
        for _ in range(100):
            session.rollback()  # a fresh snapshot each time (SQLite readers keep theirs)
            if session.scalar(select(AttendanceRecord.missing_checkout)):
                break
            stop.wait(0.05)
        assert worker.alive()
    finally:
        stop.set()
        worker.stop()
    assert not worker.alive()
    session.rollback()
    assert session.scalar(select(AttendanceRecord.missing_checkout)) is True
