"""The agent's scheduled jobs; each opens its own transaction and queues its reports in it."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from carewatch.clock import Clock
from carewatch.db import transaction
from carewatch.errors import NotFound
from carewatch.reports import Kind
from edge_agent.models import AgentState
from edge_agent.outbox import OutboxFull
from edge_agent.reporter import Reporter
from facility_app.audit.models import AuditEntry
from facility_app.facility.service import at_local, get_facility, today
from facility_app.health.access import READ_ACTION

log = logging.getLogger(__name__)

# How far back a daily report is made up for after the agent was off.
DAILY_CATCH_UP_DAYS = 31


def get_marker(session: Session, key: str) -> str | None:
    """A named progress marker of the agent."""
    row = session.get(AgentState, key)
    return row.value if row is not None else None


def set_marker(session: Session, key: str, value: str, clock: Clock) -> None:
    """Set a named progress marker in the caller's transaction."""
    row = session.get(AgentState, key)
    if row is None:
        session.add(AgentState(key=key, value=value, updated_at=clock.now()))
    else:
        row.value, row.updated_at = value, clock.now()


class ChangeWatcher:
    """Notices that a record changed (the audit log grew) and asks for a compliance run.

    Every change to a care record is audited in the same transaction, so the highest audit
    id is a cheap, exact change marker that works across processes (web app and agent).
    """

    def __init__(self, factory: sessionmaker[Session], on_change: Any) -> None:
        self.factory = factory
        self.on_change = on_change
        self.last: int | None = None

    def __call__(self) -> bool:
        """Check once; True (and ``on_change()``) when something changed since last time."""
        with transaction(self.factory, write=False) as session:
            # Reads of health records are audited too; they change nothing to evaluate.
            marker = (
                session.scalar(
                    select(AuditEntry.id)
                    .where(AuditEntry.action != READ_ACTION)
                    .order_by(AuditEntry.id.desc())
                    .limit(1)
                )
                or 0
            )
        changed = self.last is not None and marker != self.last
        self.last = marker
        if changed:
            self.on_change()
        return changed


def run_compliance(factory: sessionmaker[Session], clock: Clock, reporter: Reporter) -> str:
    """Evaluate every rule, store the snapshot and queue its reports in one transaction."""
    from edge_agent.compliance import evaluate_and_record

    with transaction(factory) as session:
        try:
            facility = get_facility(session)
        except NotFound:
            log.info("no facility yet; compliance not evaluated")
            return "unknown"
        return evaluate_and_record(session, facility, clock.now(), reporter)


def run_daily(factory: sessionmaker[Session], clock: Clock, reporter: Reporter) -> list[date]:
    """Report each closed day not reported yet (up to a month back); return the days."""
    from edge_agent.compliance import daily_body

    reported: list[date] = []
    with transaction(factory) as session:
        try:
            facility = get_facility(session)
        except NotFound:
            return reported
        now = clock.now()
        last_closed = today(facility, now)
        if now < at_local(facility, last_closed, facility.closing_time):
            last_closed -= timedelta(days=1)
        marker = get_marker(session, "daily.last_day")
        first = (
            date.fromisoformat(marker) + timedelta(days=1)
            if marker
            else last_closed  # a new agent starts with the last closed day
        )
        first = max(first, last_closed - timedelta(days=DAILY_CATCH_UP_DAYS - 1))
        day = first
        while day <= last_closed:
            body = daily_body(session, facility, day)
            try:
                reporter(session, Kind.DAILY, body, now)
            except OutboxFull:
                log.error("outbox full: daily report for %s waits for the next run", day)
                break
            set_marker(session, "daily.last_day", day.isoformat(), clock)
            reported.append(day)
            day += timedelta(days=1)
    if reported:
        log.info("daily reports queued for %s", ", ".join(d.isoformat() for d in reported))
    return reported


def thin_history(factory: sessionmaker[Session], clock: Clock, settings: Any) -> int:
    """Thin the local compliance history (see :mod:`edge_agent.compliance.history`)."""
    from edge_agent.compliance.history import thin_snapshots

    with transaction(factory) as session:
        marker = get_marker(session, "history.thinned_through")
        deleted, last = thin_snapshots(
            session,
            clock.now(),
            detail_days=settings.snapshot_detail_days,
            keep_days=settings.snapshot_keep_days,
            after_id=int(marker or 0),
        )
        set_marker(session, "history.thinned_through", str(last), clock)
    return deleted


def close_days(factory: sessionmaker[Session], clock: Clock) -> int:
    """Flag children still checked in after closing (today once closed, and yesterday)."""
    from facility_app.housekeeping import close_past_days

    return close_past_days(factory, clock)


def produce_synthetic(
    factory: sessionmaker[Session], clock: Clock, reporter: Reporter, total: int, batch: int = 50
) -> int:
    """Queue numbered test reports until ``total`` exist, across restarts; return how many now.

    Used by the fault test and the backlog benchmark (``carewatch agent --produce N``): the
    counter row, not this process, knows how many were made, so a killed and restarted
    agent continues where the last committed batch ended.
    """
    from edge_agent.models import ReportCounter

    with transaction(factory) as session:
        counter = session.get(ReportCounter, (reporter.facility, "seq"), with_for_update=True)
        made = counter.value if counter is not None else 0
        for _ in range(min(batch, total - made)):
            made += 1
            reporter(session, Kind.DAILY, {"synthetic": made}, clock.now())
    return made


def probe_cameras(factory: sessionmaker[Session], clock: Clock, settings: Any) -> int:
    """Probe every enabled camera and store the results; return how many were probed."""
    from monitoring import service as cctv

    return len(cctv.probe_cameras(factory, clock.now()))


def scan_retention(factory: sessionmaker[Session], clock: Clock, settings: Any) -> int:
    """Scan every camera's recordings and store the results; return how many were scanned."""
    from monitoring import service as cctv

    # The retention index lives beside the agent's other state.
    return len(cctv.scan_retention(factory, clock.now(), state_dir=settings.data_dir / "retention"))


def run_settlement(factory: sessionmaker[Session], clock: Clock, reporter: Reporter) -> list[str]:
    """Report each settled month not reported yet (its totals, no names); return the months."""
    from facility_app.settlement.models import Settlement
    from facility_app.settlement.views import settlement_body

    reported: list[str] = []
    with transaction(factory) as session:
        try:
            facility = get_facility(session)
        except NotFound:
            return reported
        last = get_marker(session, "settlement.last_month") or ""
        months = session.scalars(
            select(Settlement.month)
            .where(Settlement.facility_id == facility.id, Settlement.month > last)
            .order_by(Settlement.month)
        ).all()
        for month in months:
            try:
                reporter(session, Kind.SETTLEMENT, settlement_body(session, facility, month),
                         clock.now())  # fmt: skip
            except OutboxFull:
                log.error("outbox full: the settlement of %s waits for the next run", month)
                break
            set_marker(session, "settlement.last_month", month, clock)
            reported.append(month)
    if reported:
        log.info("settlement reports queued for %s", ", ".join(reported))
    return reported
