"""The MQTT publisher against a real mosquitto: order, outages, restarts, crashes, refusals."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from carewatch.clock import FixedClock
from carewatch.db import make_engine, make_session_factory, transaction
from carewatch.reports import Kind, Report, ReportError, verify
from edge_agent.keys import load_or_create
from edge_agent.models import OutboxReport
from edge_agent.outbox import enqueue, pending_count
from edge_agent.publisher import Publisher
from tests.mqtt_broker import Mosquitto

FACILITY = "F310101-0001"
PREFIX = "carewatch/v1"
STATE_TOPIC = f"{PREFIX}/{FACILITY}/state"
ROOT = Path(__file__).resolve().parents[2]


# -- helpers ------------------------------------------------------------------------------


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll until true; fail the test (never hang) when the time is up."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


class Listener:
    """A hub-like subscriber: persistent session, QoS 1, every signature verified."""

    def __init__(self, port: int, key: Ed25519PrivateKey, client_id: str = "test-hub") -> None:
        self.port, self.public_key = port, key.public_key()
        self.reports: list[Report] = []  # in arrival order, states included
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv311,
            clean_session=False,
        )
        self.client.reconnect_delay_set(1, 1)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_a: self._subscribed.set()
        self.client.on_message = self._on_message

    def _on_connect(
        self, client: mqtt.Client, _userdata: object, flags: mqtt.ConnectFlags, *_args: object
    ) -> None:
        # Subscribing again would replay the retained messages as if they were new.
        if not flags.session_present:
            client.subscribe(f"{PREFIX}/{FACILITY}/#", qos=1)

    def _on_message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        try:
            report = verify(msg.payload, self.public_key)
        except ReportError as exc:
            with self._lock:
                self.errors.append(f"{msg.topic}: {exc.code}")
            return
        with self._lock:
            self.reports.append(report)

    def start(self) -> Listener:
        """Connect and wait for the subscription."""
        self.client.connect("127.0.0.1", self.port)
        self.client.loop_start()
        assert self._subscribed.wait(10), "subscriber did not subscribe"
        return self

    def stop(self) -> None:
        """Disconnect (the broker keeps the persistent session)."""
        self.client.disconnect()
        self.client.loop_stop()

    def seqs(self) -> list[int]:
        """Sequence numbers of the reports received, duplicates included, in arrival order."""
        with self._lock:
            return [r.seq for r in self.reports if r.kind is not Kind.STATE and r.seq]

    def states(self) -> list[Report]:
        """Birth and death messages received, in arrival order."""
        with self._lock:
            return [r for r in self.reports if r.kind is Kind.STATE]


def retained_state(port: int, key: Ed25519PrivateKey) -> Report:
    """What a newcomer sees on the state topic: the retained message, verified."""
    got: list[bytes] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-newcomer")
    client.on_connect = lambda c, *_a: c.subscribe(STATE_TOPIC, qos=1)
    client.on_message = lambda _c, _u, msg: got.append(msg.payload) if msg.retain else None
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        wait_until(lambda: bool(got), 10, "the retained state")
    finally:
        client.disconnect()
        client.loop_stop()
    return verify(got[0], key.public_key())


def queue(
    factory: sessionmaker[Session],
    key: Ed25519PrivateKey,
    clock: FixedClock,
    kinds: list[Kind],
) -> None:
    """Put one report of each kind into the outbox, in one transaction."""
    with transaction(factory) as session:
        for i, kind in enumerate(kinds):
            enqueue(
                session,
                key=key,
                facility=FACILITY,
                kind=kind,
                body={"n": i},
                now=clock.now(),
                prefix=PREFIX,
                limit=100_000,
            )


def backlog(factory: sessionmaker[Session]) -> int:
    """Rows still in the outbox."""
    with transaction(factory, write=False) as session:
        return pending_count(session)


def make_publisher(
    factory: sessionmaker[Session],
    key: Ed25519PrivateKey,
    port: int,
    clock: FixedClock,
    **options: object,
) -> Publisher:
    """A publisher for the test facility that retries fast."""
    return Publisher(
        factory,
        key=key,
        facility=FACILITY,
        prefix=PREFIX,
        host="127.0.0.1",
        port=port,
        clock=clock,
        reconnect_min=0.2,
        reconnect_max=1.0,
        **options,  # type: ignore[arg-type]
    )


@contextmanager
def running(publisher: Publisher) -> Iterator[Publisher]:
    """Start the publisher and always stop it."""
    publisher.start(threading.Event())
    try:
        yield publisher
    finally:
        publisher.stop()
        assert not publisher.alive()


@pytest.fixture()
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated SQLite file of this test's own."""
    target = tmp_path / "agent.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


def _factory(url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(url, durable=True)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture()
def factory(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    """Durable sessions on the test's SQLite file, as the agent makes them."""
    yield from _factory(sqlite_url)


@pytest.fixture()
def any_factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    """Durable sessions on each backend the run covers (SQLite, PostgreSQL)."""
    yield from _factory(db_url)


@pytest.fixture()
def key(tmp_path: Path) -> Ed25519PrivateKey:
    """The facility key, on disk so that a child process can load it too."""
    return load_or_create(tmp_path / "keys")


@pytest.fixture()
def broker_root(tmp_path: Path) -> Path:
    """A folder for a broker the test starts and stops itself."""
    root = tmp_path / "broker"
    root.mkdir()
    return root


# -- tests --------------------------------------------------------------------------------


def test_backlog_goes_out_in_sequence_order_after_the_birth_and_leaves_the_outbox(
    any_factory: sessionmaker[Session],
    key: Ed25519PrivateKey,
    clock: FixedClock,
    mosquitto: Mosquitto,
) -> None:
    factory = any_factory
    queue(
        factory, key, clock, [(Kind.DAILY, Kind.ALERTS, Kind.COMPLIANCE)[i % 3] for i in range(300)]
    )
    listener = Listener(mosquitto.port, key).start()
    try:
        with running(make_publisher(factory, key, mosquitto.port, clock)) as publisher:
            wait_until(lambda: len(listener.seqs()) >= 300, 30, "300 reports")
            wait_until(lambda: backlog(factory) == 0, 10, "an empty outbox")
            stats = publisher.stats()
    finally:
        listener.stop()
    assert listener.errors == []
    # Exactly once here (no reconnect), in the order the reports were made.
    assert listener.seqs() == list(range(1, 301))
    first = listener.reports[0]
    assert first.kind is Kind.STATE and first.bdseq == 1
    assert first.body == {"status": "online", "agent_version": "0.1.0", "backlog": 300}
    assert [r.kind for r in listener.reports[1:4]] == [Kind.DAILY, Kind.ALERTS, Kind.COMPLIANCE]
    assert (stats["sent"], stats["acked"], stats["rejected"], stats["backlog"]) == (300, 300, 0, 0)


def test_a_broker_that_is_down_at_start_gets_the_backlog_when_it_comes_up(
    factory: sessionmaker[Session],
    key: Ed25519PrivateKey,
    clock: FixedClock,
    broker_root: Path,
) -> None:
    broker = Mosquitto(broker_root).start()
    try:
        # The hub's session exists before the outage, as it would in production.
        listener = Listener(broker.port, key).start()
        broker.stop()
        with running(make_publisher(factory, key, broker.port, clock)) as publisher:
            queue(factory, key, clock, [Kind.DAILY] * 40)
            publisher.notify()
            time.sleep(1.0)  # several connection attempts fail meanwhile
            assert not publisher.connected
            assert backlog(factory) == 40
            broker.start()
            wait_until(lambda: len(set(listener.seqs())) == 40, 30, "40 reports")
            wait_until(lambda: backlog(factory) == 0, 10, "an empty outbox")
            assert publisher.connected
            with transaction(factory, write=False) as session:
                from edge_agent.models import ReportCounter

                last_bdseq = session.get(ReportCounter, (FACILITY, "bdseq")).value
        listener.stop()
    finally:
        broker.close()
    assert listener.errors == []
    assert listener.seqs() == list(range(1, 41))
    births = [s for s in listener.states() if s.body["status"] == "online"]
    # One bdseq per attempt; the birth is the session that got through, with the backlog
    # as it stood when it connected.
    assert len(births) == 1 and births[0].bdseq == last_bdseq > 1
    assert births[0].body["backlog"] == 40


def test_a_broker_restart_mid_stream_loses_no_report(
    factory: sessionmaker[Session],
    key: Ed25519PrivateKey,
    clock: FixedClock,
    mosquitto: Mosquitto,
) -> None:
    listener = Listener(mosquitto.port, key).start()
    try:
        with running(make_publisher(factory, key, mosquitto.port, clock)) as publisher:
            wait_until(lambda: publisher.connected, 10, "the first connection")
            for batch in range(15):
                queue(factory, key, clock, [Kind.DAILY] * 100)
                publisher.notify()
                if batch == 7:
                    mosquitto.restart()
            wait_until(lambda: len(set(listener.seqs())) == 1500, 60, "1500 distinct reports")
            wait_until(lambda: backlog(factory) == 0, 10, "an empty outbox")
            stats = publisher.stats()
    finally:
        listener.stop()
    assert listener.errors == []
    assert set(listener.seqs()) == set(range(1, 1501))
    births = [s.bdseq for s in listener.states() if s.body["status"] == "online"]
    assert len(births) >= 2 and births == sorted(births)
    assert stats["sessions"] >= 2 and stats["rejected"] == 0


CHILD = """
import sys, threading, time
from carewatch.db import make_engine, make_session_factory
from edge_agent.keys import load_or_create
from edge_agent.publisher import Publisher
from pathlib import Path

url, keys, port, facility, prefix = sys.argv[1:6]
publisher = Publisher(
    make_session_factory(make_engine(url, durable=True)),
    key=load_or_create(Path(keys)), facility=facility, prefix=prefix,
    host="127.0.0.1", port=int(port), window=20,
)
publisher.start(threading.Event())
print("started", flush=True)
while True:
    time.sleep(1)
"""


def test_an_agent_killed_mid_drain_leaves_its_will_and_loses_nothing_on_restart(
    sqlite_url: str,
    factory: sessionmaker[Session],
    key: Ed25519PrivateKey,
    clock: FixedClock,
    mosquitto: Mosquitto,
    tmp_path: Path,
) -> None:
    total = 3000
    queue(factory, key, clock, [Kind.DAILY] * total)
    listener = Listener(mosquitto.port, key).start()
    args = [sqlite_url, str(tmp_path / "keys"), str(mosquitto.port), FACILITY, PREFIX]
    child = subprocess.Popen([sys.executable, "-c", CHILD, *args], cwd=ROOT, stdout=subprocess.PIPE)
    try:
        wait_until(lambda: backlog(factory) < total, 30, "the child to delete a first batch")
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        left = backlog(factory)
        assert 0 < left < total, "the kill should land in the middle of the drain"
        births = [s for s in listener.states() if s.body["status"] == "online"]
        assert len(births) == 1
        session = births[0].bdseq
        # The broker notices the dead connection and publishes the Will of that session.
        wait_until(
            lambda: any(s.body["status"] == "offline" for s in listener.states()),
            15,
            "the Last Will",
        )
        will = [s for s in listener.states() if s.body["status"] == "offline"]
        assert [w.bdseq for w in will] == [session]
        retained = retained_state(mosquitto.port, key)
        assert (retained.body["status"], retained.bdseq) == ("offline", session)

        # A new agent process (here in-process) picks up where the dead one stopped.
        with running(make_publisher(factory, key, mosquitto.port, clock)) as publisher:
            wait_until(lambda: backlog(factory) == 0, 30, "an empty outbox")
            wait_until(lambda: set(listener.seqs()) >= set(range(1, total + 1)), 30, "all")
            assert publisher.bdseq == session + 1
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        listener.stop()
    assert listener.errors == []
    assert set(listener.seqs()) == set(range(1, total + 1))
    births = [s for s in listener.states() if s.body["status"] == "online"]
    assert births[-1].bdseq == session + 1 and births[-1].body["backlog"] == left


def test_a_clean_stop_says_offline_for_the_same_session_over_mqtt_3_1_1(
    factory: sessionmaker[Session],
    key: Ed25519PrivateKey,
    clock: FixedClock,
    mosquitto: Mosquitto,
) -> None:
    listener = Listener(mosquitto.port, key).start()
    try:
        publisher = make_publisher(factory, key, mosquitto.port, clock, protocol="3.1.1")
        with running(publisher):
            wait_until(lambda: len(listener.states()) == 1, 10, "the birth")
            queue(factory, key, clock, [Kind.ALERTS])
            publisher.notify()
            wait_until(lambda: listener.seqs() == [1], 10, "the report")
            clock.advance(timedelta(minutes=5))
        assert not publisher.connected
        wait_until(lambda: len(listener.states()) == 2, 10, "the goodbye")
    finally:
        listener.stop()
    birth, goodbye = listener.states()
    assert birth.body["status"] == "online" and goodbye.body["status"] == "offline"
    assert goodbye.bdseq == birth.bdseq
    # Signed at stop time: the goodbye, not the Will (fixed at connect time, at T0).
    assert goodbye.made_at == birth.made_at + timedelta(minutes=5)
    retained = retained_state(mosquitto.port, key)
    assert (retained.body["status"], retained.bdseq, retained.made_at) == (
        "offline",
        birth.bdseq,
        goodbye.made_at,
    )
    assert backlog(factory) == 0


def test_a_publish_the_broker_refuses_keeps_its_row_in_the_outbox(
    factory: sessionmaker[Session],
    key: Ed25519PrivateKey,
    clock: FixedClock,
    broker_root: Path,
) -> None:
    acl = broker_root / "acl"
    # Anonymous clients (rules before any "user" line) may not publish alerts.
    acl.write_text(
        f"topic readwrite {PREFIX}/{FACILITY}/state\n"
        f"topic readwrite {PREFIX}/{FACILITY}/daily\n"
        f"topic read {PREFIX}/#\n"
    )
    broker = Mosquitto(broker_root, extra_conf=f"acl_file {acl}\n").start()
    try:
        listener = Listener(broker.port, key).start()
        queue(factory, key, clock, [Kind.DAILY, Kind.ALERTS, Kind.DAILY])
        # MQTT 5 PUBACK 0x87. mosquitto 2.0.11 also drops the connection after it, so report
        # 3 arrives through the reconnect, with report 2 held back instead of blocking it.
        publisher = make_publisher(factory, key, broker.port, clock, protocol="5")
        with running(publisher):
            wait_until(lambda: set(listener.seqs()) == {1, 3}, 10, "the allowed reports")
            wait_until(lambda: publisher.stats()["rejected"] == 1, 10, "the refusal")
            wait_until(lambda: backlog(factory) == 1, 10, "the allowed rows deleted")
        listener.stop()
    finally:
        broker.close()
    with transaction(factory, write=False) as session:
        assert session.scalars(select(OutboxReport.seq)).all() == [2]
    assert 2 not in listener.seqs()
