"""Compose the agent: the publisher first, then the scheduler with its jobs.

Start order matters: the publisher must exist before any job queues a report (jobs ask it
whether the broker is reachable, to mark reports made during an outage as historical); the
stack stops them in reverse, so running jobs finish and their reports are queued before
the publisher says goodbye.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from carewatch.clock import Clock
from carewatch.config import Settings
from carewatch.stack import Component
from edge_agent import jobs
from edge_agent.keys import load_or_create
from edge_agent.reporter import Reporter
from edge_agent.scheduler import JobScheduler, JobSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    """How often each job runs (the retention scan is daily and on demand: SIGUSR1)."""

    compliance: timedelta = timedelta(minutes=1)
    change_watch: timedelta = timedelta(seconds=5)
    camera_probe: timedelta = timedelta(minutes=5)
    retention_scan: timedelta = timedelta(days=1)
    daily_report: timedelta = timedelta(minutes=15)
    close_day: timedelta = timedelta(minutes=5)
    settlement_report: timedelta = timedelta(hours=1)
    history: timedelta = timedelta(hours=6)


class SyntheticProducer:
    """Queues numbered reports until a total is reached (fault tests and benchmarks only)."""

    name = "producer"

    def __init__(
        self,
        factory: sessionmaker[Session],
        clock: Clock,
        reporter: Reporter,
        total: int,
        pause: float = 0.0,
    ) -> None:
        self.factory, self.clock, self.reporter = factory, clock, reporter
        self.total, self.pause = total, pause
        self._thread: threading.Thread | None = None

    def start(self, stop: threading.Event) -> None:
        """Produce in a thread until the total exists or the stack stops."""

        def _run() -> None:
            made = 0
            while not stop.is_set() and made < self.total:
                try:
                    made = jobs.produce_synthetic(
                        self.factory, self.clock, self.reporter, self.total
                    )
                except Exception:
                    log.exception("producing test reports failed; retrying")
                    stop.wait(0.5)
                    continue
                if self.pause:
                    stop.wait(self.pause)
            log.info("synthetic producer done: %d reports exist", made)

        self._thread = threading.Thread(target=_run, name=self.name, daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        """Always true: finishing the total is not a failure of the stack."""
        return True

    def stop(self) -> None:
        """Wait for the current batch."""
        if self._thread is not None:
            self._thread.join(timeout=30)


def build_agent(
    settings: Settings,
    factory: sessionmaker[Session],
    clock: Clock,
    *,
    protocol: str = "5",
    schedule: Schedule | None = None,
    produce: int | None = None,
    produce_pause: float = 0.0,
) -> list[Component]:
    """The agent's components in start order."""
    from edge_agent.publisher import Publisher

    schedule = schedule or Schedule()
    key = load_or_create(settings.data_dir)
    publisher = Publisher(
        factory,
        key=key,
        facility=settings.facility_code,
        prefix=settings.topic_prefix,
        host=settings.mqtt_host,
        port=settings.mqtt_port,
        protocol=protocol,
        clock=clock,
        ca_file=settings.mqtt_ca_file,
        cert_file=settings.mqtt_cert_file,
        key_file=settings.mqtt_key_file,
        username=settings.mqtt_username,
        password=(settings.mqtt_password.get_secret_value() if settings.mqtt_password else None),
    )
    reporter = Reporter(
        key=key,
        facility=settings.facility_code,
        prefix=settings.topic_prefix,
        limit=settings.outbox_max_reports,
        online=lambda: publisher.connected,
        wake=publisher.notify,
    )
    if produce is not None:
        return [publisher, SyntheticProducer(factory, clock, reporter, produce, produce_pause)]

    scheduler: JobScheduler
    watcher = jobs.ChangeWatcher(factory, lambda: scheduler.run_now("compliance"))
    specs = [
        JobSpec(
            "compliance",
            partial(jobs.run_compliance, factory, clock, reporter),
            schedule.compliance,
        ),
        JobSpec("change_watch", watcher, schedule.change_watch),
        JobSpec("close_day", partial(jobs.close_days, factory, clock), schedule.close_day),
        JobSpec(
            "settlement_report",
            partial(jobs.run_settlement, factory, clock, reporter),
            schedule.settlement_report,
        ),
        JobSpec(
            "daily_report", partial(jobs.run_daily, factory, clock, reporter), schedule.daily_report
        ),
        JobSpec(
            "camera_probe",
            partial(jobs.probe_cameras, factory, clock, settings),
            schedule.camera_probe,
        ),
        JobSpec(
            "retention_scan",
            partial(jobs.scan_retention, factory, clock, settings),
            schedule.retention_scan,
        ),
        JobSpec("history", partial(jobs.thin_history, factory, clock, settings), schedule.history),
    ]
    scheduler = JobScheduler(factory, clock, specs)
    _on_demand_scan(scheduler)
    return [publisher, scheduler]


def _on_demand_scan(scheduler: JobScheduler) -> None:
    """SIGUSR1 asks for a retention scan now (``kill -USR1 <agent pid>``)."""

    def _handler(_signum: int, _frame: Any) -> None:
        log.info("SIGUSR1: retention scan requested")
        scheduler.run_now("retention_scan")

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGUSR1, _handler)
