"""Nothing lost, nothing counted twice: 10,000 reports through agent kills and broker restarts.

A real agent process (``carewatch agent --produce``) queues 10,000 numbered reports in its
durable outbox and publishes them to a real mosquitto, where a real hub process stores
them. While it works, the test kills the agent with SIGKILL five times (and starts it
again) and restarts the broker five times. At the end the hub must hold exactly the
10,000 reports 1..10,000 of the facility, with no open gap, and the outbox must be empty.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from carewatch.db import make_engine, make_session_factory, transaction
from carewatch.migrate import upgrade
from carewatch.reports import public_key_text
from edge_agent.keys import load_or_create
from edge_agent.models import OutboxReport
from supervision_hub.migrate import upgrade as upgrade_hub
from supervision_hub.models import HubGap, HubReport
from supervision_hub.service import register_facility
from tests.conftest import T0
from tests.mqtt_broker import Mosquitto

TOTAL = int(os.environ.get("CAREWATCH_FAULT_TOTAL", "10000"))
FACILITY = "F-FAULT-1"
DEADLINE_S = int(os.environ.get("CAREWATCH_FAULT_DEADLINE", "420"))


def _wait(
    predicate: Callable[[], bool],
    timeout: float,
    what: str,
    state: Callable[[], str] = lambda: "",
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}; {state()}")


class Proc:
    """A ``carewatch`` subprocess with its log, restartable."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args, self.env, self.log = args, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "carewatch.cli", *self.args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def test_ten_thousand_reports_survive_kills_and_broker_restarts(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    data = tmp_path / "agent"
    agent_url = f"sqlite:///{data / 'carewatch.db'}"
    hub_url = f"sqlite:///{tmp_path / 'hub.db'}"
    data.mkdir()
    upgrade(agent_url)
    upgrade_hub(hub_url)
    key = load_or_create(data)
    hub_engine = make_engine(hub_url)
    hub_factory = make_session_factory(hub_engine)
    with transaction(hub_factory) as session:
        register_facility(
            session, code=FACILITY, public_key=public_key_text(key.public_key()), name="", now=T0
        )
    env = {
        **os.environ,
        "CAREWATCH_DATA_DIR": str(data),
        "CAREWATCH_DATABASE_URL": agent_url,
        "CAREWATCH_HUB_DATABASE_URL": hub_url,
        "CAREWATCH_MQTT_PORT": str(mosquitto.port),
        "CAREWATCH_FACILITY_CODE": FACILITY,
        "CAREWATCH_LOG_LEVEL": os.environ.get("CAREWATCH_FAULT_LOG_LEVEL", "warning"),
    }
    hub = Proc(["hub", "run", "--no-web", "--client-id", "hub-fault"], env, tmp_path / "hub.log")
    # Batches of 50 with a pause: production lasts about as long as the faults do.
    agent = Proc(
        ["agent", "--produce", str(TOTAL), "--produce-pause", "0.05"], env, tmp_path / "agent.log"
    )
    agent_engine = make_engine(agent_url)
    agent_factory = make_session_factory(agent_engine)

    def stored() -> int:
        with hub_factory() as session:
            return (
                session.scalar(
                    select(func.count())
                    .select_from(HubReport)
                    .where(HubReport.facility == FACILITY)
                )
                or 0
            )

    def made() -> int:
        with agent_factory() as session:
            from edge_agent.models import ReportCounter

            counter = session.get(ReportCounter, (FACILITY, "seq"))
            return counter.value if counter else 0

    rng = random.Random(11)
    hub.start()
    try:
        # The hub's persistent session must exist before reports flow, or the broker keeps
        # nothing for it (in production the hub is always subscribed): wait until the hub
        # has connected, and give it a moment to subscribe.
        _wait(lambda: "hub-fault" in _text(mosquitto.log), 60, "the hub to connect")
        time.sleep(1.0)
        agent.start()
        _wait(lambda: made() > 0, 60, "the first reports")
        made_at_kill = []
        for round_ in range(5):
            # Kill the agent somewhere in the middle of producing and publishing.
            time.sleep(rng.uniform(0.5, 2.0))
            made_at_kill.append(made())
            agent.kill()
            time.sleep(rng.uniform(0.1, 0.5))
            agent.start()
            # Restart the broker under the running agent and hub.
            time.sleep(rng.uniform(0.5, 2.0))
            mosquitto.restart()
            assert round_ < 5

        def state() -> str:
            return (
                f"made {made()}, stored {stored()}, waiting {_outbox(agent_factory)}; "
                f"agent log: {_text(agent.log)[-1500:]} hub log: {_text(hub.log)[-1500:]}"
            )

        # The faults hit the agent while it was still making reports, not only afterwards.
        assert sum(1 for n in made_at_kill if 0 < n < TOTAL) >= 3, made_at_kill
        _wait(lambda: made() == TOTAL, DEADLINE_S / 2, "all reports made", state)
        _wait(lambda: stored() >= TOTAL, DEADLINE_S, f"{TOTAL} reports at the hub", state)
        _wait(lambda: _outbox(agent_factory) == 0, 60, "an empty outbox", state)
    finally:
        agent.stop()
        hub.stop()
    with hub_factory() as session:
        seqs = session.scalars(
            select(HubReport.seq).where(HubReport.facility == FACILITY).order_by(HubReport.seq)
        ).all()
        open_gaps = session.scalar(
            select(func.count())
            .select_from(HubGap)
            .where(HubGap.facility == FACILITY, HubGap.closed_at.is_(None))
        )
    hub_engine.dispose()
    agent_engine.dispose()
    assert len(seqs) == TOTAL and seqs == list(range(1, TOTAL + 1))
    assert open_gaps == 0


def _text(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def _outbox(factory) -> int:  # type: ignore[no-untyped-def]
    with factory() as session:
        return session.scalar(select(func.count()).select_from(OutboxReport)) or 0
