"""The production broker configuration (docker/mosquitto) enforces TLS identities and ACLs.

mosquitto runs with the shipped mosquitto.conf and acl, only the port and the paths rewritten;
the certificates come from scripts/make-certs.sh.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from carewatch.broker import find_mosquitto
from tests.mqtt_broker import free_port

ROOT = Path(__file__).resolve().parents[2]
CONF_DIR = ROOT / "docker" / "mosquitto"
MAKE_CERTS = ROOT / "scripts" / "make-certs.sh"
NOT_AUTHORIZED = 135  # MQTT 5 reason code 0x87

pytestmark = pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto is not installed")


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


def make_certs(out: Path, *codes: str) -> None:
    """Run scripts/make-certs.sh."""
    subprocess.run(["bash", str(MAKE_CERTS), str(out), *codes], check=True, capture_output=True)


def production_conf(port: int, root: Path, certs: Path) -> str:
    """The shipped mosquitto.conf with only the listener port and the file paths changed."""
    text = (CONF_DIR / "mosquitto.conf").read_text()
    text, n = re.subn(r"(?m)^listener 8883$", f"listener {port} 127.0.0.1", text)
    assert n == 1, "the production config must have exactly one listener on 8883"
    text = text.replace("/mosquitto/config/", f"{root}/config/")
    text = text.replace("/mosquitto/certs/", f"{certs}/")
    text = text.replace("/mosquitto/data/", f"{root}/data/")
    text = re.sub(r"(?m)^log_dest stdout$", f"log_dest file {root}/mosquitto.log", text)
    assert "/mosquitto/" not in text
    return text


class TlsBroker:
    """mosquitto with the production config on a loopback port, restartable."""

    def __init__(self) -> None:
        # Not under pytest's tmp_path: as root, mosquitto's own user must reach the folder.
        self.root = Path(tempfile.mkdtemp(prefix="carewatch-tls-"))
        self.certs = self.root / "certs"
        make_certs(self.certs, "fac-a", "fac-b")
        (self.root / "config").mkdir()
        (self.root / "data").mkdir()
        shutil.copy(CONF_DIR / "acl", self.root / "config" / "acl")
        self.port = free_port()
        self.conf = self.root / "config" / "mosquitto.conf"
        self.conf.write_text(production_conf(self.port, self.root, self.certs))
        if os.getuid() == 0:
            # Started as root, mosquitto switches to its own user before it reads the key
            # and the data folder, as in the container: give them to that user.
            owner = pwd.getpwnam("mosquitto")
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, owner.pw_uid, owner.pw_gid)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> TlsBroker:
        """Start and wait until the port accepts connections."""
        self.proc = subprocess.Popen(
            [find_mosquitto() or "mosquitto", "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                log = self.root / "mosquitto.log"
                pytest.fail(f"mosquitto exited: {log.read_text() if log.exists() else ''}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"mosquitto did not listen on {self.port}")
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop gracefully (mosquitto saves its database on SIGTERM)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def close(self) -> None:
        """Stop and remove everything."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def broker() -> Iterator[TlsBroker]:
    """The production broker with certificates for hub, fac-a and fac-b."""
    running = TlsBroker()
    try:
        yield running.start()
    finally:
        running.close()


@dataclass
class Probe:
    """A paho client with its connection result and what it received, for assertions."""

    client: mqtt.Client
    connected: threading.Event = field(default_factory=threading.Event)
    refused: threading.Event = field(default_factory=threading.Event)
    closed: threading.Event = field(default_factory=threading.Event)
    suback: dict[int, list[ReasonCode]] = field(default_factory=dict)
    puback: dict[int, ReasonCode] = field(default_factory=dict)
    messages: list[mqtt.MQTTMessage] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, what: str, predicate: Any, timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` holds, or fail naming ``what``."""
        with self.changed:
            if not self.changed.wait_for(predicate, timeout):
                pytest.fail(f"timed out waiting for {what}")

    def subscribe(self, topic: str) -> list[ReasonCode]:
        """Subscribe at QoS 1 and return the SUBACK reason codes."""
        result, mid = self.client.subscribe(topic, qos=1)
        assert result == mqtt.MQTT_ERR_SUCCESS
        self.wait_for(f"SUBACK for {topic}", lambda: mid in self.suback)
        return self.suback[mid]

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> ReasonCode:
        """Publish at QoS 1 and return the PUBACK reason code."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        self.wait_for(f"PUBACK for {topic}", lambda: info.mid in self.puback)
        return self.puback[info.mid]

    def received(self) -> list[tuple[str, bytes]]:
        """Topic and payload of every message so far."""
        with self.changed:
            return [(m.topic, m.payload) for m in self.messages]

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()


def probe(
    broker: TlsBroker,
    identity: str | None,
    *,
    certs: Path | None = None,
    tls: bool = True,
    wait: bool = True,
    client_id: str | None = None,
    persistent: bool = False,
) -> Probe:
    """A connected MQTT 5 client using ``identity``'s certificate (None: no certificate).

    ``persistent``: resume or create a session that outlives the connection, as hub workers do.
    """
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id or f"{identity or 'anon'}-{os.urandom(3).hex()}",
        protocol=mqtt.MQTTv5,
    )
    p = Probe(client)
    if tls:
        certs = certs or broker.certs
        ca = broker.certs / "ca.crt"  # the client always trusts the real server
        if identity is None:
            client.tls_set(ca_certs=str(ca), cert_reqs=ssl.CERT_REQUIRED)
        else:
            client.tls_set(
                ca_certs=str(ca),
                certfile=str(certs / "clients" / f"{identity}.crt"),
                keyfile=str(certs / "clients" / f"{identity}.key"),
                cert_reqs=ssl.CERT_REQUIRED,
            )

    def notify(action: Any) -> None:
        with p.changed:
            action()
            p.changed.notify_all()

    def on_connect(_c: Any, _u: Any, _f: Any, rc: ReasonCode, _p: Any) -> None:
        notify((p.refused if rc.is_failure else p.connected).set)

    def on_disconnect(_c: Any, _u: Any, _f: Any, _rc: Any, _p: Any) -> None:
        notify(p.closed.set)

    def on_subscribe(_c: Any, _u: Any, mid: int, codes: list[ReasonCode], _p: Any) -> None:
        notify(lambda: p.suback.__setitem__(mid, codes))

    def on_publish(_c: Any, _u: Any, mid: int, rc: ReasonCode, _p: Any) -> None:
        notify(lambda: p.puback.__setitem__(mid, rc))

    def on_message(_c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        notify(lambda: p.messages.append(msg))

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    client.on_subscribe = on_subscribe
    client.on_publish = on_publish
    client.on_message = on_message
    # "localhost" is in the server certificate's SAN, so host name checking stays on.
    props = None
    if persistent:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
    client.connect(
        "localhost", broker.port, keepalive=30, clean_start=not persistent, properties=props
    )
    client.loop_start()
    if wait:
        p.wait_for("CONNACK", p.connected.is_set)
    return p


def refused(broker: TlsBroker, identity: str | None, **kwargs: Any) -> bool:
    """Whether the broker refuses this client: no successful CONNACK, connection closed."""
    try:
        p = probe(broker, identity, wait=False, **kwargs)
    except (ssl.SSLError, OSError):
        return True  # refused during the TLS handshake
    try:
        p.wait_for("the connection to end", lambda: p.closed.is_set() or p.connected.is_set())
        return not p.connected.is_set()
    finally:
        p.close()


def test_facility_report_reaches_hub_through_shared_subscription(broker: TlsBroker) -> None:
    hub = probe(broker, "hub")
    fac = probe(broker, "fac-a")
    try:
        (code,) = hub.subscribe("$share/hub/carewatch/v1/#")
        assert code.value == 1  # granted QoS 1
        assert not fac.publish("carewatch/v1/fac-a/alerts", b"alert-1").is_failure
        hub.wait_for("the report at the hub", lambda: len(hub.messages) == 1)
        assert hub.received() == [("carewatch/v1/fac-a/alerts", b"alert-1")]
    finally:
        hub.close()
        fac.close()


def test_facility_cannot_publish_under_another_facility(broker: TlsBroker) -> None:
    hub = probe(broker, "hub")
    fac = probe(broker, "fac-a")
    try:
        hub.subscribe("$share/hub/carewatch/v1/#")
        # The broker answers the forged report with "not authorised" and drops it ...
        assert fac.publish("carewatch/v1/fac-b/alerts", b"forged").value == NOT_AUTHORIZED
        assert fac.publish("carewatch/v1/other/x", b"forged").value == NOT_AUTHORIZED
        # ... while the connection stays usable: its next, own report arrives alone. A
        # publisher's messages arrive in order, so anything forged would have come first.
        assert not fac.publish("carewatch/v1/fac-a/alerts", b"genuine").is_failure
        hub.wait_for("the genuine report", lambda: len(hub.messages) >= 1)
        assert hub.received() == [("carewatch/v1/fac-a/alerts", b"genuine")]
    finally:
        hub.close()
        fac.close()


def test_facility_reads_nothing_of_other_facilities(broker: TlsBroker) -> None:
    hub = probe(broker, "hub")
    spy = probe(broker, "fac-a")
    other = probe(broker, "fac-b")
    try:
        assert not other.publish("carewatch/v1/fac-b/state", b"online", retain=True).is_failure
        # Live and retained reports of fac-b, plain and through a shared subscription.
        for topic in ("carewatch/v1/fac-b/#", "carewatch/v1/#", "$share/x/carewatch/v1/#"):
            spy.subscribe(topic)
        hub.subscribe("carewatch/v1/#")
        assert not other.publish("carewatch/v1/fac-b/daily", b"daily").is_failure
        # The hub got the retained state and the live report; the broker handles every
        # subscriber of a message in one pass, so the spy's copy would be out by now.
        hub.wait_for("fac-b's reports at the hub", lambda: len(hub.messages) >= 2)
        assert sorted(hub.received()) == [
            ("carewatch/v1/fac-b/daily", b"daily"),
            ("carewatch/v1/fac-b/state", b"online"),
        ]
        time.sleep(0.3)
        assert spy.received() == []
        # Nor its own prefix: a facility only writes.
        spy.subscribe("carewatch/v1/fac-a/#")
        assert not spy.publish("carewatch/v1/fac-a/alerts", b"mine").is_failure
        hub.wait_for("fac-a's report at the hub", lambda: len(hub.messages) >= 3)
        time.sleep(0.3)
        assert spy.received() == []
    finally:
        other.publish("carewatch/v1/fac-b/state", b"", retain=True)  # clear the retained state
        for p in (hub, spy, other):
            p.close()


def test_client_without_certificate_is_refused(broker: TlsBroker) -> None:
    assert refused(broker, None)


def test_certificate_from_another_ca_is_refused(broker: TlsBroker, tmp_path: Path) -> None:
    make_certs(tmp_path / "rogue", "fac-a")
    assert refused(broker, "fac-a", certs=tmp_path / "rogue")
    # The same identity with the genuine certificate is let in (the refusal was the CA).
    assert not refused(broker, "fac-a")


def test_plain_tcp_is_not_offered(broker: TlsBroker) -> None:
    assert refused(broker, None, tls=False)
    listeners = re.findall(r"(?m)^(listener|port)\b.*$", (CONF_DIR / "mosquitto.conf").read_text())
    assert listeners == ["listener"]  # the single TLS listener, no default plain one


def test_queued_reports_survive_a_restart_past_the_default_cap() -> None:
    running = TlsBroker().start()
    try:
        hub = probe(running, "hub", client_id="hub-worker-1", persistent=True)
        hub.subscribe("$share/hub/carewatch/v1/#")
        hub.close()  # the hub is down; its session collects the reports
        fac = probe(running, "fac-a")
        count = 1500  # mosquitto's default queue holds 1000 and drops the rest
        sent = [
            fac.client.publish("carewatch/v1/fac-a/daily", str(i).encode(), qos=1)
            for i in range(count)
        ]
        for info in sent:
            info.wait_for_publish(timeout=30)
        assert all(info.is_published() for info in sent)
        fac.close()

        running.stop()  # acknowledged reports must not be lost by a restart
        running.start()

        hub = probe(running, "hub", client_id="hub-worker-1", persistent=True)
        try:
            hub.wait_for("the queued reports", lambda: len(hub.messages) >= count, timeout=40)
            assert sorted(int(payload) for _t, payload in hub.received()) == list(range(count))
        finally:
            hub.close()
    finally:
        running.close()


def test_make_certs_is_idempotent_and_keeps_keys_private(tmp_path: Path) -> None:
    out = tmp_path / "pki"
    subprocess.run(
        ["bash", str(MAKE_CERTS), "--host", "mqtt.example.org", str(out), "fac-a"],
        check=True,
        capture_output=True,
    )
    ca, hub_cert = (out / "ca.crt").read_bytes(), (out / "clients" / "hub.crt").read_bytes()
    make_certs(out, "fac-a", "fac-b")  # again, with one more facility
    assert (out / "ca.crt").read_bytes() == ca  # the CA is never replaced
    assert (out / "clients" / "hub.crt").read_bytes() == hub_cert
    keys = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.key"))
    assert keys == [
        "ca.key",
        "clients/fac-a.key",
        "clients/fac-b.key",
        "clients/hub.key",
        "server.key",
    ]
    assert {p.stat().st_mode & 0o777 for p in out.rglob("*.key")} == {0o600}

    def show(cert: Path, *options: str) -> str:
        args = ["openssl", "x509", "-in", str(cert), "-noout", *options]
        return subprocess.run(args, check=True, capture_output=True, text=True).stdout

    san = show(out / "server.crt", "-ext", "subjectAltName")
    assert "DNS:localhost" in san and "IP Address:127.0.0.1" in san
    assert "DNS:mqtt.example.org" in san
    assert "CN = fac-b" in show(out / "clients" / "fac-b.crt", "-subject")
    verify = ["openssl", "verify", "-CAfile", str(out / "ca.crt")]
    subprocess.run([*verify, str(out / "clients" / "fac-b.crt")], check=True, capture_output=True)
    # "hub" is the hub's identity; a facility of that name would share its access.
    reserved = subprocess.run(["bash", str(MAKE_CERTS), str(out), "hub"], capture_output=True)
    assert reserved.returncode == 2
