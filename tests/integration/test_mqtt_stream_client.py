"""The streaming paho client against a real mosquitto: every publish acknowledged, in order."""

from __future__ import annotations

import select
import socket
import threading
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge_agent.mqtt_client import SUPPORTED, StreamClient, client_class

TOPIC = "carewatch/v1/F1/daily"


def _subscriber(port: int, expected: int):  # type: ignore[no-untyped-def]
    """A QoS 1 subscriber collecting payloads in arrival order, in its own thread."""
    got: list[bytes] = []
    done, ready = threading.Event(), threading.Event()
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="stream-test-sub")
    sub.on_connect = lambda c, *_: c.subscribe(TOPIC, qos=1)
    sub.on_subscribe = lambda *_: ready.set()

    def on_message(_c, _u, message):  # type: ignore[no-untyped-def]
        got.append(message.payload)
        if len(got) == expected:
            done.set()

    sub.on_message = on_message
    sub.connect("127.0.0.1", port)
    sub.loop_start()
    assert ready.wait(10), "subscriber did not subscribe"
    return sub, got, done


def _drain(client: mqtt.Client, payloads: list[bytes], window: int, acks: list) -> None:  # type: ignore[type-arg]
    """Publish at QoS 1 through the external loop, at most ``window`` unacknowledged."""
    sent, deadline = 0, time.monotonic() + 30
    while len(acks) < len(payloads):
        assert time.monotonic() < deadline, f"only {len(acks)} of {len(payloads)} acknowledged"
        if client.is_connected():
            while sent < len(payloads) and sent - len(acks) < window:
                assert client.publish(TOPIC, payloads[sent], qos=1).rc == 0
                sent += 1
            client.loop_write()
        sock = client.socket()
        buffered = isinstance(client, StreamClient) and client.buffered()
        if not buffered:
            select.select([sock], [sock] if client.want_write() else [], [], 0.5)
        client.loop_read()
        if client.want_write():
            client.loop_write()


@pytest.mark.parametrize("protocol", [mqtt.MQTTv5, mqtt.MQTTv311], ids=["mqtt5", "mqtt311"])
def test_a_burst_is_acknowledged_and_delivered_in_order_through_small_writes(mosquitto, protocol):  # type: ignore[no-untyped-def]
    assert SUPPORTED and client_class() is StreamClient
    payloads = [f"report {i:05d} ".encode() + b"x" * 250 for i in range(3000)]
    sub, got, done = _subscriber(mosquitto.port, len(payloads))
    acks: list[tuple[int, int]] = []
    client = StreamClient(CallbackAPIVersion.VERSION2, client_id="stream-test", protocol=protocol)
    client.max_inflight_messages_set(0)
    client.on_publish = lambda _c, _u, mid, rc, _p: acks.append((mid, rc.value))
    # With a write callback paho queues packets and leaves writing to loop_write, which
    # is where the client joins them.
    client.on_socket_register_write = lambda *_: None
    try:
        client.connect("127.0.0.1", mosquitto.port)
        # A tiny send buffer forces partial writes of the joined packets.
        client.socket().setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        _drain(client, payloads, window=500, acks=acks)
        assert len(acks) == len(payloads)
        assert {code for _mid, code in acks} == {0}
        assert len({mid for mid, _code in acks}) == len(payloads)
        assert done.wait(15), f"subscriber got {len(got)} of {len(payloads)}"
        assert got == payloads
        assert not client.buffered()
    finally:
        client.disconnect()
        sub.loop_stop()
        sub.disconnect()


def test_a_puback_with_a_reason_code_still_reaches_the_callback(mosquitto):  # type: ignore[no-untyped-def]
    # Nobody subscribed: mosquitto answers MQTT 5 PUBACK 0x10 "no matching subscribers",
    # a three-byte PUBACK that takes paho's own path.
    acks: list[int] = []
    client = StreamClient(
        CallbackAPIVersion.VERSION2, client_id="stream-0x10", protocol=mqtt.MQTTv5
    )
    client.on_publish = lambda _c, _u, _mid, rc, _p: acks.append(rc.value)
    client.connect("127.0.0.1", mosquitto.port)
    try:
        _drain(client, [b"nobody listens"] * 3, window=3, acks=acks)
        assert acks == [0x10, 0x10, 0x10]
    finally:
        client.disconnect()
