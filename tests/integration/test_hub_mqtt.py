"""The hub against a real mosquitto: storing, de-duplicating, gaps, births and Wills,
two workers on the shared subscription, and a hub killed while reports are published."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from carewatch.clock import FixedClock
from carewatch.db import transaction
from carewatch.reports import MAX_PAYLOAD_BYTES, Kind
from supervision_hub.models import HubFacility, HubGap
from supervision_hub.worker import HubWorker
from tests.integration.test_hub_support import *  # noqa: F403 - the hub fixtures
from tests.integration.test_hub_support import (
    NOW,
    Site,
    stored_count,
    wait_for,
)
from tests.mqtt_broker import Mosquitto

A = Site("F310101-0001")
B = Site("F310101-0002")


class Publisher:
    """A plain MQTT 5 client publishing at QoS 1, standing in for facilities' agents."""

    def __init__(self, port: int, client_id: str = "test-publisher", will: tuple | None = None):
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        if will is not None:
            topic, payload = will
            self.client.will_set(topic, payload, qos=1, retain=True)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def send(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """Publish and wait for the broker's acknowledgement."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(timeout=10)
        assert info.is_published()

    def close(self) -> None:
        """A clean disconnect (no Will)."""
        self.client.disconnect()
        self.client.loop_stop()

    def die(self) -> None:
        """Drop the connection without DISCONNECT, as a crashed agent would: the Will fires."""
        self.client.loop_stop()
        sock = self.client.socket()
        if sock is not None:
            sock.close()


@pytest.fixture
def worker(hub_factory: sessionmaker[Session], mosquitto: Mosquitto) -> Iterator[HubWorker]:
    """One hub worker on the shared subscription, A and B registered."""
    A.register(hub_factory, name="阳光托育")
    B.register(hub_factory)
    w = HubWorker(hub_factory, FixedClock(NOW), port=mosquitto.port, client_id="hub-test")
    w.start(threading.Event())
    assert w.subscribed.wait(10)
    yield w
    w.stop()


def _facility(factory: sessionmaker[Session], code: str) -> HubFacility:
    with transaction(factory, write=False) as session:
        row = session.get(HubFacility, code)
        assert row is not None
        return row


def _open_gaps(factory: sessionmaker[Session]) -> list[tuple[str, int, int, int]]:
    with transaction(factory, write=False) as session:
        gaps = session.scalars(select(HubGap).where(HubGap.closed_at.is_(None)))
        return [(g.facility, g.first_seq, g.last_seq, g.missing) for g in gaps]


def test_reports_are_stored_once_gaps_close_and_refusals_are_counted(
    worker: HubWorker,
    hub_factory: sessionmaker[Session],
    mosquitto: Mosquitto,
) -> None:
    pub = Publisher(mosquitto.port)
    try:
        for seq in (1, 2):
            pub.send(A.topic("daily"), A.report(seq))
        pub.send(A.topic("daily"), A.report(2))  # the agent re-sent after a reconnect
        pub.send(
            A.topic("compliance"), A.report(5, Kind.COMPLIANCE, {"overall": "fail"}), retain=True
        )
        pub.send(A.topic("daily"), B.report(1))  # B publishing under A's prefix
        pub.send(B.topic("daily"), b"not json")
        pub.send(B.topic("daily"), b"{" * (MAX_PAYLOAD_BYTES + 1))
        wait_for(lambda: _open_gaps(hub_factory) == [(A.code, 3, 4, 2)], what="the gap 3-4")
        for seq in (4, 3):
            pub.send(A.topic("daily"), A.report(seq, historical=True))
        wait_for(lambda: stored_count(hub_factory, A.code) == 5, what="five reports of A")
        wait_for(lambda: worker.stats().get("rejected") == 3, what="three rejections")
    finally:
        pub.close()
    assert _open_gaps(hub_factory) == []
    row = _facility(hub_factory, A.code)
    assert (row.reports, row.duplicates, row.highest_seq, row.compliance_overall) == (
        5,
        1,
        5,
        "fail",
    )
    stats = worker.stats()
    assert (
        stats["stored"],
        stats["duplicate"],
        stats["facility_mismatch"],
        stats["malformed"],
        stats["oversized"],
    ) == (5, 1, 1, 1, 1)
    assert stored_count(hub_factory, B.code) == 0


def test_births_and_wills_tell_who_is_online(
    worker: HubWorker,
    hub_factory: sessionmaker[Session],
    mosquitto: Mosquitto,
) -> None:
    agent = Publisher(mosquitto.port, "agent-a", will=(A.topic("state"), A.state("offline", 1)))
    agent.send(A.topic("state"), A.state("online", 1), retain=True)
    wait_for(lambda: _facility(hub_factory, A.code).online, what="A online")
    assert _facility(hub_factory, A.code).status_since == NOW
    agent.die()
    wait_for(lambda: not _facility(hub_factory, A.code).online, timeout=20, what="A's Will")
    row = _facility(hub_factory, A.code)
    assert (row.last_bdseq, row.status_since) == (1, NOW)
    # The next session's birth; then the late Will of session 1 must not undo it.
    again = Publisher(mosquitto.port, "agent-a2", will=(A.topic("state"), A.state("offline", 2)))
    try:
        again.send(A.topic("state"), A.state("online", 2), retain=True)
        wait_for(lambda: _facility(hub_factory, A.code).online, what="A online again")
        again.send(A.topic("state"), A.state("offline", 1))
        wait_for(lambda: worker.stats().get("stale_state") == 1, what="the stale Will")
        assert _facility(hub_factory, A.code).online is True
        assert _facility(hub_factory, B.code).last_bdseq is None  # never heard of
    finally:
        again.close()


def test_two_workers_share_the_stream_without_loss_or_double_storage(
    hub_factory: sessionmaker[Session],
    mosquitto: Mosquitto,
) -> None:
    sites = [Site(f"F{i:03d}") for i in range(6)]
    for site in sites:
        site.register(hub_factory)
    workers = [
        HubWorker(
            hub_factory, FixedClock(NOW), port=mosquitto.port, client_id=f"hub-{n}", batch_size=20
        )
        for n in "ab"
    ]
    for w in workers:
        w.start(threading.Event())
        assert w.subscribed.wait(10)
    per_site = 60
    try:
        pub = Publisher(mosquitto.port)
        infos = [
            pub.client.publish(site.topic("daily"), site.report(seq), qos=1)
            for seq in range(1, per_site + 1)
            for site in sites
        ]
        for info in infos:
            info.wait_for_publish(timeout=10)
        pub.close()
        total = per_site * len(sites)
        wait_for(lambda: stored_count(hub_factory) == total, timeout=60, what="every report")
        wait_for(lambda: _open_gaps(hub_factory) == [], what="transient gaps closed")
    finally:
        for w in workers:
            w.stop()
    stored = [w.stats().get("stored", 0) for w in workers]
    assert sum(stored) == total and min(stored) > 0, stored
    assert sum(w.stats().get("duplicate", 0) for w in workers) == 0
    for site in sites:
        assert _facility(hub_factory, site.code).highest_seq == per_site


def test_the_plain_subscription_works_with_mqtt_3_1_1(
    hub_factory: sessionmaker[Session],
    mosquitto: Mosquitto,
) -> None:
    A.register(hub_factory)
    w = HubWorker(
        hub_factory,
        FixedClock(NOW),
        port=mosquitto.port,
        client_id="hub-311",
        protocol="3.1.1",
        shared=False,
    )
    w.start(threading.Event())
    try:
        assert w.subscribed.wait(10)
        pub = Publisher(mosquitto.port)
        for seq in range(1, 4):
            pub.send(A.topic("daily"), A.report(seq))
        pub.close()
        wait_for(lambda: stored_count(hub_factory) == 3, what="three reports")
    finally:
        w.stop()


def _hub(hub_url: str, mosquitto: Mosquitto, tmp_path: Path, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "CAREWATCH_HUB_DATABASE_URL": hub_url,
        "CAREWATCH_MQTT_PORT": str(mosquitto.port),
        "CAREWATCH_DATA_DIR": str(tmp_path / "var"),
    }
    args = [
        sys.executable,
        "-m",
        "carewatch.cli",
        "hub",
        "run",
        "--no-web",
        "--client-id",
        "hub-restart",
        "--batch-size",
        "50",
    ]
    with log.open("ab") as out:
        return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)


def test_a_hub_killed_while_reports_are_published_loses_nothing(
    hub_url: str,
    hub_factory: sessionmaker[Session],
    mosquitto: Mosquitto,
    tmp_path: Path,
) -> None:
    A.register(hub_factory)
    log = tmp_path / "hub.log"
    hub = _hub(hub_url, mosquitto, tmp_path, log)
    total = 600
    try:
        pub = Publisher(mosquitto.port)

        def hub_listens() -> bool:
            # Before its first subscription nobody keeps messages for the hub: knock until a
            # birth gets through; from then on its persistent session exists.
            pub.send(A.topic("state"), A.state("online", 1))
            time.sleep(0.2)
            return _facility(hub_factory, A.code).online

        wait_for(hub_listens, what=f"the hub ({log})")
        sent = threading.Event()

        def publish() -> None:
            for seq in range(1, total + 1):
                pub.send(A.topic("daily"), A.report(seq))
                time.sleep(0.004)
            sent.set()

        thread = threading.Thread(target=publish)
        thread.start()
        wait_for(lambda: stored_count(hub_factory) >= 100, what="the first reports")
        hub.send_signal(signal.SIGKILL)
        hub.wait(10)
        at_kill = stored_count(hub_factory)
        time.sleep(0.5)
        hub = _hub(hub_url, mosquitto, tmp_path, log)
        thread.join(30)
        assert sent.is_set()
        pub.close()
        assert at_kill < total, "the hub was killed too late to test anything"
        wait_for(lambda: stored_count(hub_factory) == total, timeout=60, what="every report")
        assert _open_gaps(hub_factory) == []
        hub.send_signal(signal.SIGTERM)
        assert hub.wait(30) == 0
    finally:
        if hub.poll() is None:
            hub.kill()
            hub.wait()
    assert _facility(hub_factory, A.code).highest_seq == total


def test_the_worker_reconnects_and_resubscribes_after_a_broker_restart(
    worker: HubWorker, hub_factory: sessionmaker[Session], mosquitto: Mosquitto
) -> None:
    pub = Publisher(mosquitto.port)
    for seq in range(1, 21):
        pub.send(A.topic("daily"), A.report(seq))
    pub.close()
    wait_for(lambda: stored_count(hub_factory) == 20, what="the first twenty")
    mosquitto.restart()
    wait_for(worker.subscribed.is_set, timeout=30, what="the worker back on the broker")
    pub = Publisher(mosquitto.port, "test-publisher-2")
    try:
        for seq in range(21, 41):
            pub.send(A.topic("daily"), A.report(seq))
    finally:
        pub.close()
    wait_for(lambda: stored_count(hub_factory) == 40, what="all forty")
    assert _open_gaps(hub_factory) == []
    assert worker.alive()
