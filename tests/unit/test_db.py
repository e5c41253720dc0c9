"""Kernel database helpers: UTC timestamps and SQLite's queue of writers."""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from carewatch.db import UTCDateTime, make_engine, make_session_factory, transaction


def test_utc_datetime_stores_utc_and_refuses_naive_times():
    column = UTCDateTime()
    beijing = timezone(timedelta(hours=8))
    stored = column.process_bind_param(datetime(2026, 3, 10, 9, 0, tzinfo=beijing), None)
    assert stored == datetime(2026, 3, 10, 1, 0)
    assert column.process_result_value(stored, None) == datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        column.process_bind_param(datetime(2026, 3, 10, 9, 0), None)


def _lock_is_free(path: str) -> bool:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_sqlite_writers_hold_the_file_lock_for_their_transaction_only(tmp_path):
    db = tmp_path / "w.db"
    engine = make_engine(f"sqlite:///{db}")
    factory = make_session_factory(engine)
    lock = f"{db}.writelock"
    with transaction(factory) as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
        assert not _lock_is_free(lock)
    assert _lock_is_free(lock)
    with pytest.raises(RuntimeError), transaction(factory) as session:
        session.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("rolled back")
    assert _lock_is_free(lock)
    with transaction(factory, write=False) as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 0
        assert _lock_is_free(lock)  # readers never queue
    engine.dispose()
