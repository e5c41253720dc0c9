"""paho's MQTT client with a cheaper path for a steady stream of QoS 1 publishes.

Draining a backlog is one PUBLISH and one PUBACK per report, and in paho most of the cost
per report is not the network: each PUBACK is read with three ``recv`` calls (command byte,
length byte, body) and decoded into fresh reason-code and property objects, and each queued
packet is written with its own ``send``. Every one of those system calls also gives up the
interpreter lock to the agent's other threads. :class:`StreamClient` keeps paho's protocol
handling and changes only the plumbing under it:

- reads go through a buffer filled by one large ``recv``;
- a PUBACK that says plain "success" (two bytes: the packet id) is handed to paho's own
  completion with shared, immutable reason-code and property objects;
- packets queued together are written with one ``send``.

Anything else (other packets, PUBACKs with a reason code or properties, QoS 0 publishes and
DISCONNECT, which paho acts on once written) goes through paho unchanged. The overrides use
paho internals; :data:`SUPPORTED` checks they exist and the publisher falls back to the
plain client otherwise.
"""

from __future__ import annotations

import logging
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

log = logging.getLogger(__name__)

# One read takes whatever the kernel holds, up to this; PUBACKs are 4 bytes each.
RECV_CHUNK = 64 * 1024
# Bytes joined into one write; larger backlogs go out in several.
SEND_CHUNK = 256 * 1024

_PAHO_PARTS = (
    "_sock_recv",
    "_sock_send",
    "_packet_write",
    "_handle_pubackcomp",
    "_do_on_publish",
)
#: Whether the installed paho has the internals the overrides rely on.
SUPPORTED = all(hasattr(mqtt.Client, name) for name in _PAHO_PARTS)

# Callbacks only read these, so one instance serves every acknowledgement.
_SUCCESS = ReasonCode(PacketTypes.PUBACK, "Success")
_NO_PROPERTIES = Properties(PacketTypes.PUBACK)


class StreamClient(mqtt.Client):
    """A paho client with buffered reads, a lean success PUBACK and coalesced writes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_buffer = bytearray()

    def buffered(self) -> bool:
        """Whether bytes read from the socket wait to be handled (select cannot see them)."""
        return bool(self._read_buffer)

    def _sock_recv(self, bufsize: int) -> bytes:
        buffer = self._read_buffer
        if not buffer:
            data = super()._sock_recv(RECV_CHUNK)
            if not data:
                return data  # the broker closed the connection
            buffer += data
        chunk = bytes(buffer[:bufsize])
        # bytearray drops a prefix without moving the rest, so this stays cheap.
        del buffer[:bufsize]
        return chunk

    def _handle_pubackcomp(self, cmd: Any) -> MQTTErrorCode:
        packet = self._in_packet["packet"]
        if cmd != "PUBACK" or len(packet) != 2:
            return super()._handle_pubackcomp(cmd)
        mid = int.from_bytes(packet, "big")
        with self._out_message_mutex:
            if mid in self._out_messages:
                return self._do_on_publish(mid, _SUCCESS, _NO_PROPERTIES)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _packet_write(self) -> MQTTErrorCode:
        queue = self._out_packet
        while len(queue) > 1 and all(_plain(p) for p in queue):
            parts, size = [], 0
            for packet in queue:
                parts.append(packet["packet"][packet["pos"] :])
                size += packet["to_process"]
                if size >= SEND_CHUNK:
                    break
            try:
                sent = self._sock_send(b"".join(parts))
            except (AttributeError, ValueError):
                return MQTTErrorCode.MQTT_ERR_SUCCESS
            except BlockingIOError:
                return MQTTErrorCode.MQTT_ERR_AGAIN
            except OSError as err:
                log.debug("sending to the broker failed: %s", err)
                return MQTTErrorCode.MQTT_ERR_CONN_LOST
            while sent > 0 and queue:
                packet = queue[0]
                if sent >= packet["to_process"]:
                    sent -= packet["to_process"]
                    queue.popleft()
                else:
                    packet["pos"] += sent
                    packet["to_process"] -= sent
                    sent = 0
            with self._msgtime_mutex:
                self._last_msg_out = mqtt.time_func()
        return super()._packet_write()


def _plain(packet: Any) -> bool:
    """A queued packet paho does nothing with once it is written."""
    kind = packet["command"] & 0xF0
    if kind == mqtt.DISCONNECT:
        return False
    return not (kind == mqtt.PUBLISH and packet["qos"] == 0)


def client_class() -> type[mqtt.Client]:
    """The client the publisher uses: the streaming one when paho allows it."""
    if SUPPORTED:
        return StreamClient
    log.warning("this paho-mqtt lacks the internals StreamClient needs; using the plain client")
    return mqtt.Client
