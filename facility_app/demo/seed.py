"""Seed a realistic demo facility: people, three months of history, breaches and alerts.

Flask-free: it takes a session and the current instant and never commits; the caller
(``carewatch demo seed``, ``carewatch up``, a benchmark) owns the transaction.
"""

from __future__ import annotations

import logging
import random
import time as _time
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from facility_app.accounts.models import User
from facility_app.alerts.models import Alert, AlertKind, Severity
from facility_app.attendance.models import AttendanceRecord
from facility_app.audit import service as audit
from facility_app.demo.history import DayRows, DaySimulator, write_rows
from facility_app.demo.holidays import holidays_between
from facility_app.demo.people import (
    DEMO_ACCOUNTS,
    DemoAccount,
    PeopleBuilder,
    Progress,
    Roster,
    create_facility,
)
from facility_app.facility.models import ClosedDay, Facility
from facility_app.facility.service import at_local, is_service_day, service_days, today
from facility_app.ratio.models import ClassBreach
from facility_app.ratio.service import refresh_breaches

log = logging.getLogger(__name__)

DEFAULT_CHILDREN = 90
DEFAULT_DAYS = 92
DEFAULT_SEED = 7
OPEN_ALERT_DAYS = 3  # alerts younger than this are left for the director to handle
_BATCH_ROWS = 5000


@dataclass
class SeedReport:
    """What the seed created and how long each stage took."""

    facility: str
    classes: int
    children: int  # enrolled today
    former_children: int  # enrolled during the history, left since
    staff: int
    accounts: tuple[DemoAccount, ...]
    first_day: date
    last_day: date
    service_days: int
    closed_days: int
    attendance_rows: int = 0
    illness_absences: int = 0
    personal_absences: int = 0
    late_pickups: int = 0
    missing_checkouts: int = 0
    incidents: int = 0
    breaches: int = 0
    alerts: int = 0
    open_alerts: int = 0
    today_live: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        """Total time spent."""
        return sum(self.timings.values())

    @property
    def illness_rate(self) -> float:
        """Illness absences as a share of child-days."""
        return self.illness_absences / self.attendance_rows if self.attendance_rows else 0.0


def existing_facility(session: Session) -> Facility | None:
    """The facility already in the database, if any (the seed only fills an empty one)."""
    return session.scalar(select(Facility).order_by(Facility.id).limit(1))


class _Stopwatch:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._t = _time.perf_counter()

    def lap(self, name: str) -> None:
        t = _time.perf_counter()
        self.timings[name] = round(t - self._t, 3)
        self._t = t


def _closed_days(session: Session, fac: Facility, first: date, last: date) -> int:
    weekdays = set(fac.policy().attendance.service_weekdays)
    rows = [
        {"facility_id": fac.id, "day": d, "reason": name}
        for d, name in sorted(holidays_between(first, last).items())
        if d.weekday() in weekdays
    ]
    if rows:
        session.execute(insert(ClosedDay), rows)
    return len(rows)


def _write_history(
    session: Session,
    sim: DaySimulator,
    days: list[date],
    live_day: date | None,
    now: datetime,
    progress: Progress | None,
) -> None:
    batch = DayRows()
    total = len(days) + (1 if live_day else 0)
    for i, day in enumerate(days, 1):
        rows = sim.simulate(day)
        batch.attendance += rows.attendance
        batch.duty += rows.duty
        if len(batch.attendance) >= _BATCH_ROWS:
            write_rows(session, batch)
            batch = DayRows()
        if progress is not None:
            progress("history", i, total)
    if live_day is not None:
        rows = sim.simulate(live_day, until=now)
        batch.attendance += rows.attendance
        batch.duty += rows.duty
        if progress is not None:
            progress("history", total, total)
    write_rows(session, batch)
    session.flush()


def _door_alerts(session: Session, fac: Facility) -> int:
    """The alerts check-out and close-day would have raised for late and missing pick-ups."""
    rows = []
    for rec_id, child_id, class_id, day, out_at, late, missing in session.execute(
        select(
            AttendanceRecord.id,
            AttendanceRecord.child_id,
            AttendanceRecord.class_id,
            AttendanceRecord.day,
            AttendanceRecord.check_out_at,
            AttendanceRecord.late_pickup,
            AttendanceRecord.missing_checkout,
        ).where(
            AttendanceRecord.late_pickup.is_(True) | AttendanceRecord.missing_checkout.is_(True)
        )
    ):
        closing = at_local(fac, day, fac.closing_time)
        base = {
            "facility_id": fac.id,
            "severity": Severity.WARNING,
            "class_id": class_id,
            "child_id": child_id,
            "acknowledged_at": None,
            "acknowledged_by_id": None,
        }
        if late and out_at is not None:
            minutes = int((out_at - closing).total_seconds() // 60)
            rows.append(
                base
                | {
                    "kind": AlertKind.LATE_PICKUP,
                    "created_at": out_at,
                    "params": {"minutes": minutes},
                    "dedup_key": f"late:{rec_id}",
                }
            )
        if missing:
            rows.append(
                base
                | {
                    "kind": AlertKind.MISSING_CHECKOUT,
                    # The nightly close-day job runs half an hour after closing.
                    "created_at": closing + timedelta(minutes=30),
                    "params": {"day": day.isoformat()},
                    "dedup_key": f"missing_checkout:{rec_id}",
                }
            )
    if rows:
        session.execute(insert(Alert), rows)
    return len(rows)


def _breaches(
    session: Session,
    roster: Roster,
    days: list[date],
    live_day: date | None,
    now: datetime,
    progress: Progress | None,
) -> None:
    """Rebuild the stored breach history class by class and day by day."""
    fac = roster.facility
    todo = [(d, False) for d in days] + ([(live_day, True)] if live_day else [])
    total = len(todo) * len(roster.classes)
    done = 0
    for day, live in todo:
        # A past day is judged from the next midnight, so that an unrecorded departure
        # counts until closing, exactly as a later correction would rebuild it.
        at = now if live else at_local(fac, day + timedelta(days=1), time(0, 0))
        for plan in roster.classes:
            refresh_breaches(session, fac, plan.room, day, now=at)
            done += 1
        if progress is not None:
            progress("breaches", done, total)


def _age_alerts(session: Session, fac: Facility, now: datetime, director: User) -> None:
    """Date breach alerts at the breach, and mark all but the last few days' as handled."""
    rng = random.Random(fac.id)
    cutoff = now - timedelta(days=OPEN_ALERT_DAYS)
    for alert in session.scalars(select(Alert).where(Alert.facility_id == fac.id)):
        if alert.kind in (AlertKind.RATIO_BREACH, AlertKind.CAPACITY_BREACH):
            # A live system raises it when the breach starts, not when the seed ran.
            alert.created_at = datetime.fromisoformat(alert.params["at"])
        if alert.created_at < cutoff:
            alert.acknowledged_at = alert.created_at + timedelta(minutes=rng.uniform(10, 180))
            alert.acknowledged_by_id = director.id
    session.flush()


def seed_demo(
    session: Session,
    now: datetime,
    *,
    children: int = DEFAULT_CHILDREN,
    days: int = DEFAULT_DAYS,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
) -> SeedReport:
    """Create the demo facility with ``days`` days of history up to yesterday, and today so far."""
    if children < 1 or days < 0:
        raise ValueError("children must be positive and days not negative")
    watch = _Stopwatch()
    rng = random.Random(seed)
    fac = create_facility(session)
    day0 = today(fac, now)
    first, last = day0 - timedelta(days=days), day0 - timedelta(days=1)
    closed = _closed_days(session, fac, first, day0)
    roster = PeopleBuilder(session, fac, now, rng).build(children, days, progress)
    watch.lap("people")

    history = service_days(session, fac, first, last) if days else []
    live_day = day0 if is_service_day(session, fac, day0) else None
    sim = DaySimulator(roster, rng)
    sim.plan_incidents(history)
    _write_history(session, sim, history, live_day, now, progress)
    watch.lap("history")

    _door_alerts(session, fac)
    _breaches(session, roster, history, live_day, now, progress)
    _age_alerts(session, fac, now, roster.users["director"])
    watch.lap("breaches")

    from facility_app.demo.kitchen import seed_kitchen

    seed_kitchen(session, fac, now, rng, days=min(days, 14))
    watch.lap("kitchen")

    from facility_app.demo.admission import seed_admission

    seed_admission(session, fac, now, seed)
    watch.lap("admission")

    from facility_app.demo.growth import seed_growth

    seed_growth(session, fac, now, seed)
    watch.lap("growth")

    from facility_app.demo.medication import seed_medication

    seed_medication(session, fac, now)
    watch.lap("medication")

    stats = sim.stats
    class_ids = [p.room.id for p in roster.classes]
    report = SeedReport(
        facility=fac.name,
        classes=len(roster.classes),
        children=sum(1 for p in roster.classes for c in p.children if c.end is None),
        former_children=sum(1 for p in roster.classes for c in p.children if c.end is not None),
        staff=roster.staff,
        accounts=DEMO_ACCOUNTS,
        first_day=first,
        last_day=last,
        service_days=len(history),
        closed_days=closed,
        attendance_rows=stats.present + stats.illness + stats.personal,
        illness_absences=stats.illness,
        personal_absences=stats.personal,
        late_pickups=stats.late_pickups,
        missing_checkouts=stats.missing_checkouts,
        incidents=stats.incidents,
        breaches=session.scalar(
            select(func.count()).select_from(ClassBreach).where(ClassBreach.class_id.in_(class_ids))
        )
        or 0,
        today_live=live_day is not None,
    )
    report.alerts = session.scalar(select(func.count()).select_from(Alert)) or 0
    report.open_alerts = (
        session.scalar(
            select(func.count()).select_from(Alert).where(Alert.acknowledged_at.is_(None))
        )
        or 0
    )
    audit.record(
        session,
        at=now,
        user_id=None,
        action="import",
        entity="facility",
        entity_id=fac.id,
        after={
            "source": "demo seed",
            "seed": seed,
            "first_day": first.isoformat(),
            "last_day": last.isoformat(),
            "attendance_rows": report.attendance_rows,
            "duty_sessions": stats.duty_sessions,
        },
        reason="Demo data: history written in bulk, not through the door.",
    )
    session.flush()
    watch.lap("report")
    report.timings = watch.timings
    log.info(
        "demo seeded: %s children, %s service days, %s breaches in %.1f s",
        report.children,
        report.service_days,
        report.breaches,
        report.seconds,
    )
    return report
