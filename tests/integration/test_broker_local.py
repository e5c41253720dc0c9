"""The local broker of ``carewatch up``: mosquitto when installed, else embedded amqtt."""

from __future__ import annotations

import os
import signal
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from carewatch.broker import LocalBroker, find_mosquitto, listening
from carewatch.stack import ComponentError
from tests.mqtt_broker import free_port

needs_mosquitto = pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto not installed")
BACKENDS = [
    pytest.param(False, id="mosquitto", marks=needs_mosquitto),
    pytest.param(True, id="amqtt"),
]
PROTOCOLS = {"5": mqtt.MQTTv5, "3.1.1": mqtt.MQTTv311}


@pytest.fixture(autouse=True)
def _time_limit() -> Iterator[None]:
    """Fail a test that runs longer than 60 s instead of hanging the run."""

    def _expired(_signum: int, _frame: Any) -> None:
        raise TimeoutError("test exceeded its 60 s limit")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.alarm(60)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture()
def started() -> Iterator[list[LocalBroker]]:
    """Brokers a test starts; any still running at the end are stopped."""
    brokers: list[LocalBroker] = []
    yield brokers
    for broker in brokers:
        broker.stop()


def start(brokers: list[LocalBroker], data_dir: Path, port: int, embedded: bool) -> LocalBroker:
    """Start a LocalBroker and remember it for clean-up."""
    broker = LocalBroker(data_dir, port, embedded=embedded)
    brokers.append(broker)
    broker.start(threading.Event())
    return broker


class Client:
    """A paho client that connects at once and collects what it receives."""

    def __init__(self, broker: LocalBroker, name: str) -> None:
        self.messages: list[mqtt.MQTTMessage] = []
        self.changed = threading.Condition()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=name, protocol=PROTOCOLS[broker.protocol]
        )
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", broker.port, keepalive=30)
        self.client.loop_start()

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self.changed:
            self.messages.append(msg)
            self.changed.notify_all()

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """Publish at QoS 1 and wait for the broker's acknowledgement."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(timeout=10)
        assert info.is_published()

    def subscribe(self, topic: str) -> None:
        """Subscribe at QoS 1 (the SUBACK is not awaited: messages are what tests wait for)."""
        result, _mid = self.client.subscribe(topic, qos=1)
        assert result == mqtt.MQTT_ERR_SUCCESS

    def wait_for(self, count: int, timeout: float = 10.0) -> list[mqtt.MQTTMessage]:
        """Wait until ``count`` messages have arrived and return them."""
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.messages) >= count, timeout), (
                f"got {len(self.messages)} of {count} messages"
            )
            return list(self.messages)

    def close(self) -> None:
        """Disconnect cleanly."""
        self.client.disconnect()
        self.client.loop_stop()


def utf8(text: str) -> bytes:
    """An MQTT length-prefixed UTF-8 string."""
    raw = text.encode()
    return struct.pack("!H", len(raw)) + raw


def connect_with_will(port: int, client_id: str, topic: str, message: bytes) -> socket.socket:
    """A raw MQTT 3.1.1 connection with a retained QoS 1 Last Will, after its CONNACK."""
    flags = 0x02 | 0x04 | 0x08 | 0x20  # clean session, will, will QoS 1, will retain
    body = utf8("MQTT") + bytes([4, flags]) + struct.pack("!H", 30)
    body += utf8(client_id) + utf8(topic) + struct.pack("!H", len(message)) + message
    assert len(body) < 128  # one-byte remaining length
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(bytes([0x10, len(body)]) + body)
    assert sock.recv(4) == b"\x20\x02\x00\x00"  # CONNACK, accepted
    return sock


@needs_mosquitto
def test_mosquitto_retained_round_trip_and_clean_stop(
    tmp_path: Path, started: list[LocalBroker]
) -> None:
    port = free_port()
    broker = start(started, tmp_path, port, embedded=False)
    assert (broker.protocol, broker.shared_subscriptions) == ("5", True)
    assert (tmp_path / "mqtt" / "mosquitto.conf").exists()
    publisher = Client(broker, "agent")
    publisher.publish("carewatch/v1/demo/state", b"online", retain=True)
    publisher.close()
    reader = Client(broker, "reader")
    reader.subscribe("carewatch/v1/+/state")
    (msg,) = reader.wait_for(1)
    assert (msg.topic, msg.payload, msg.retain, msg.qos) == (
        "carewatch/v1/demo/state",
        b"online",
        True,
        1,
    )
    reader.close()
    pid = broker.proc.pid if broker.proc else 0

    broker.stop()
    assert not broker.alive()
    assert not listening("127.0.0.1", port)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # exited and reaped: no process left behind

    # The retained state was saved in data_dir/mqtt and is there after a restart.
    broker = start(started, tmp_path, port, embedded=False)
    again = Client(broker, "reader-2")
    again.subscribe("carewatch/v1/demo/state")
    assert again.wait_for(1)[0].payload == b"online"
    again.close()


def test_amqtt_retained_round_trip_at_mqtt_311(tmp_path: Path, started: list[LocalBroker]) -> None:
    port = free_port()
    broker = start(started, tmp_path, port, embedded=True)
    assert (broker.protocol, broker.shared_subscriptions) == ("3.1.1", False)
    publisher = Client(broker, "agent")
    publisher.publish("carewatch/v1/demo/compliance", b"snapshot-1", retain=True)
    publisher.close()
    reader = Client(broker, "reader")
    reader.subscribe("carewatch/v1/#")
    (msg,) = reader.wait_for(1)
    assert (msg.topic, msg.payload, msg.retain) == (
        "carewatch/v1/demo/compliance",
        b"snapshot-1",
        True,
    )
    reader.close()
    pid = broker.proc.pid if broker.proc else 0

    broker.stop()
    assert not broker.alive()
    assert not listening("127.0.0.1", port)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest.mark.parametrize("embedded", BACKENDS)
def test_last_will_is_delivered_when_the_socket_drops(
    tmp_path: Path, started: list[LocalBroker], embedded: bool
) -> None:
    broker = start(started, tmp_path, free_port(), embedded=embedded)
    watcher = Client(broker, "hub")
    watcher.subscribe("carewatch/v1/demo/state")
    agent = connect_with_will(broker.port, "agent", "carewatch/v1/demo/state", b"offline")
    # A message through the broker proves the subscription is active before the drop.
    probe = Client(broker, "probe")
    probe.publish("carewatch/v1/demo/state", b"online")
    watcher.wait_for(1)
    agent.close()  # no DISCONNECT: the broker must publish the will
    messages = watcher.wait_for(2)
    assert [(m.topic, m.payload) for m in messages] == [
        ("carewatch/v1/demo/state", b"online"),
        ("carewatch/v1/demo/state", b"offline"),
    ]
    probe.close()
    watcher.close()


@pytest.mark.parametrize("embedded", BACKENDS)
def test_busy_port_fails_with_a_clear_message(tmp_path: Path, embedded: bool) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        broker = LocalBroker(tmp_path, port, embedded=embedded)
        with pytest.raises(ComponentError, match=f"already listens on 127.0.0.1:{port}"):
            broker.start(threading.Event())
        assert broker.proc is None  # nothing was started
