"""Live class status and the stored history of breaches, rebuilt from the day's records."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from carewatch.clock import local_day_bounds
from facility_app.alerts.models import AlertKind, Severity
from facility_app.alerts.service import raise_alert
from facility_app.attendance.models import AttendanceRecord, AttendanceStatus
from facility_app.facility.models import ClassRoom, Facility
from facility_app.facility.service import at_local, today
from facility_app.ratio.models import BreachKind, ClassBreach
from facility_app.ratio.rules import RatioStatus, evaluate
from facility_app.staff.models import DutySession, Staff

log = logging.getLogger(__name__)


@dataclass
class _Interval:
    start: datetime
    end: datetime | None  # None: still open now


@dataclass
class BreachPeriod:
    """A computed breach period, before it is stored."""

    kind: BreachKind
    started_at: datetime
    ended_at: datetime | None
    peak_children: int
    min_caregivers: int
    limit: int


def _counted_roles(facility: Facility) -> set[str]:
    return set(facility.policy().attendance.ratio_staff_roles)


def live_status(
    session: Session, facility: Facility, rooms: list[ClassRoom], now: datetime
) -> dict[int, RatioStatus]:
    """Present children and counted caregivers on duty per class, right now."""
    day = today(facility, now)
    ids = [r.id for r in rooms]
    present: dict[int, int] = defaultdict(int)
    for rec in session.scalars(
        select(AttendanceRecord).where(
            AttendanceRecord.class_id.in_(ids),
            AttendanceRecord.day == day,
            AttendanceRecord.status == AttendanceStatus.PRESENT,
            AttendanceRecord.check_out_at.is_(None),
        )
    ):
        present[rec.class_id] += 1
    staff_count: dict[int, int] = defaultdict(int)
    roles = _counted_roles(facility)
    for duty, role in session.execute(
        select(DutySession, Staff.role)
        .join(Staff, Staff.id == DutySession.staff_id)
        .where(DutySession.class_id.in_(ids), DutySession.end_at.is_(None))
    ):
        if role.value in roles:
            staff_count[duty.class_id] += 1
    policy = facility.policy()
    return {
        r.id: evaluate(
            present[r.id], staff_count[r.id], policy.class_rule(r.class_type), r.capacity
        )
        for r in rooms
    }


def compute_breaches(
    children: list[_Interval],
    caregivers: list[_Interval],
    evaluate_counts,  # type: ignore[no-untyped-def]
) -> list[BreachPeriod]:
    """Replay arrivals and departures in time order and return the periods out of limits.

    All changes at one instant are applied before the status is judged, so a hand-over
    at the same minute does not count as a breach.
    """
    deltas: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
    for iv in children:
        deltas[iv.start][0] += 1
        if iv.end is not None:
            deltas[iv.end][0] -= 1
    for iv in caregivers:
        deltas[iv.start][1] += 1
        if iv.end is not None:
            deltas[iv.end][1] -= 1
    kids = staff = 0
    open_: dict[BreachKind, BreachPeriod] = {}
    done: list[BreachPeriod] = []
    for t in sorted(deltas):
        kids += deltas[t][0]
        staff += deltas[t][1]
        status: RatioStatus = evaluate_counts(kids, staff)
        for kind, bad, limit in (
            (BreachKind.RATIO, not status.ratio_ok, status.required),
            (BreachKind.CAPACITY, not status.capacity_ok, status.size_limit),
        ):
            current = open_.get(kind)
            if bad and current is None:
                open_[kind] = BreachPeriod(kind, t, None, kids, staff, limit)
            elif bad and current is not None:
                current.peak_children = max(current.peak_children, kids)
                current.min_caregivers = min(current.min_caregivers, staff)
                current.limit = max(current.limit, limit)
            elif not bad and current is not None:
                current.ended_at = t
                done.append(open_.pop(kind))
    done.extend(open_.values())
    done.sort(key=lambda b: (b.started_at, b.kind.value))
    return done


def _day_intervals(
    session: Session, facility: Facility, room: ClassRoom, day: date, now: datetime
) -> tuple[list[_Interval], list[_Interval]]:
    day_start, day_end = local_day_bounds(day, facility.timezone)
    is_today = day == today(facility, now)
    # Nobody knows when an unrecorded departure happened on a past day; count to closing.
    cutoff = None if is_today else at_local(facility, day, facility.closing_time)

    def close(start: datetime, end: datetime | None) -> _Interval:
        if end is None and cutoff is not None:
            end = max(cutoff, start)
        return _Interval(start, end)

    children = [
        close(rec.check_in_at, rec.check_out_at)
        for rec in session.scalars(
            select(AttendanceRecord).where(
                AttendanceRecord.class_id == room.id,
                AttendanceRecord.day == day,
                AttendanceRecord.status == AttendanceStatus.PRESENT,
            )
        )
        if rec.check_in_at is not None
    ]
    roles = _counted_roles(facility)
    caregivers = []
    for duty, role in session.execute(
        select(DutySession, Staff.role)
        .join(Staff, Staff.id == DutySession.staff_id)
        .where(
            DutySession.class_id == room.id,
            DutySession.start_at < day_end,
            (DutySession.end_at.is_(None)) | (DutySession.end_at > day_start),
        )
    ):
        if role.value not in roles:
            continue
        start = max(duty.start_at, day_start)
        end = None if duty.end_at is None else min(duty.end_at, day_end)
        caregivers.append(close(start, end))
    return children, caregivers


def refresh_breaches(
    session: Session, facility: Facility, room: ClassRoom, day: date, *, now: datetime
) -> list[ClassBreach]:
    """Rebuild a class's stored breaches for a day and alert on any that are new."""
    # Serialise rebuilds per class: two check-ins at once must not both insert the same
    # new breach (PostgreSQL row lock; SQLite writers are serialised already).
    session.execute(select(ClassRoom.id).where(ClassRoom.id == room.id).with_for_update())
    rule = facility.policy().class_rule(room.class_type)
    children, caregivers = _day_intervals(session, facility, room, day, now)
    periods = compute_breaches(
        children, caregivers, lambda k, s: evaluate(k, s, rule, room.capacity)
    )
    stored = {
        (b.kind, b.started_at): b
        for b in session.scalars(
            select(ClassBreach).where(ClassBreach.class_id == room.id, ClassBreach.day == day)
        )
    }
    result = []
    for p in periods:
        row = stored.pop((p.kind, p.started_at), None)
        if row is None:
            row = ClassBreach(class_id=room.id, day=day, kind=p.kind, started_at=p.started_at)
            _copy(p, row)
            session.add(row)
            _alert_new_breach(session, facility, room, p, now)
        else:
            _copy(p, row)
        result.append(row)
    for gone in stored.values():
        session.delete(gone)
    session.flush()
    return result


def _copy(period: BreachPeriod, row: ClassBreach) -> None:
    row.ended_at, row.peak_children = period.ended_at, period.peak_children
    row.min_caregivers, row.limit = period.min_caregivers, period.limit


def _alert_new_breach(
    session: Session, facility: Facility, room: ClassRoom, p: BreachPeriod, now: datetime
) -> None:
    kind = AlertKind.RATIO_BREACH if p.kind == BreachKind.RATIO else AlertKind.CAPACITY_BREACH
    raise_alert(
        session,
        facility_id=facility.id,
        kind=kind,
        severity=Severity.CRITICAL,
        now=now,
        class_id=room.id,
        params={
            "class": room.name,
            "children": p.peak_children,
            "caregivers": p.min_caregivers,
            "limit": p.limit,
            "at": p.started_at.isoformat(),
        },
        dedup_key=f"breach:{room.id}:{p.kind.value}:{p.started_at.isoformat()}",
    )


def breaches(session: Session, class_ids: list[int], start: date, end: date) -> list[ClassBreach]:
    """Stored breaches of given classes in [start, end], newest first."""
    return list(
        session.scalars(
            select(ClassBreach)
            .where(ClassBreach.class_id.in_(class_ids), ClassBreach.day.between(start, end))
            .order_by(ClassBreach.started_at.desc())
        )
    )
