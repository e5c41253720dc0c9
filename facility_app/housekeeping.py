"""Routine work that needs no person: flag children still checked in after closing."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from carewatch.clock import Clock
from carewatch.db import transaction
from carewatch.errors import NotFound
from facility_app.attendance.service import close_day
from facility_app.facility.service import get_facility, today

log = logging.getLogger(__name__)


def close_past_days(factory: sessionmaker[Session], clock: Clock) -> int:
    """Close today (once past closing time) and yesterday; return how many were flagged."""
    with transaction(factory) as session:
        try:
            facility = get_facility(session)
        except NotFound:
            return 0
        now = clock.now()
        day = today(facility, now)
        # Yesterday too, so a machine that was off at closing time catches up.
        flagged = close_day(session, facility, day - timedelta(days=1), now=now)
        flagged += close_day(session, facility, day, now=now)
    if flagged:
        log.info("flagged %d children still checked in after closing", flagged)
    return flagged


class DayCloser:
    """A worker thread that runs :func:`close_past_days` every few minutes until stopped."""

    name = "day-closer"

    def __init__(
        self, factory: sessionmaker[Session], clock: Clock, interval: float = 300.0
    ) -> None:
        self.factory = factory
        self.clock = clock
        self.interval = interval
        self._thread: threading.Thread | None = None
        self._stop: threading.Event | None = None

    def start(self, stop: threading.Event) -> None:
        """Start the worker; it shares the stack's stop event."""
        self._stop = stop
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        assert self._stop is not None
        while True:
            try:
                close_past_days(self.factory, self.clock)
            except Exception:  # one failed round must not end the worker
                log.exception("closing the day failed; will retry")
            if self._stop.wait(self.interval):
                return

    def alive(self) -> bool:
        """Whether the worker thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Wait for the worker to notice the stop event."""
        if self._thread is not None:
            self._thread.join(timeout=10)
