"""The agent's database locked or full: reports wait, nothing is half-written or lost."""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from carewatch.clock import SystemClock
from carewatch.db import make_engine, make_session_factory
from carewatch.migrate import upgrade
from edge_agent.jobs import produce_synthetic
from edge_agent.models import OutboxReport, ReportCounter
from edge_agent.publisher import Publisher
from edge_agent.reporter import Reporter
from tests.mqtt_broker import Mosquitto

FACILITY = "F-DISK-1"


@pytest.fixture()
def db_file(tmp_path: Path) -> Path:
    path = tmp_path / "agent.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture()
def factory(db_file: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{db_file}", durable=True)
    yield make_session_factory(engine)
    engine.dispose()


def _reporter(key: Ed25519PrivateKey, **kw: object) -> Reporter:
    return Reporter(key=key, facility=FACILITY, prefix="carewatch/v1", limit=100_000, **kw)  # type: ignore[arg-type]


def _made(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        counter = session.get(ReportCounter, (FACILITY, "seq"))
        return counter.value if counter else 0


def _waiting(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(OutboxReport)) or 0


def test_a_full_database_refuses_the_whole_batch_and_numbering_continues(
    db_file: Path, factory: sessionmaker[Session]
) -> None:
    key = Ed25519PrivateKey.generate()
    clock = SystemClock()
    assert produce_synthetic(factory, clock, _reporter(key), total=100, batch=50) == 50
    pages = os.path.getsize(db_file) // 4096
    # SQLite's own "database or disk is full" (SQLITE_FULL): no room for another page.
    full = make_engine(f"sqlite:///{db_file}", durable=True)

    @event.listens_for(full, "connect")
    def _cap(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    with pytest.raises(OperationalError, match="full"):
        produce_synthetic(make_session_factory(full), clock, _reporter(key), total=5000, batch=2000)
    full.dispose()
    # Nothing of the refused batch was kept: not a report, not a number.
    assert (_made(factory), _waiting(factory)) == (50, 50)
    # With room again the job carries on where it stood: 51, 52, … with no gap.
    assert produce_synthetic(factory, clock, _reporter(key), total=100, batch=50) == 100
    with factory() as session:
        seqs = session.scalars(select(OutboxReport.seq).order_by(OutboxReport.id)).all()
    assert seqs == list(range(1, 101))


def test_reports_wait_while_the_database_is_locked_and_all_arrive_in_order(
    db_file: Path, factory: sessionmaker[Session], mosquitto: Mosquitto
) -> None:
    key = Ed25519PrivateKey.generate()
    clock = SystemClock()
    got: list[int] = []
    subscribed = threading.Event()

    def on_connect(client, _u, _f, rc, _p) -> None:  # type: ignore[no-untyped-def]
        client.subscribe("carewatch/v1/+/daily", qos=1)

    def on_subscribe(*_args) -> None:  # type: ignore[no-untyped-def]
        subscribed.set()

    def on_message(_c, _u, message) -> None:  # type: ignore[no-untyped-def]
        got.append(json.loads(message.payload)["seq"])

    listener = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="listener")
    listener.on_connect, listener.on_subscribe = on_connect, on_subscribe
    listener.on_message = on_message
    listener.connect("127.0.0.1", mosquitto.port)
    listener.loop_start()
    assert subscribed.wait(10)
    publisher = Publisher(
        factory, key=key, facility=FACILITY, prefix="carewatch/v1", host="127.0.0.1",
        port=mosquitto.port, clock=clock,
    )  # fmt: skip
    reporter = _reporter(key, online=lambda: publisher.connected, wake=publisher.notify)
    stop = threading.Event()
    publisher.start(stop)
    lock_fd = os.open(f"{db_file}.writelock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        produce_synthetic(factory, clock, reporter, total=400, batch=100)
        # Another writer holds the database: the job waits instead of failing or dropping.
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        job = threading.Thread(
            target=lambda: produce_synthetic(factory, clock, reporter, total=400, batch=300)
        )
        job.start()
        time.sleep(1.5)
        assert job.is_alive() and _made(factory) == 100
        fcntl.flock(lock_fd, fcntl.LOCK_UN)
        job.join(20)
        assert not job.is_alive() and _made(factory) == 400
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (_waiting(factory) or len(got) < 400):
            time.sleep(0.1)
    finally:
        os.close(lock_fd)
        publisher.stop()
        listener.loop_stop()
        listener.disconnect()
    assert sorted(set(got)) == list(range(1, 401))
    assert got[:100] == list(range(1, 101))
    assert _waiting(factory) == 0
