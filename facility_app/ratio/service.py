"""Live class status and the stored history of breaches, rebuilt from the day's records."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carewatch.clock import local_day_bounds
from carewatch.errors import NotFound
from facility_app.alerts.models import AlertKind, Severity
from facility_app.alerts.service import raise_alert
from facility_app.attendance.models import AttendanceRecord, AttendanceStatus
from facility_app.credentials.gate import credentials_in_force
from facility_app.facility.models import ClassRoom, Facility
from facility_app.facility.service import at_local, today
from facility_app.ratio.models import BreachKind, ClassBreach
from facility_app.ratio.rules import RatioStatus, evaluate
from facility_app.staff.models import DutySession, Staff, StaffRole

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


def _live_counts(
    session: Session, facility: Facility, class_ids: list[int], day: date
) -> tuple[dict[int, int], dict[int, int]]:
    """Children checked in and counted caregivers on duty now, per class (two aggregates)."""
    present = dict(
        session.execute(
            select(AttendanceRecord.class_id, func.count())
            .where(AttendanceRecord.class_id.in_(class_ids), *_checked_in(day))
            .group_by(AttendanceRecord.class_id)
        ).all()
    )
    on_duty = dict(
        session.execute(
            select(DutySession.class_id, func.count())
            .join(Staff, Staff.id == DutySession.staff_id)
            .where(DutySession.class_id.in_(class_ids), *_counted_on_duty(facility, day))
            .group_by(DutySession.class_id)
        ).all()
    )
    return present, on_duty


def live_status(
    session: Session, facility: Facility, rooms: list[ClassRoom], now: datetime
) -> dict[int, RatioStatus]:
    """Present children and counted caregivers on duty per class, right now."""
    present, on_duty = _live_counts(session, facility, [r.id for r in rooms], today(facility, now))
    policy = facility.policy()
    return {
        r.id: evaluate(
            present.get(r.id, 0), on_duty.get(r.id, 0), policy.class_rule(r.class_type), r.capacity
        )
        for r in rooms
    }


def refresh_now(session: Session, facility: Facility, class_id: int, *, now: datetime) -> None:
    """After a check-in/out or clock-in/out happening now, bring the stored breaches up to date.

    A breach can only start or end at this instant if the class is out of limits now or
    has a breach still open; otherwise the stored history is already right and the
    replay of the whole day is skipped.
    """
    room = _lock_class(session, class_id)
    day = today(facility, now)
    present, on_duty, open_breach = session.execute(
        select(
            _present_count(room.id, day),
            _on_duty_count(facility, room.id, day),
            select(func.count())
            .where(
                ClassBreach.class_id == room.id,
                ClassBreach.day == day,
                ClassBreach.ended_at.is_(None),
            )
            .scalar_subquery(),
        )
    ).one()
    status = evaluate(
        present, on_duty, facility.policy().class_rule(room.class_type), room.capacity
    )
    if status.ok and not open_breach:
        return
    refresh_breaches(session, facility, room, day, now=now)


def _checked_in(day: date) -> tuple:  # type: ignore[type-arg]
    return (
        AttendanceRecord.day == day,
        AttendanceRecord.status == AttendanceStatus.PRESENT,
        AttendanceRecord.check_out_at.is_(None),
    )


def _counted_on_duty(facility: Facility, day: date) -> tuple:  # type: ignore[type-arg]
    roles = [StaffRole(r) for r in facility.policy().attendance.ratio_staff_roles]
    # A caregiver without a valid certificate and health exam does not count (policy).
    return (
        DutySession.end_at.is_(None),
        Staff.role.in_(roles),
        *credentials_in_force(facility, day),
    )


def _present_count(class_id: int, day: date):  # type: ignore[no-untyped-def]
    return (
        select(func.count())
        .where(AttendanceRecord.class_id == class_id, *_checked_in(day))
        .scalar_subquery()
    )


def _on_duty_count(facility: Facility, class_id: int, day: date):  # type: ignore[no-untyped-def]
    return (
        select(func.count())
        .select_from(DutySession)
        .join(Staff, Staff.id == DutySession.staff_id)
        .where(DutySession.class_id == class_id, *_counted_on_duty(facility, day))
        .scalar_subquery()
    )


def _lock_class(session: Session, class_id: int) -> ClassRoom:
    # Serialise breach bookkeeping per class: two check-ins at once must both see each
    # other's rows (PostgreSQL row lock; SQLite writers are serialised already).
    room = session.scalars(
        select(ClassRoom).where(ClassRoom.id == class_id).with_for_update()
    ).one_or_none()
    if room is None:
        raise NotFound("class_not_found", "This class does not exist.")
    return room


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
            *credentials_in_force(facility, day),
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
    _lock_class(session, room.id)
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
