"""Check-in and check-out at the door, absences, corrections and closing the day."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from carewatch import validate
from carewatch.errors import Conflict, DomainError, Forbidden, NotFound
from facility_app.accounts.permissions import Actor, Perm
from facility_app.alerts.models import AlertKind, Severity
from facility_app.alerts.service import raise_alert
from facility_app.attendance.models import AbsenceReason, AttendanceRecord, AttendanceStatus
from facility_app.audit import service as audit
from facility_app.children.models import Child, Enrolment, Guardian
from facility_app.facility.models import Facility
from facility_app.facility.service import at_local, get_class, is_service_day, today
from facility_app.ratio.service import refresh_breaches, refresh_now

log = logging.getLogger(__name__)


class UnauthorisedPickup(Forbidden):
    """A person not authorised for the child tried to pick them up.

    The refusal itself must be remembered even though the check-out is rolled back, so
    the error carries a follow-up that the caller runs in a fresh transaction.
    """

    def __init__(
        self,
        *,
        facility_id: int,
        child: Child,
        class_id: int,
        person: str,
        actor: Actor,
        now: datetime,
    ) -> None:
        super().__init__(
            "unauthorised_pickup",
            "%(person)s is not authorised to pick up %(child)s. The child stays; the director "
            "has been alerted.",
            field="picked_up_by",
            person=person,
            child=child.name,
        )
        self._ctx = (facility_id, child.id, class_id, person, actor, now)

    def follow_up(self, session: Session) -> None:
        """Record the alert and the audit entry for the refused pick-up."""
        facility_id, child_id, class_id, person, actor, now = self._ctx
        raise_alert(
            session,
            facility_id=facility_id,
            kind=AlertKind.UNAUTHORISED_PICKUP,
            severity=Severity.CRITICAL,
            now=now,
            class_id=class_id,
            child_id=child_id,
            params={"person": person, "child_id": child_id},
        )
        audit.record(
            session,
            at=now,
            user_id=actor.user_id,
            action="pickup_refused",
            entity="attendance",
            entity_id=None,
            after={"child_id": child_id, "person": person},
        )


def _enrolment_today(child: Child, day: date) -> Enrolment:
    enrolment = child.enrolment_on(day)
    if enrolment is None:
        raise DomainError(
            "not_enrolled_today",
            "%(child)s is not enrolled on %(day)s.",
            child=child.name,
            day=day.isoformat(),
        )
    return enrolment


def _record(session: Session, child_id: int, day: date) -> AttendanceRecord | None:
    return session.scalar(
        select(AttendanceRecord).where(
            AttendanceRecord.child_id == child_id, AttendanceRecord.day == day
        )
    )


def _person(child: Child, guardian_id: int | None, *, field: str) -> Guardian:
    for g in child.guardians:
        if g.id == guardian_id and g.active:
            return g
    raise DomainError(
        "unknown_person",
        "This person is not listed for %(child)s.",
        field=field,
        child=child.name,
    )


def _local_hhmm(facility: Facility, at: datetime) -> str:
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo(facility.timezone)).strftime("%H:%M")


def check_in(
    session: Session,
    actor: Actor,
    facility: Facility,
    child: Child,
    *,
    now: datetime,
    dropped_off_by_id: int | None,
) -> AttendanceRecord:
    """Check a child in now, recording who brought them."""
    actor.require(Perm.ATTENDANCE_WRITE)
    day = today(facility, now)
    enrolment = _enrolment_today(child, day)
    actor.require_class(enrolment.class_id)
    if not is_service_day(session, facility, day):
        raise DomainError("closed_today", "The facility does not serve children today.")
    person = _person(child, dropped_off_by_id, field="dropped_off_by")
    rec = _record(session, child.id, day)
    before = None
    if rec is not None and rec.status == AttendanceStatus.PRESENT:
        raise Conflict(
            "already_checked_in",
            "%(child)s was already checked in today at %(time)s.",
            child=child.name,
            time=_local_hhmm(facility, rec.check_in_at),  # type: ignore[arg-type]
        )
    if rec is None:
        rec = AttendanceRecord(child_id=child.id, day=day)
        session.add(rec)
    else:
        # An absence reported in the morning, then the child came after all.
        before = audit.snapshot(rec)
        rec.absence_reason = None
    rec.class_id = enrolment.class_id
    rec.status = AttendanceStatus.PRESENT
    rec.check_in_at = now
    rec.dropped_off_by_id = person.id
    rec.recorded_by_id = actor.user_id
    audit.log_change(session, actor, now, "check_in", "attendance", rec, before=before)
    refresh_now(session, facility, rec.class_id, now=now)
    return rec


def check_out(
    session: Session,
    actor: Actor,
    facility: Facility,
    child: Child,
    *,
    now: datetime,
    picked_up_by_id: int | None = None,
    other_person: str | None = None,
) -> AttendanceRecord:
    """Hand a child over to an authorised person; anyone else is refused and reported."""
    actor.require(Perm.ATTENDANCE_WRITE)
    day = today(facility, now)
    rec = _record(session, child.id, day)
    if rec is None or rec.status != AttendanceStatus.PRESENT:
        raise Conflict(
            "not_checked_in", "%(child)s has not been checked in today.", child=child.name
        )
    actor.require_class(rec.class_id)
    if rec.check_out_at is not None:
        raise Conflict(
            "already_checked_out",
            "%(child)s was already checked out at %(time)s.",
            child=child.name,
            time=_local_hhmm(facility, rec.check_out_at),
        )
    if picked_up_by_id is None:
        person_name = (other_person or "").strip()[:60]
        if not person_name:
            raise DomainError(
                "pickup_person_required",
                "Choose who is picking up %(child)s.",
                field="picked_up_by",
                child=child.name,
            )
        raise UnauthorisedPickup(
            facility_id=facility.id,
            child=child,
            class_id=rec.class_id,
            person=person_name,
            actor=actor,
            now=now,
        )
    person = next((g for g in child.guardians if g.id == picked_up_by_id), None)
    if person is None or not person.active or not person.can_pick_up:
        raise UnauthorisedPickup(
            facility_id=facility.id,
            child=child,
            class_id=rec.class_id,
            person=person.name if person else f"#{picked_up_by_id}",
            actor=actor,
            now=now,
        )
    before = audit.snapshot(rec)
    rec.check_out_at = max(now, rec.check_in_at)  # type: ignore[type-var]
    rec.picked_up_by_id = person.id
    rec.recorded_by_id = actor.user_id
    grace = timedelta(minutes=facility.policy().attendance.late_pickup_grace_minutes)
    closing = at_local(facility, day, facility.closing_time)
    if now > closing + grace:
        rec.late_pickup = True
        raise_alert(
            session,
            facility_id=facility.id,
            kind=AlertKind.LATE_PICKUP,
            severity=Severity.WARNING,
            now=now,
            class_id=rec.class_id,
            child_id=child.id,
            params={"minutes": int((now - closing).total_seconds() // 60)},
            dedup_key=f"late:{rec.id}",
        )
    audit.log_change(session, actor, now, "check_out", "attendance", rec, before=before)
    refresh_now(session, facility, rec.class_id, now=now)
    return rec


def _require_reason_for_past(facility: Facility, day: date, now: datetime, reason: str) -> str:
    reason = validate.text(reason, field="reason", limit=500)
    if (
        day < today(facility, now)
        and facility.policy().attendance.past_correction_needs_reason
        and not reason
    ):
        raise DomainError(
            "reason_required", "A change to a past day needs a reason.", field="reason"
        )
    return reason


def mark_absent(
    session: Session,
    actor: Actor,
    facility: Facility,
    child: Child,
    *,
    now: datetime,
    day: date,
    reason: AbsenceReason | str,
    note: str = "",
    correction_reason: str = "",
) -> AttendanceRecord:
    """Record that a child is absent on a day, and why."""
    actor.require(Perm.ATTENDANCE_WRITE)
    try:
        reason = AbsenceReason(reason)
    except ValueError:
        raise DomainError(
            "invalid_absence_reason", "Choose illness, personal or other.", field="reason"
        ) from None
    if day > today(facility, now):
        raise DomainError("in_future", "Absences are recorded on the day or after.", field="day")
    correction_reason = _require_reason_for_past(facility, day, now, correction_reason)
    enrolment = _enrolment_today(child, day)
    actor.require_class(enrolment.class_id)
    if len(note or "") > 500:
        raise DomainError("too_long", "At most %(n)s characters are allowed.", field="note", n=500)
    rec = _record(session, child.id, day)
    if rec is not None and rec.status == AttendanceStatus.PRESENT:
        raise Conflict(
            "already_checked_in",
            "%(child)s was already checked in today at %(time)s.",
            child=child.name,
            time=_local_hhmm(facility, rec.check_in_at),  # type: ignore[arg-type]
        )
    before = audit.snapshot(rec) if rec is not None else None
    if rec is None:
        rec = AttendanceRecord(child_id=child.id, day=day, class_id=enrolment.class_id)
        session.add(rec)
    rec.status = AttendanceStatus.ABSENT
    rec.absence_reason = reason
    rec.note = (note or "").strip()
    rec.recorded_by_id = actor.user_id
    audit.log_change(
        session,
        actor,
        now,
        "absence" if before is None else "correct",
        "attendance",
        rec,
        before=before,
        reason=correction_reason,
    )
    return rec


def correct_times(
    session: Session,
    actor: Actor,
    facility: Facility,
    record_id: int,
    *,
    now: datetime,
    check_in_at: datetime,
    check_out_at: datetime | None,
    reason: str,
) -> AttendanceRecord:
    """Correct the check-in and check-out times of a record (past days need a reason)."""
    actor.require(Perm.ATTENDANCE_WRITE)
    rec = session.get(AttendanceRecord, record_id)
    if rec is None:
        raise NotFound("attendance_not_found", "This attendance record does not exist.")
    actor.require_class(rec.class_id)
    reason = _require_reason_for_past(facility, rec.day, now, reason)
    if rec.status != AttendanceStatus.PRESENT:
        raise DomainError("not_present", "Only a day the child was present has times.")
    if today(facility, check_in_at) != rec.day:
        raise DomainError(
            "wrong_day",
            "The check-in must be on %(day)s.",
            field="check_in_at",
            day=rec.day.isoformat(),
        )
    if check_out_at is not None and check_out_at < check_in_at:
        raise DomainError(
            "checkout_before_checkin",
            "The check-out is before the check-in.",
            field="check_out_at",
        )
    if max(check_in_at, check_out_at or check_in_at) > now:
        raise DomainError("in_future", "Times cannot be in the future.", field="check_out_at")
    before = audit.snapshot(rec)
    rec.check_in_at, rec.check_out_at = check_in_at, check_out_at
    if check_out_at is not None:
        rec.missing_checkout = False
        grace = timedelta(minutes=facility.policy().attendance.late_pickup_grace_minutes)
        rec.late_pickup = check_out_at > at_local(facility, rec.day, facility.closing_time) + grace
    audit.log_change(
        session, actor, now, "correct", "attendance", rec, before=before, reason=reason
    )
    refresh_breaches(session, facility, get_class(session, rec.class_id), rec.day, now=now)
    return rec


def close_day(session: Session, facility: Facility, day: date, *, now: datetime) -> int:
    """After closing time, flag every child still checked in; return how many were flagged."""
    if now < at_local(facility, day, facility.closing_time):
        return 0
    open_records = session.scalars(
        select(AttendanceRecord).where(
            AttendanceRecord.day == day,
            AttendanceRecord.status == AttendanceStatus.PRESENT,
            AttendanceRecord.check_out_at.is_(None),
            AttendanceRecord.missing_checkout.is_(False),
        )
    ).all()
    for rec in open_records:
        rec.missing_checkout = True
        raise_alert(
            session,
            facility_id=facility.id,
            kind=AlertKind.MISSING_CHECKOUT,
            severity=Severity.WARNING,
            now=now,
            class_id=rec.class_id,
            child_id=rec.child_id,
            params={"day": day.isoformat()},
            dedup_key=f"missing_checkout:{rec.id}",
        )
    session.flush()
    return len(open_records)


@dataclass
class DoorRow:
    """One child's line on the door page."""

    child: Child
    enrolment: Enrolment
    record: AttendanceRecord | None

    @property
    def state(self) -> str:
        """expected, present, left or absent."""
        if self.record is None:
            return "expected"
        if self.record.status == AttendanceStatus.ABSENT:
            return "absent"
        return "left" if self.record.check_out_at else "present"


def door_rows(
    session: Session, actor: Actor, facility: Facility, day: date, class_ids: list[int]
) -> list[DoorRow]:
    """Every child enrolled on a day in the given classes, with their record."""
    from facility_app.children.service import enrolled_children

    actor.require(Perm.ATTENDANCE_VIEW)
    ids = [c for c in class_ids if actor.can_reach_class(c)]
    pairs = enrolled_children(session, ids, day)
    records = {
        r.child_id: r
        for r in session.scalars(
            select(AttendanceRecord).where(
                AttendanceRecord.day == day, AttendanceRecord.class_id.in_(ids)
            )
        )
    }
    return [DoorRow(child, enr, records.get(child.id)) for child, enr in pairs]
