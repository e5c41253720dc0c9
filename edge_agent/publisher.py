"""Deliver the outbox to the MQTT broker: in order, at QoS 1, deleted only after the PUBACK.

One worker thread owns the paho client and drives it through paho's external-loop API
(``socket``/``loop_read``/``loop_write``/``loop_misc``), so the client is never touched by
two threads, no wake-up byte is written per publish, and a PUBACK is handled in the thread
that sent the report. A second thread deletes acknowledged rows in batches, so the disk
flush of a delete never stalls the network.

Every connection attempt is a fresh MQTT session: a new ``bdseq`` is taken from the
counter table, the Last Will (a signed ``offline`` state, retained) is set, and on CONNACK
the birth (``online`` with the backlog size, retained) goes out before any report. After a
disconnect nothing of the old session is trusted: in-flight reports are forgotten and the
drain starts again from the oldest row still in the outbox (the hub de-duplicates by
``(facility, seq)``, so a report may arrive twice but never goes missing).

Order: rows are read by id and published in that order on one connection, and ids become
visible in sequence order because :func:`edge_agent.outbox.next_value` serialises writers
on the facility's counter row (SQLite: the single writer) until they commit.
"""

from __future__ import annotations

import contextlib
import logging
import random
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy import delete
from sqlalchemy import select as sql_select
from sqlalchemy.orm import Session, sessionmaker

import carewatch
from carewatch.clock import Clock, SystemClock
from carewatch.db import transaction
from carewatch.reports import Kind, Report, sign, topic
from edge_agent.models import OutboxReport
from edge_agent.mqtt_client import client_class
from edge_agent.outbox import next_value, pending_count

log = logging.getLogger(__name__)

PROTOCOLS = {"5": mqtt.MQTTv5, "3.1.1": mqtt.MQTTv311}
# A report made by another process (nothing calls notify) is picked up within this time.
POLL_SECONDS = 1.0
# A TCP connection that brings no CONNACK within this time is dropped and retried.
CONNACK_TIMEOUT = 10.0
# On a clean stop: how long in-flight reports may take to be acknowledged (so they are not
# sent again next time), and how long the broker may take to acknowledge the goodbye.
STOP_GRACE = 3.0
GOODBYE_TIMEOUT = 5.0
# Outbox rows read per query; they are published as the window frees up.
READ_AHEAD = 500
# MQTT 5 PUBACK 0x10: the broker took the report but nobody (no hub) is subscribed, so it
# reached nobody. Kept and offered again after a pause that grows to the maximum.
NO_SUBSCRIBERS = 0x10
NO_SUBSCRIBER_PAUSE = (1.0, 60.0)


class Publisher:
    """A stack component that sends the outbox to the broker and keeps the agent's presence.

    ``factory`` must make sessions on the agent's database; for SQLite build its engine
    with ``make_engine(url, durable=True)`` (``synchronous=FULL``) so that a report and
    the deletion of an acknowledged one survive a power cut. ``protocol`` is ``"5"`` or
    ``"3.1.1"`` (brokers without MQTT 5; they cannot refuse a publish, so every PUBACK
    counts as delivered). The component keeps delivering after the stack's stop event is
    set, until :meth:`stop`: reports queued by jobs that finish during shutdown still go out.

    ``window`` bounds the reports in flight (and the broker's Receive Maximum, when lower);
    a report the broker refuses (MQTT 5 reason code ≥ 0x80) stays in the outbox and is
    offered again after ``refused_retry`` seconds or on the next start.
    """

    name = "publisher"

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        key: Ed25519PrivateKey,
        facility: str,
        prefix: str,
        host: str,
        port: int,
        protocol: str = "5",
        clock: Clock | None = None,
        ca_file: Path | None = None,
        cert_file: Path | None = None,
        key_file: Path | None = None,
        username: str | None = None,
        password: str | None = None,
        client_id: str | None = None,
        window: int = 500,
        keepalive: int = 30,
        reconnect_min: float = 1.0,
        reconnect_max: float = 30.0,
        flush_interval: float = 0.05,
        flush_size: int = 500,
        refused_retry: float = 3600.0,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown MQTT protocol {protocol!r}; use one of {list(PROTOCOLS)}")
        self.factory, self.key, self.facility, self.prefix = factory, key, facility, prefix
        self.host, self.port, self.protocol = host, port, protocol
        self.clock = clock or SystemClock()
        self.tls = (ca_file, cert_file, key_file)
        self.auth = (username, password)
        self.client_id = client_id or f"carewatch-agent-{facility}"
        self.window, self.keepalive = window, keepalive
        self.reconnect_min, self.reconnect_max = reconnect_min, reconnect_max
        self.refused_retry = refused_retry
        self.state_topic = topic(prefix, facility, Kind.STATE)
        self._deleter = _Deleter(factory, flush_interval, flush_size)
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        # Owned by the worker thread (paho calls back into it from loop_read).
        self._client: mqtt.Client | None = None
        self._inflight: dict[int, tuple[int, int]] = {}  # mid -> (outbox id, seq)
        self._cursor = 0  # the last outbox id read in this session
        self._ahead: deque[Any] = deque()  # rows read, not yet published
        self._dirty = True  # there may be rows after the cursor
        self._session_window = window
        self._held: dict[int, float] = {}  # refused outbox id -> when to offer it again
        # When a report reached no subscriber: sending pauses until then, then starts again
        # from the oldest row still waiting (so order is kept; the hub drops duplicates).
        self._rewind_at: float | None = None
        self._no_subscriber_pause = NO_SUBSCRIBER_PAUSE[0]
        # Read by other threads; single assignments are atomic.
        self._connected = False
        self._accepted = False  # the current session got as far as the birth
        self.bdseq: int | None = None
        self._counts = {"sessions": 0, "sent": 0, "acked": 0, "rejected": 0, "unrouted": 0}

    # -- the Component protocol -------------------------------------------------------------

    def start(self, stop: threading.Event) -> None:
        """Start the worker and the deleter; the broker need not be reachable yet."""
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._deleter.start()
        self._thread = threading.Thread(target=self._run, name="mqtt-publisher", daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        """Whether the worker and the deleter still run."""
        return bool(self._thread and self._thread.is_alive() and self._deleter.alive())

    def stop(self) -> None:
        """Say goodbye (a signed ``offline`` state), disconnect, flush the deletions."""
        self._halt.set()
        self.notify()
        if self._thread is not None:
            self._thread.join(timeout=STOP_GRACE + GOODBYE_TIMEOUT + 10)
            if self._thread.is_alive():
                log.error("the publisher did not stop in time")
        self._deleter.close()
        for sock in (self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        self._wake_r = self._wake_w = None

    # -- what the agent asks ----------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether the broker has accepted the current session."""
        return self._connected

    def notify(self) -> None:
        """Wake the drain now: a report has been committed to the outbox."""
        wake = self._wake_w
        if wake is None:
            return
        # A full buffer means it is already awake; a closed socket means it has stopped.
        with contextlib.suppress(OSError):
            wake.send(b"\0")

    def stats(self) -> dict[str, Any]:
        """Counts since start, the in-flight window and the outbox backlog."""
        data: dict[str, Any] = {
            "connected": self._connected,
            "bdseq": self.bdseq,
            **self._counts,
            "deleted": self._deleter.deleted,
            "inflight": len(self._inflight),
        }
        try:
            with transaction(self.factory, write=False) as session:
                data["backlog"] = pending_count(session)
        except Exception:
            log.exception("counting the outbox failed")
            data["backlog"] = None
        return data

    # -- the worker thread ------------------------------------------------------------------

    def _run(self) -> None:
        delay = self.reconnect_min
        while not self._halt.is_set():
            try:
                if self._open_session():
                    self._serve()
            except Exception:
                log.exception("MQTT session failed")
            finally:
                self._close_session()
            if self._halt.is_set():
                break
            if self._accepted:
                delay = self.reconnect_min
            # Jitter: a broker restart must not see every facility come back in one instant.
            wait = delay * random.uniform(0.5, 1.0)
            log.info("reconnecting to %s:%s in %.1f s", self.host, self.port, wait)
            self._sleep(wait)
            delay = min(delay * 2, self.reconnect_max)
        log.info("publisher stopped")

    def _open_session(self) -> bool:
        """A new bdseq, a new client with its Will, a TCP connection and CONNECT sent."""
        self._accepted = False
        with transaction(self.factory) as session:
            self.bdseq = next_value(session, self.facility, "bdseq")
        v5 = self.protocol == "5"
        client = client_class()(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=PROTOCOLS[self.protocol],
            clean_session=None if v5 else True,
            reconnect_on_failure=False,
        )
        # Our callbacks log their own errors; paho must not let one escape into the loop.
        client.suppress_exceptions = True
        # paho's own limit rescans its whole message table on every PUBACK; the window is
        # kept here instead (see _fill).
        client.max_inflight_messages_set(0)
        client.max_queued_messages_set(0)
        ca_file, cert_file, key_file = self.tls
        if ca_file is not None:
            client.tls_set(
                ca_certs=str(ca_file),
                certfile=str(cert_file) if cert_file else None,
                keyfile=str(key_file) if key_file else None,
            )
        if self.auth[0] is not None:
            client.username_pw_set(*self.auth)
        client.will_set(self.state_topic, self._state("offline"), qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        # With a write callback registered, publish() only queues the packet instead of
        # writing from inside each call; _fill writes the batch with one loop_write.
        client.on_socket_register_write = _ignore
        client.on_socket_unregister_write = _ignore
        self._client = client
        self._counts["sessions"] += 1
        try:
            if v5:
                client.connect(self.host, self.port, self.keepalive, clean_start=True)
            else:
                client.connect(self.host, self.port, self.keepalive)
        except OSError as exc:
            log.warning("cannot reach MQTT broker %s:%s: %s", self.host, self.port, exc)
            return False
        return True

    def _serve(self) -> None:
        """Run the session until it ends or the publisher is stopped."""
        connack_deadline = time.monotonic() + CONNACK_TIMEOUT
        next_poll = 0.0
        while True:
            if self._halt.is_set():
                self._goodbye()
                return
            if not self._connected and time.monotonic() > connack_deadline:
                log.warning("no CONNACK from %s:%s; reconnecting", self.host, self.port)
                return
            if not self._step(POLL_SECONDS):
                return
            if self._connected:
                now = time.monotonic()
                if now >= next_poll:
                    self._dirty, next_poll = True, now + POLL_SECONDS
                self._fill()

    def _step(self, timeout: float) -> bool:
        """One turn of the network loop; False once the connection is gone."""
        client, wake = self._client, self._wake_r
        sock = client.socket() if client is not None else None
        if client is None or sock is None or wake is None:
            return False
        # TLS, and the client's read buffer, may hold bytes that select cannot see.
        pending = bool(getattr(sock, "pending", None)) and sock.pending() > 0
        buffered = getattr(client, "buffered", None)
        pending = pending or bool(buffered and buffered())
        if pending:
            timeout = 0.0
        try:
            readable, _, _ = select.select(
                [sock, wake], [sock] if client.want_write() else [], [], timeout
            )
        except (OSError, ValueError):
            return False
        if wake in readable:
            try:
                while wake.recv(4096):
                    pass
            except BlockingIOError:
                pass
            self._dirty = True
        if (sock in readable or pending) and client.loop_read() != MQTTErrorCode.MQTT_ERR_SUCCESS:
            return False
        if client.want_write() and client.loop_write() != MQTTErrorCode.MQTT_ERR_SUCCESS:
            return False
        return client.loop_misc() == MQTTErrorCode.MQTT_ERR_SUCCESS

    def _fill(self) -> None:
        """Publish rows, oldest first, while the window has room; read ahead in batches."""
        client = self._client
        if self._rewind_at is not None:
            if time.monotonic() < self._rewind_at:
                return
            self._rewind_at = None
            self._cursor, self._dirty = 0, True
            self._ahead.clear()
        room = self._session_window - len(self._inflight)
        if client is None or room <= 0:
            return
        if not self._ahead and self._dirty:
            try:
                rows = self._read(READ_AHEAD)
            except Exception:
                # The session stays up; the next poll tries again.
                log.exception("reading the outbox failed")
                self._dirty = False
                return
            self._dirty = len(rows) == READ_AHEAD
            if rows:
                self._cursor = rows[-1][0]
                # Acknowledged in an earlier session, their deletion still on the way: not
                # sent again. Rows read later in a session cannot have been acknowledged.
                acked = self._deleter.pending_ids()
                self._ahead.extend(r for r in rows if r[0] not in acked)
        # Topping up on every PUBACK, not in big steps, keeps data flowing both ways: a
        # sender that pauses leaves the broker's PUBACKs waiting on a delayed TCP ACK.
        now = time.monotonic()
        while room > 0 and self._ahead:
            row_id, seq, name, payload, retained = self._ahead.popleft()
            # Refused lately: mosquitto 2.0 also drops the connection after a refusal, so
            # offering it again at once would stop everything queued behind it.
            if self._held.get(row_id, now) > now:
                continue
            info = client.publish(name, payload, qos=1, retain=retained)
            if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                log.warning("publishing report %s failed: %s", seq, mqtt.error_string(info.rc))
                break
            self._inflight[info.mid] = (row_id, seq)
            self._counts["sent"] += 1
            room -= 1
        client.loop_write()

    def _read(self, limit: int) -> list[Any]:
        """The next rows after the cursor, oldest first."""
        with transaction(self.factory, write=False) as session:
            return list(
                session.execute(
                    sql_select(
                        OutboxReport.id,
                        OutboxReport.seq,
                        OutboxReport.topic,
                        OutboxReport.payload,
                        OutboxReport.retained,
                    )
                    .where(OutboxReport.id > self._cursor)
                    .order_by(OutboxReport.id)
                    .limit(limit)
                ).all()
            )

    def _goodbye(self) -> None:
        """Let in-flight reports be acknowledged, publish ``offline``, disconnect cleanly."""
        client = self._client
        if client is None:
            return
        if self._connected:
            self._pump(lambda: not self._inflight, STOP_GRACE)
            info = client.publish(self.state_topic, self._state("offline"), qos=1, retain=True)
            if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                log.warning("publishing the offline state failed: %s", mqtt.error_string(info.rc))
            elif not self._pump(info.is_published, GOODBYE_TIMEOUT):
                log.warning("the broker did not acknowledge the offline state in time")
        client.disconnect()
        self._pump(lambda: not client.want_write(), 1.0)

    def _pump(self, done: Callable[[], bool], seconds: float) -> bool:
        """Run the network loop until ``done()`` or the time is up."""
        deadline = time.monotonic() + seconds
        while not done():
            left = deadline - time.monotonic()
            if left <= 0 or not self._step(min(left, 0.1)):
                return done()
        return True

    def _close_session(self) -> None:
        client, self._client = self._client, None
        self._connected = False
        self._inflight.clear()
        self._ahead.clear()
        if client is not None:
            sock = client.socket()
            if sock is not None:
                # No DISCONNECT: the broker sends the Will, which is what a lost session is.
                with contextlib.suppress(OSError):
                    sock.close()

    def _sleep(self, seconds: float) -> None:
        """Wait for the reconnect delay; only a stop cuts it short, not a new report."""
        deadline = time.monotonic() + seconds
        while not self._halt.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or self._wake_r is None:
                return
            try:
                readable, _, _ = select.select([self._wake_r], [], [], left)
                if readable:
                    self._wake_r.recv(4096)
            except (BlockingIOError, OSError, ValueError):
                self._halt.wait(min(left, 0.1))

    def _state(self, status: str, **extra: Any) -> bytes:
        """A signed ``state`` message of the current session."""
        body = {"status": status, "agent_version": carewatch.__version__, **extra}
        report = Report(
            facility=self.facility,
            kind=Kind.STATE,
            body=body,
            made_at=self.clock.now(),
            bdseq=self.bdseq,
        )
        return sign(report, self.key)

    # -- paho callbacks (run in the worker thread, inside loop_read) ------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: Any,
        _flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        if reason_code.is_failure:
            log.error("broker %s:%s refused the connection: %s", self.host, self.port, reason_code)
            return
        try:
            # A broker may allow fewer unacknowledged publishes than our window (MQTT 5).
            limit = getattr(properties, "ReceiveMaximum", None)
            self._session_window = min(self.window, limit) if limit else self.window
            with transaction(self.factory, write=False) as session:
                backlog = pending_count(session)
            client.publish(
                self.state_topic, self._state("online", backlog=backlog), qos=1, retain=True
            )
            self._cursor, self._dirty = 0, True
            self._inflight.clear()
            self._ahead.clear()
            self._connected = self._accepted = True
            log.info(
                "connected to %s:%s (session %s), %d report(s) waiting",
                self.host,
                self.port,
                self.bdseq,
                backlog,
            )
        except Exception:
            log.exception("handling the CONNACK failed")

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        _properties: Any,
    ) -> None:
        was, self._connected = self._connected, False
        if was and not self._halt.is_set():
            log.warning("lost the MQTT broker %s:%s: %s", self.host, self.port, reason_code)

    def _on_publish(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        mid: int,
        reason_code: ReasonCode,
        _properties: Any,
    ) -> None:
        try:
            entry = self._inflight.pop(mid, None)
            if entry is None:
                return  # a state message
            row_id, seq = entry
            if reason_code.value == NO_SUBSCRIBERS:
                # Accepted by the broker but delivered to nobody: not delivered at all.
                self._counts["unrouted"] += 1
                if self._rewind_at is None:
                    log.warning(
                        "report %s reached no subscriber (is the hub subscribed?); it stays in "
                        "the outbox, offered again in %.0f s",
                        seq,
                        self._no_subscriber_pause,
                    )
                    self._rewind_at = time.monotonic() + self._no_subscriber_pause
                    self._no_subscriber_pause = min(
                        self._no_subscriber_pause * 2, NO_SUBSCRIBER_PAUSE[1]
                    )
                return
            if reason_code.is_failure:
                # The broker refused it (e.g. 0x87 not authorised): the row stays, the hub
                # sees a gap until the broker's rules let it through.
                self._counts["rejected"] += 1
                self._held[row_id] = time.monotonic() + self.refused_retry
                log.error(
                    "broker refused report %s: %s; it stays in the outbox, offered again in %d s",
                    seq,
                    reason_code,
                    self.refused_retry,
                )
                return
            self._counts["acked"] += 1
            self._no_subscriber_pause = NO_SUBSCRIBER_PAUSE[0]
            self._deleter.add(row_id)
        except Exception:
            log.exception("handling a PUBACK failed")


def _ignore(*_args: Any) -> None:
    """A paho socket callback we need registered but have nothing to do in."""


def _id_conditions(ids: list[int]) -> list[Any]:
    """WHERE clauses matching exactly ``ids``: a range per unbroken run, IN for the rest.

    Acknowledgements mostly come in id order, so a batch is usually one range, which is
    far cheaper to compile and run than hundreds of bound parameters.
    """
    runs: list[list[int]] = []
    for row_id in sorted(set(ids)):
        if runs and row_id == runs[-1][1] + 1:
            runs[-1][1] = row_id
        else:
            runs.append([row_id, row_id])
    conditions: list[Any] = [OutboxReport.id.between(lo, hi) for lo, hi in runs if hi - lo >= 3]
    singles = [i for lo, hi in runs if hi - lo < 3 for i in range(lo, hi + 1)]
    for start in range(0, len(singles), 1000):
        conditions.append(OutboxReport.id.in_(singles[start : start + 1000]))
    return conditions


class _Deleter:
    """Deletes acknowledged outbox rows in batches, each batch in one write transaction."""

    def __init__(self, factory: sessionmaker[Session], interval: float, size: int) -> None:
        self.factory, self.interval, self.size = factory, interval, size
        self._cond = threading.Condition()
        self._queue: list[int] = []
        self._known: set[int] = set()  # acknowledged, not yet deleted
        self._closing = False
        self._thread: threading.Thread | None = None
        self.deleted = 0

    def start(self) -> None:
        """Run in a thread until closed."""
        self._thread = threading.Thread(target=self._run, name="outbox-deleter", daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        """Whether the thread runs."""
        return bool(self._thread and self._thread.is_alive())

    def add(self, row_id: int) -> None:
        """Queue one acknowledged row."""
        with self._cond:
            if row_id in self._known:
                return
            self._known.add(row_id)
            self._queue.append(row_id)
            # The first id starts the interval; a full batch ends it early.
            if len(self._queue) in (1, self.size):
                self._cond.notify()

    def pending_ids(self) -> frozenset[int]:
        """Rows acknowledged but not yet deleted."""
        with self._cond:
            return frozenset(self._known)

    def close(self) -> None:
        """Delete what is queued and stop."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        failures = 0
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue:
                    return
                # Gather for up to one interval, or until a full batch, then write once.
                deadline = time.monotonic() + self.interval
                while len(self._queue) < self.size and not self._closing:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                batch, self._queue = self._queue, []
            try:
                with transaction(self.factory) as session:
                    for condition in _id_conditions(batch):
                        # No session objects to keep in step: skip the ORM's fetch of ids.
                        session.execute(
                            delete(OutboxReport)
                            .where(condition)
                            .execution_options(synchronize_session=False)
                        )
            except Exception:
                failures += 1
                log.exception("deleting %d acknowledged reports failed", len(batch))
                with self._cond:
                    self._queue[:0] = batch
                    if self._closing and failures >= 3:
                        # They are sent again on the next start; the hub drops the copies.
                        log.error("giving up on deleting %d reports", len(self._queue))
                        return
                time.sleep(min(1.0, 0.1 * failures))
                continue
            failures = 0
            with self._cond:
                self._known.difference_update(batch)
                self.deleted += len(batch)
