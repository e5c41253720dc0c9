"""Supervision hub ingest: 1,000 facilities at 100 reports/s with zero loss, then the
maximum drain rate of a backlog, next to ``mosquitto_sub`` receiving the same backlog.

    .venv/bin/python benchmarks/bench_hub_ingest.py [--facilities 1000] [--seconds 60]
        [--backlog 20000] [--workers 1]

Starts a local mosquitto (tests/mqtt_broker.py: persistence on, no queue limit) and a
throwaway PostgreSQL (tests/pgserver.py) holding the hub database, registers the
facilities' keys and runs ``carewatch hub run --no-web`` as a separate process, as in
production. Every payload is signed before any timing starts.

1. Steady load: each facility sends a signed compliance snapshot (about 1.3 kB, 20 rules)
   every 10 s, spread evenly, for ``--seconds``; then every ``(facility, seq)`` must be
   stored exactly once with no open gap.
2. Maximum rate: with the hub stopped (its persistent session keeps queuing) a backlog of
   ``--backlog`` reports is published; ``mosquitto_sub -q 1 -C N`` drains the same backlog
   from its own persistent session (the baseline: receiving only), then the hub is started
   and drains it into PostgreSQL (verify, de-duplicate, store, acknowledge).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select, text

from benchmarks.common import machine
from carewatch.db import make_engine, make_session_factory, transaction
from carewatch.reports import Kind, Report, public_key_text, sign, topic
from supervision_hub.migrate import upgrade
from supervision_hub.models import HubFacility, HubGap, HubReport
from tests.mqtt_broker import Mosquitto
from tests.pgserver import PostgresServer

PREFIX = "carewatch/v1"
T0 = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
RULES = [
    "cctv.coverage",
    "cctv.health",
    "cctv.retention",
    "cctv.retention_forecast",
    "staff.certified",
    "staff.health_exam",
    "staff.training_hours",
    "staff.ban_list",
    "class.size",
    "class.ratio",
    "attendance.complete",
    "attendance.pickup",
    "health.morning_check",
    "health.absence_followup",
    "health.cluster",
    "food.sample_retention",
    "food.allergen",
    "hygiene.disinfection",
    "care.sleep_checks",
    "fees.cap",
]


def body(n: int) -> dict:
    """A compliance snapshot shaped like the agent's."""
    return {
        "overall": "fail" if n % 7 == 0 else "pass",
        "counts": {"pass": 19, "fail": 1 if n % 7 == 0 else 0, "warn": 0, "unknown": 0},
        "rules": [
            {"id": r, "status": "pass", "value": i, "threshold": 20, "since": "2026-03-01"}
            for i, r in enumerate(RULES)
        ],
    }


class Site:
    """One simulated facility with its key and sequence."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.key = Ed25519PrivateKey.generate()
        self.seq = 0
        self.topic = topic(PREFIX, code, Kind.COMPLIANCE)

    def next(self, at: datetime) -> tuple[str, bytes]:
        """The next signed snapshot."""
        self.seq += 1
        report = Report(self.code, Kind.COMPLIANCE, body(self.seq), at, seq=self.seq)
        return self.topic, sign(report, self.key)


def publisher(port: int, client_id: str) -> mqtt.Client:
    """An MQTT 5 client with a deep in-flight window."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def start_hubs(
    env: dict[str, str], hubs: int, workers: int, log: Path
) -> list[subprocess.Popen[bytes]]:
    """``hubs`` processes of ``carewatch hub run`` without the web view."""
    procs = []
    for n in range(hubs):
        args = [
            sys.executable,
            "-m",
            "carewatch.cli",
            "--log-level",
            "warning",
            "hub",
            "run",
            "--no-web",
            "--no-upgrade",
            "--workers",
            str(workers),
            "--client-id",
            f"bench-hub-{n}",
        ]
        with log.open("ab") as out:
            procs.append(subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT))
    return procs


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM and wait (each hub stores and acknowledges what it holds)."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def count(factory) -> int:  # type: ignore[no-untyped-def]
    """Reports stored."""
    with transaction(factory, write=False) as s:
        return s.scalar(select(func.count()).select_from(HubReport)) or 0


def wait_count(factory, target: int, timeout: float) -> float:  # type: ignore[no-untyped-def]
    """Wait until ``target`` reports are stored; the time it took."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if count(factory) >= target:
            return time.monotonic() - began
        time.sleep(0.1)
    raise RuntimeError(f"only {count(factory)} of {target} stored after {timeout:.0f} s")


def wait_subscribed(factory, client: mqtt.Client, site: Site, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    """Knock with a birth until the hub has it: its persistent session then exists."""
    birth = sign(Report(site.code, Kind.STATE, {"status": "online"}, T0, bdseq=1), site.key)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        client.publish(topic(PREFIX, site.code, Kind.STATE), birth, qos=1).wait_for_publish(5)
        time.sleep(0.3)
        with transaction(factory, write=False) as s:
            if s.get(HubFacility, site.code).online:
                return
    raise RuntimeError("the hub did not subscribe")


def steady(factory, client: mqtt.Client, sites: list[Site], seconds: int) -> dict:  # type: ignore[no-untyped-def]
    """Every facility every 10 s, spread evenly, for ``seconds``; then check for loss."""
    before = count(factory)
    per_tick = len(sites) / 10.0  # reports per second
    total = int(per_tick * seconds)
    messages = [
        sites[i % len(sites)].next(T0 + timedelta(seconds=i / per_tick)) for i in range(total)
    ]
    began = time.monotonic()
    for i, (t, payload) in enumerate(messages):
        due = began + i / per_tick
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        client.publish(t, payload, qos=1)
    published = time.monotonic() - began
    lag = wait_count(factory, before + total, 120)
    with transaction(factory, write=False) as s:
        open_gaps = s.scalar(
            select(func.count()).select_from(HubGap).where(HubGap.closed_at.is_(None))
        )
        rows = s.scalar(select(func.count()).select_from(HubReport))
        distinct = s.scalar(
            select(func.count()).select_from(
                select(HubReport.facility, HubReport.seq).distinct().subquery()
            )
        )
        short = s.scalar(
            select(func.count())
            .select_from(HubFacility)
            .where(HubFacility.highest_seq != HubFacility.reports)
        )
        span = s.execute(
            select(func.min(HubReport.received_at), func.max(HubReport.received_at))
        ).one()
    return {
        "sent": total,
        "rate": total / published,
        "stored": rows - before,
        "lost": before + total - distinct,
        "twice": rows - distinct,
        "open_gaps": open_gaps,
        "facilities_short": short,
        "drain_after_last": lag,
        "span": (span[1] - span[0]).total_seconds(),
    }


def mosquitto_sub_session(port: int, n: int) -> list[str]:
    """The baseline subscriber's command (persistent session, QoS 1, exits after n)."""
    return [
        "mosquitto_sub",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-V",
        "mqttv5",
        "-q",
        "1",
        "-c",
        "-i",
        "bench-sub",
        "-x",
        "604800",
        "-t",
        f"{PREFIX}/+/+",
        "-C",
        str(n),
    ]


def main() -> int:
    """Run both phases and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--facilities", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--backlog", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=1, help="MQTT clients per hub process")
    parser.add_argument("--hubs", type=int, default=1, help="hub processes")
    args = parser.parse_args()

    print(f"machine: {machine()}")
    root = Path(tempfile.mkdtemp(prefix="carewatch-bench-hub-"))
    pg = PostgresServer()
    (root / "mqtt").mkdir()
    broker = Mosquitto(root / "mqtt")
    hubs: list[subprocess.Popen[bytes]] = []
    try:
        pg.start()
        broker.start()
        admin = make_engine(pg.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE hub_bench"))
        admin.dispose()
        url = pg.url_for("hub_bench")
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)

        t = time.monotonic()
        sites = [Site(f"F{i:05d}") for i in range(args.facilities)]
        with transaction(factory) as s:
            for site in sites:
                s.add(
                    HubFacility(
                        code=site.code,
                        public_key=public_key_text(site.key.public_key()),
                        registered_at=T0,
                    )
                )
        print(f"registered {len(sites)} facilities in {time.monotonic() - t:.1f} s")

        env = {
            **os.environ,
            "CAREWATCH_HUB_DATABASE_URL": url,
            "CAREWATCH_MQTT_PORT": str(broker.port),
            "CAREWATCH_DATA_DIR": str(root / "var"),
        }
        log = root / "hub.log"
        hubs = start_hubs(env, args.hubs, args.workers, log)
        client = publisher(broker.port, "bench-pub")
        wait_subscribed(factory, client, sites[0])

        print(
            f"\nphase 1: {args.facilities} facilities, one report each per 10 s, {args.seconds} s"
        )
        result = steady(factory, client, sites, args.seconds)
        for key, value in result.items():
            print(f"  {key}: {value:.2f}" if isinstance(value, float) else f"  {key}: {value}")
        ok = result["lost"] == 0 and result["twice"] == 0 and result["open_gaps"] == 0
        print("  zero loss: " + ("yes" if ok else "NO"))

        print(f"\nphase 2: backlog of {args.backlog} signed reports")
        stop(hubs)
        hubs = []
        # The baseline subscriber's persistent session, made now so it queues the backlog.
        subprocess.run(
            [*mosquitto_sub_session(broker.port, 1)[:-2], "-W", "1"],
            capture_output=True,
            timeout=10,
        )
        t = time.monotonic()
        backlog = [sites[i % len(sites)].next(T0 + timedelta(hours=1)) for i in range(args.backlog)]
        print(f"  signed in {time.monotonic() - t:.1f} s (before timing)")
        before = count(factory)
        with transaction(factory, write=False) as s:
            before_id = s.scalar(select(func.max(HubReport.id))) or 0
        t = time.monotonic()
        infos = [client.publish(tp, payload, qos=1) for tp, payload in backlog]
        for info in infos:
            info.wait_for_publish(60)
        print(
            f"  published in {time.monotonic() - t:.1f} s "
            f"({args.backlog / (time.monotonic() - t):.0f}/s)"
        )
        client.disconnect()
        client.loop_stop()
        time.sleep(1.0)

        t = time.monotonic()
        sub = subprocess.run(
            mosquitto_sub_session(broker.port, args.backlog),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=300,
        )
        raw = time.monotonic() - t
        if sub.returncode != 0:
            raise RuntimeError(f"mosquitto_sub failed: {sub.stderr.decode()[-500:]}")

        t = time.monotonic()
        hubs = start_hubs(env, args.hubs, args.workers, log)
        drain = wait_count(factory, before + args.backlog, 600)
        with transaction(factory, write=False) as s:
            first, last = s.execute(
                select(func.min(HubReport.received_at), func.max(HubReport.received_at)).where(
                    HubReport.id > before_id
                )
            ).one()
        stored_span = (last - first).total_seconds() if first and last else drain
        print(f"  mosquitto_sub -q 1 -C {args.backlog}: {raw:.2f} s, {args.backlog / raw:.0f}/s")
        print(
            f"  hub ({args.hubs} process(es) x {args.workers} worker(s)), "
            f"start to all stored: {drain:.2f} s, "
            f"{args.backlog / drain:.0f}/s"
        )
        print(
            f"  hub, first to last stored: {stored_span:.2f} s, {args.backlog / stored_span:.0f}/s"
        )
        lost = before + args.backlog - count(factory)
        print(f"  lost: {lost}")
        engine.dispose()
        return 0 if ok and lost == 0 else 1
    finally:
        stop(hubs)
        broker.close()
        pg.stop()


if __name__ == "__main__":
    sys.exit(main())
