"""Outbox drain benchmark: the Publisher emptying 10,000 reports vs ``mosquitto_pub -l``.

    .venv/bin/python benchmarks/bench_drain.py [--reports 10000] [--rounds 3] [--protocol 5]

Each round builds an outbox of signed ``daily`` reports in a SQLite file (schema by the
migrations, ``synchronous=FULL`` as in the agent), starts the Publisher against a local
mosquitto and times from ``start()`` until the outbox is empty (every report published at
QoS 1, acknowledged, and its row deleted). The baseline sends the same payloads to the
same broker with ``mosquitto_pub -q 1 -l`` (one payload per line on stdin), which keeps
nothing durable, and, as the floor the Publisher stands on, paho alone publishing them with
the same window and no database. One ``mosquitto_sub -q 1`` is subscribed to everything
throughout, as the hub would be (the Publisher keeps a report the broker routed to nobody).
Prints the rates, their medians
over the rounds, and the ratio against the target (Publisher ≥ 0.5 × mosquitto_pub).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from common import machine, workdir  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from sqlalchemy import select  # noqa: E402

from carewatch.clock import SystemClock  # noqa: E402
from carewatch.db import make_engine, make_session_factory, transaction  # noqa: E402
from carewatch.migrate import upgrade  # noqa: E402
from carewatch.reports import Kind  # noqa: E402
from edge_agent.models import OutboxReport  # noqa: E402
from edge_agent.outbox import enqueue, pending_count  # noqa: E402
from edge_agent.publisher import Publisher  # noqa: E402
from tests.mqtt_broker import Mosquitto  # noqa: E402

FACILITY = "bench-facility"
PREFIX = "carewatch/v1"
TIME_LIMIT = 120.0  # seconds per drain; the benchmark fails rather than hang
WINDOW = 500  # the Publisher's default in-flight window


def build_outbox(url: str, key: Ed25519PrivateKey, n: int) -> list[bytes]:
    """Queue ``n`` signed reports through the outbox; return their payloads in order."""
    factory = make_session_factory(make_engine(url, durable=True))
    clock = SystemClock()
    for start in range(0, n, 1000):
        with transaction(factory) as session:
            for i in range(start, min(n, start + 1000)):
                enqueue(
                    session,
                    key=key,
                    facility=FACILITY,
                    kind=Kind.DAILY,
                    body={"day": "2026-03-10", "present": i % 90, "synthetic": i},
                    now=clock.now(),
                    prefix=PREFIX,
                    limit=n + 1000,
                )
    with transaction(factory, write=False) as session:
        payloads = list(session.scalars(select(OutboxReport.payload).order_by(OutboxReport.id)))
    factory.kw["bind"].dispose()
    return payloads


def drain(url: str, key: Ed25519PrivateKey, broker: Mosquitto, protocol: str) -> float:
    """Seconds from the Publisher's start until the outbox is empty."""
    engine = make_engine(url, durable=True)
    factory = make_session_factory(engine)
    publisher = Publisher(
        factory,
        key=key,
        facility=FACILITY,
        prefix=PREFIX,
        host="127.0.0.1",
        port=broker.port,
        protocol=protocol,
        client_id=f"bench-{time.monotonic_ns()}",
    )
    try:
        t0 = time.perf_counter()
        publisher.start(threading.Event())
        while True:
            with transaction(factory, write=False) as session:
                if pending_count(session) == 0:
                    break
            if time.perf_counter() - t0 > TIME_LIMIT:
                raise RuntimeError(f"outbox not empty after {TIME_LIMIT} s: {publisher.stats()}")
            time.sleep(0.02)
        return time.perf_counter() - t0
    finally:
        publisher.stop()
        engine.dispose()


def mosquitto_pub(payloads: list[bytes], broker: Mosquitto) -> float:
    """Seconds ``mosquitto_pub -q 1 -l`` takes to send the payloads, process start included."""
    data = b"\n".join(payloads) + b"\n"
    name = f"{PREFIX}/{FACILITY}/{Kind.DAILY.value}"
    args = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-l"]
    t0 = time.perf_counter()
    subprocess.run([*args, "-t", name], input=data, check=True, timeout=TIME_LIMIT)
    return time.perf_counter() - t0


def paho_alone(payloads: list[bytes], broker: Mosquitto, protocol: str, window: int) -> float:
    """Seconds paho alone takes for the payloads at QoS 1 (same window, no database)."""
    import select as io

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    proto = mqtt.MQTTv5 if protocol == "5" else mqtt.MQTTv311
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-paho", protocol=proto)
    client.max_inflight_messages_set(0)
    acked = [0]
    client.on_publish = lambda *_a: acked.__setitem__(0, acked[0] + 1)
    name = f"{PREFIX}/{FACILITY}/{Kind.DAILY.value}"
    t0 = time.perf_counter()
    client.connect("127.0.0.1", broker.port)
    sent = 0
    while acked[0] < len(payloads):
        if time.perf_counter() - t0 > TIME_LIMIT:
            raise RuntimeError("paho alone did not finish in time")
        if client.is_connected():
            while sent < len(payloads) and sent - acked[0] < window:
                client.publish(name, payloads[sent], qos=1)
                sent += 1
        sock = client.socket()
        io.select([sock], [sock] if client.want_write() else [], [], 1.0)
        client.loop_read()
        if client.want_write():
            client.loop_write()
    seconds = time.perf_counter() - t0
    client.disconnect()
    return seconds


def main() -> None:
    """Build, drain, compare, print."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--protocol", choices=["5", "3.1.1"], default="5")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    key = Ed25519PrivateKey.generate()
    print(machine())
    print(f"{args.reports} reports, {args.rounds} round(s), MQTT {args.protocol}, SQLite FULL")
    ours: list[float] = []
    theirs: list[float] = []
    bare: list[float] = []
    with workdir() as tmp:
        (tmp / "mqtt").mkdir()
        broker = Mosquitto(tmp / "mqtt").start()
        listener = subprocess.Popen(
            ["mosquitto_sub", "-p", str(broker.port), "-q", "1", "-t", "#"],
            stdout=subprocess.DEVNULL,
        )
        time.sleep(0.5)
        try:
            for r in range(args.rounds):
                url = f"sqlite:///{tmp / f'round{r}.db'}"
                upgrade(url)
                payloads = build_outbox(url, key, args.reports)
                size = sum(map(len, payloads)) / len(payloads)
                seconds = drain(url, key, broker, args.protocol)
                baseline = mosquitto_pub(payloads, broker)
                floor = paho_alone(payloads, broker, args.protocol, WINDOW)
                ours.append(args.reports / seconds)
                theirs.append(args.reports / baseline)
                bare.append(args.reports / floor)
                print(
                    f"round {r + 1}: publisher {ours[-1]:,.0f}/s, "
                    f"mosquitto_pub {theirs[-1]:,.0f}/s, paho alone {bare[-1]:,.0f}/s "
                    f"(payload {size:.0f} B)"
                )
        finally:
            listener.terminate()
            listener.wait()
            broker.close()
    mine, base = statistics.median(ours), statistics.median(theirs)
    ratio = mine / base
    print()
    print("| sender | reports/s (median) |\n|---|---|")
    print(f"| Publisher (outbox → PUBACK → delete) | {mine:,.0f} |")
    print(f"| mosquitto_pub -q 1 -l (baseline) | {base:,.0f} |")
    print(f"| paho alone, same window, no database (floor) | {statistics.median(bare):,.0f} |")
    verdict = "meets" if ratio >= 0.5 else "misses"
    print(f"\nratio {ratio:.2f} ({verdict} the target of ≥ 0.50)")


if __name__ == "__main__":
    main()
