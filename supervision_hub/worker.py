"""The MQTT worker: receive on the shared subscription, store in batches, then acknowledge.

paho's network thread only queues each message; a writer thread takes what has arrived
(up to ``batch_size``), ingests it in one transaction and acknowledges every message only
after that commit (``manual_ack``). A crash at any point therefore loses nothing: whatever
was not acknowledged is redelivered from the broker's persistent session (MQTT 5
``clean_start=False`` with a session expiry, or a 3.1.1 persistent session), and what was
stored twice is recognised by ``(facility, seq)``.

Several workers, in one process or many, share the stream through ``$share/<group>/...``:
the broker hands each message to one of them. All state is in the database.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy.orm import Session, sessionmaker

from carewatch.clock import Clock
from carewatch.db import transaction
from carewatch.reports import DEFAULT_PREFIX
from supervision_hub.ingest import Outcome, ingest, lock_facilities, reject

log = logging.getLogger(__name__)

SHARE_GROUP = "hub"
# A week: the broker keeps queuing for a hub that is down for maintenance this long.
SESSION_EXPIRY_S = 7 * 24 * 3600
RETRY_PAUSE_S = 1.0


def default_client_id() -> str:
    """A stable client id per machine: the broker keeps the session under it across restarts."""
    return f"carewatch-hub-{socket.gethostname()}"[:64]


def subscription(prefix: str, shared: bool, group: str = SHARE_GROUP) -> str:
    """``$share/<group>/<prefix>/+/+``, or the plain filter for brokers without $share."""
    plain = f"{prefix.rstrip('/')}/+/+"
    return f"$share/{group}/{plain}" if shared else plain


@dataclass(frozen=True)
class _Message:
    mid: int
    qos: int
    topic: str
    payload: bytes
    generation: int


def _facility_of(topic: str) -> str:
    parts = topic.rsplit("/", 2)
    return parts[-2] if len(parts) == 3 else ""


class HubWorker:
    """One MQTT client feeding the hub database; a stack component (start, alive, stop)."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        clock: Clock,
        *,
        host: str = "127.0.0.1",
        port: int = 1883,
        prefix: str = DEFAULT_PREFIX,
        client_id: str | None = None,
        shared: bool = True,
        protocol: str = "5",
        batch_size: int = 500,
        receive_maximum: int = 1000,
        keepalive: int = 30,
        session_expiry: int = SESSION_EXPIRY_S,
        username: str | None = None,
        password: str | None = None,
        ca_file: Path | None = None,
        cert_file: Path | None = None,
        key_file: Path | None = None,
    ) -> None:
        self.factory, self.clock = factory, clock
        self.host, self.port, self.prefix = host, port, prefix
        self.client_id = client_id or default_client_id()
        self.name = f"hub worker {self.client_id}"
        self.topic = subscription(prefix, shared)
        self.protocol = protocol
        self.batch_size = batch_size
        self.keepalive = keepalive
        self.counts: Counter[str] = Counter()
        self.subscribed = threading.Event()
        self._queue: queue.Queue[_Message] = queue.Queue()
        self._lock = threading.Lock()
        self._generation = 0
        self._connected = False
        self._stopping = threading.Event()
        self._writer: threading.Thread | None = None
        self.client = self._make_client(
            receive_maximum, session_expiry, username, password, ca_file, cert_file, key_file
        )

    def _make_client(
        self,
        receive_maximum: int,
        session_expiry: int,
        username: str | None,
        password: str | None,
        ca_file: Path | None,
        cert_file: Path | None,
        key_file: Path | None,
    ) -> mqtt.Client:
        if self.protocol == "5":
            client = mqtt.Client(
                CallbackAPIVersion.VERSION2,
                client_id=self.client_id,
                protocol=mqtt.MQTTv5,
                manual_ack=True,
            )
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = session_expiry
            # Bounds what the broker sends before we acknowledge, and so our memory.
            props.ReceiveMaximum = receive_maximum
            self._connect_kwargs: dict[str, Any] = {"clean_start": False, "properties": props}
        else:
            client = mqtt.Client(
                CallbackAPIVersion.VERSION2,
                client_id=self.client_id,
                protocol=mqtt.MQTTv311,
                clean_session=False,
                manual_ack=True,
            )
            self._connect_kwargs = {}
        if username:
            client.username_pw_set(username, password)
        if ca_file is not None:
            client.tls_set(
                ca_certs=str(ca_file),
                certfile=str(cert_file) if cert_file else None,
                keyfile=str(key_file) if key_file else None,
            )
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    # -- paho callbacks (network thread) -------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("%s: broker refused the connection: %s", self.client_id, reason)
            return
        with self._lock:
            self._generation += 1
            self._connected = True
        # Every connect, not only the first: a broker without our session forgot the filter.
        result, _mid = client.subscribe(self.topic, qos=1)
        log.info(
            "%s connected to %s:%s, subscribing to %s",
            self.client_id,
            self.host,
            self.port,
            self.topic,
        )
        if result != mqtt.MQTT_ERR_SUCCESS:
            log.error("%s: subscribe failed: %s", self.client_id, mqtt.error_string(result))

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        with self._lock:
            self._generation += 1
            self._connected = False
        self.subscribed.clear()
        if not self._stopping.is_set():
            log.warning("%s disconnected (%s); reconnecting", self.client_id, reason)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, codes: Any, _p: Any) -> None:
        if any(code.is_failure for code in codes):
            log.error(
                "%s: broker refused the subscription to %s: %s", self.client_id, self.topic, codes
            )
            return
        self.subscribed.set()

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        try:
            topic = message._topic.decode("utf-8", "replace")
            with self._lock:
                generation = self._generation
            self._queue.put(
                _Message(message.mid, message.qos, topic, bytes(message.payload), generation)
            )
        except Exception:  # one odd message must not stop the network loop
            log.exception("%s: could not queue a message", self.client_id)

    # -- the writer thread ---------------------------------------------------------------

    def _take_batch(self) -> list[_Message]:
        try:
            batch = [self._queue.get(timeout=0.2)]
        except queue.Empty:
            return []
        while len(batch) < self.batch_size:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _write_loop(self) -> None:
        pending: list[_Message] = []
        while True:
            if not pending:
                if self._stopping.is_set() and self._queue.empty():
                    return
                pending = self._take_batch()
                if not pending:
                    continue
            try:
                self._store(pending)
            except Exception:
                # The database is unreachable: keep the batch (it is not acknowledged, so
                # nothing is lost even if we die now) and try again.
                log.exception(
                    "%s: storing %d messages failed; retrying", self.client_id, len(pending)
                )
                if self._stopping.wait(RETRY_PAUSE_S):
                    return
                continue
            self._ack(pending)
            pending = []

    def _store(self, batch: list[_Message]) -> None:
        # Sorted by facility (stable, so each facility's order is kept): every writer takes
        # the facility row locks in the same order, which rules out deadlocks between hubs.
        ordered = sorted(batch, key=lambda m: _facility_of(m.topic))
        now = self.clock.now()
        try:
            with transaction(self.factory) as session:
                lock_facilities(session, {_facility_of(m.topic) for m in ordered})
                outcomes = [
                    ingest(session, m.topic, m.payload, now, prefix=self.prefix) for m in ordered
                ]
        except Exception:
            if len(ordered) == 1:
                outcomes = [self._store_alone(ordered[0], now)]
            else:
                log.warning(
                    "%s: a batch of %d failed; storing one by one",
                    self.client_id,
                    len(ordered),
                    exc_info=True,
                )
                outcomes = [self._store_alone(m, now) for m in ordered]
        for outcome in outcomes:
            self.counts[outcome.status] += 1
            if outcome.code:
                self.counts[outcome.code] += 1

    def _store_alone(self, message: _Message, now: Any) -> Outcome:
        """One message in its own transaction; one the database refuses is recorded instead."""
        from sqlalchemy.exc import DBAPIError

        try:
            with transaction(self.factory) as session:
                return ingest(session, message.topic, message.payload, now, prefix=self.prefix)
        except DBAPIError as exc:
            if exc.connection_invalidated or _is_connection_error(exc):
                raise
            detail = f"could not be stored: {str(exc.orig).splitlines()[0]}"
        except Exception as exc:  # a bug must not wedge the stream on one message
            log.exception("%s: ingesting a message failed", self.client_id)
            detail = f"could not be processed: {type(exc).__name__}"
        with transaction(self.factory) as session:
            return reject(
                session,
                now,
                message.topic,
                _facility_of(message.topic) or None,
                "malformed",
                detail,
                message.payload,
            )

    def _ack(self, batch: list[_Message]) -> None:
        with self._lock:
            for m in batch:
                # A message from an earlier connection is redelivered on this one under the
                # same id; acknowledging the old copy here could release a different message.
                if m.qos > 0 and self._connected and m.generation == self._generation:
                    self.client.ack(m.mid, m.qos)

    # -- component -----------------------------------------------------------------------

    def start(self, stop: threading.Event, timeout: float = 10.0) -> None:
        """Connect (retrying in the background) and wait a while for the subscription."""
        self._writer = threading.Thread(target=self._write_loop, name=self.name, daemon=True)
        self._writer.start()
        self.client.connect_async(self.host, self.port, self.keepalive, **self._connect_kwargs)
        self.client.loop_start()
        deadline = time.monotonic() + timeout
        while not stop.is_set() and time.monotonic() < deadline:
            if self.subscribed.wait(0.1):
                return
        if not stop.is_set():
            log.warning("%s: not subscribed after %.0f s; still trying", self.client_id, timeout)

    def alive(self) -> bool:
        """Whether the writer thread still runs."""
        return self._writer is not None and self._writer.is_alive()

    def stop(self) -> None:
        """Store and acknowledge what has arrived, then disconnect (the session stays)."""
        self._stopping.set()
        if self._writer is not None:
            self._writer.join(timeout=60)
        self.client.disconnect()
        self.client.loop_stop()

    def stats(self) -> dict[str, int]:
        """Messages handled so far by outcome (or rejection code)."""
        return dict(self.counts)


def _is_connection_error(exc: Exception) -> bool:
    from sqlalchemy.exc import InterfaceError, OperationalError

    return isinstance(exc, OperationalError | InterfaceError)
