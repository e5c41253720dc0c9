"""The agent's job scheduler: APScheduler with missed runs handled on purpose.

Each job runs in its own thread of the scheduler's pool with its own database transaction.
A machine that was off misses runs; APScheduler alone would either skip them silently
(past the misfire grace time) or fire them all at once. Here every job's last run is kept
in ``agent_job_run``; on start a job whose last run is older than its interval is run once,
straight away, and the log says how many runs were missed and since when (coalesced, not
skipped and not repeated).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from carewatch.clock import Clock
from carewatch.db import transaction
from edge_agent.models import AgentJobRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobSpec:
    """One periodic job: what to call and how often."""

    name: str
    func: Callable[[], object]
    interval: timedelta
    # Run at start when the last run is older than this (defaults to the interval).
    catch_up_after: timedelta | None = None


def missed_runs(last: datetime | None, now: datetime, interval: timedelta) -> int:
    """How many runs fell due since ``last`` and did not happen (0 if none or never ran)."""
    if last is None or now <= last:
        return 0
    return max(0, int((now - last) / interval) - (0 if (now - last) % interval else 1))


class JobScheduler:
    """A stack component running :class:`JobSpec` jobs until the stop event is set."""

    name = "scheduler"

    def __init__(self, factory: sessionmaker[Session], clock: Clock, jobs: list[JobSpec]) -> None:
        self.factory = factory
        self.clock = clock
        self.jobs = {job.name: job for job in jobs}
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=4)},
            # coalesce: a backlog of due runs becomes one; max_instances: a slow job is
            # never run twice at once; the grace time lets a run delayed by a busy machine
            # still happen instead of being dropped.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
            timezone="UTC",
        )
        self._scheduler.add_listener(self._on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        self._started = False

    def start(self, stop: threading.Event) -> None:
        """Schedule every job, catching up on missed runs, and start the pool."""
        now = self.clock.now()
        with transaction(self.factory, write=False) as session:
            last_runs = {row.job: row.last_run_at for row in session.scalars(select(AgentJobRun))}
        for job in self.jobs.values():
            last = last_runs.get(job.name)
            limit = job.catch_up_after or job.interval
            due_now = last is None or now - last >= limit
            if last is not None and due_now:
                log.warning(
                    "job %s missed %d run(s) since %s; running it once now",
                    job.name,
                    max(1, missed_runs(last, now, job.interval)),
                    last.isoformat(),
                    extra={"job": job.name},
                )
            self._scheduler.add_job(
                self._run,
                IntervalTrigger(seconds=job.interval.total_seconds()),
                args=[job.name],
                id=job.name,
                name=job.name,
                next_run_time=now if due_now else None,
            )
            if not due_now:
                # Keep the rhythm: the next run is one interval after the last one.
                self._scheduler.modify_job(job.name, next_run_time=max(now, last + job.interval))
        self._scheduler.start()
        self._started = True

    def run_now(self, name: str) -> None:
        """Run a job as soon as a worker is free (on demand, or because a record changed)."""
        self._scheduler.modify_job(name, next_run_time=self.clock.now())

    def _run(self, name: str) -> None:
        job = self.jobs[name]
        started = self.clock.now()
        ok, message = True, ""
        try:
            job.func()
        except Exception as exc:  # one failed run must not end the job
            ok, message = False, f"{type(exc).__name__}: {exc}"[:500]
            log.exception("job %s failed", name, extra={"job": name})
        try:
            with transaction(self.factory) as session:
                row = session.get(AgentJobRun, name)
                if row is None:
                    session.add(AgentJobRun(job=name, last_run_at=started, ok=ok, message=message))
                else:
                    row.last_run_at, row.ok, row.message = started, ok, message
        except Exception:
            log.exception("could not record the run of job %s", name, extra={"job": name})

    def _on_event(self, event: JobExecutionEvent) -> None:
        if event.exception is not None:
            log.error("job %s raised %s", event.job_id, event.exception)

    def alive(self) -> bool:
        """Whether the scheduler runs."""
        return self._started and self._scheduler.running

    def stop(self) -> None:
        """Stop scheduling and wait for running jobs to finish."""
        if self._started and self._scheduler.running:
            self._scheduler.shutdown(wait=True)
