"""Staff records, class assignments and duty clock-in/out."""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carewatch.errors import Conflict, DomainError, NotFound
from facility_app.accounts.permissions import Actor, Perm
from facility_app.audit import service as audit
from facility_app.facility.models import Facility
from facility_app.facility.service import get_class, today
from facility_app.staff.models import ClassAssignment, DutySession, Staff, StaffRole

log = logging.getLogger(__name__)


def get_staff(session: Session, staff_id: int) -> Staff:
    """A staff member by id."""
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise NotFound("staff_not_found", "This staff member does not exist.")
    return staff


def list_staff(session: Session, facility: Facility, *, on: date | None = None) -> list[Staff]:
    """Staff of the facility, optionally only those employed on a day."""
    rows = session.scalars(
        select(Staff).where(Staff.facility_id == facility.id).order_by(Staff.role, Staff.name)
    )
    return [s for s in rows if on is None or s.employed_on(on)]


def save_staff(
    session: Session,
    actor: Actor,
    facility: Facility,
    *,
    now: datetime,
    name: str,
    role: StaffRole | str,
    hire_date: date,
    leave_date: date | None = None,
    phone: str = "",
    class_ids: list[int] | None = None,
    staff_id: int | None = None,
) -> Staff:
    """Create or change a staff record and, if given, its class assignments."""
    actor.require(Perm.STAFF_WRITE)
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise DomainError("invalid_name", "Name must be 1–60 characters.", field="name")
    try:
        role = StaffRole(role)
    except ValueError:
        raise DomainError("invalid_role", "Unknown staff role.", field="role") from None
    if leave_date is not None and leave_date < hire_date:
        raise DomainError(
            "leave_before_hire", "The leaving date is before the hire date.", field="leave_date"
        )
    if len(phone or "") > 30:
        raise DomainError("too_long", "At most %(n)s characters are allowed.", field="phone", n=30)
    if staff_id is None:
        staff = Staff(facility_id=facility.id)
        session.add(staff)
        before = None
    else:
        staff = get_staff(session, staff_id)
        before = audit.snapshot(staff) | {"class_ids": sorted(staff.class_ids)}
    staff.name, staff.role, staff.hire_date, staff.leave_date = name, role, hire_date, leave_date
    staff.phone = (phone or "").strip()
    session.flush()
    if class_ids is not None:
        for cid in class_ids:
            get_class(session, cid)
        wanted = set(class_ids)
        for a in list(staff.assignments):
            if a.class_id not in wanted:
                staff.assignments.remove(a)
        for cid in wanted - staff.class_ids:
            staff.assignments.append(ClassAssignment(class_id=cid))
        session.flush()
    after = audit.snapshot(staff) | {"class_ids": sorted(staff.class_ids)}
    audit.record(
        session,
        at=now,
        user_id=actor.user_id,
        action="create" if before is None else "update",
        entity="staff",
        entity_id=staff.id,
        before=before,
        after=after,
    )
    return staff


def open_session(session: Session, staff_id: int) -> DutySession | None:
    """The staff member's open duty session, if any."""
    return session.scalar(
        select(DutySession).where(DutySession.staff_id == staff_id, DutySession.end_at.is_(None))
    )


def _may_clock(actor: Actor, staff: Staff, class_id: int) -> None:
    actor.require(Perm.DUTY_WRITE)
    if actor.class_scoped:
        actor.require_class(class_id)


def clock_in(
    session: Session,
    actor: Actor,
    facility: Facility,
    staff: Staff,
    class_id: int,
    *,
    now: datetime,
) -> DutySession:
    """Start a duty session; nobody is on duty in two classes at once."""
    room = get_class(session, class_id)
    _may_clock(actor, staff, room.id)
    if not staff.employed_on(today(facility, now)):
        raise DomainError("not_employed", "%(name)s is not employed today.", name=staff.name)
    current = open_session(session, staff.id)
    if current is not None:
        if current.class_id == room.id:
            raise Conflict(
                "already_on_duty", "%(name)s is already on duty in this class.", name=staff.name
            )
        raise Conflict(
            "on_duty_elsewhere",
            "%(name)s is on duty in another class; clock out there first.",
            name=staff.name,
        )
    duty = DutySession(staff_id=staff.id, class_id=room.id, start_at=now)
    session.add(duty)
    audit.log_change(session, actor, now, "clock_in", "duty", duty)
    _refresh(session, facility, room.id, now, now)
    return duty


def clock_out(
    session: Session, actor: Actor, facility: Facility, staff: Staff, *, now: datetime
) -> DutySession:
    """End the staff member's open duty session."""
    duty = open_session(session, staff.id)
    if duty is None:
        raise Conflict("not_on_duty", "%(name)s is not on duty.", name=staff.name)
    _may_clock(actor, staff, duty.class_id)
    before = audit.snapshot(duty)
    duty.end_at = max(now, duty.start_at)
    if duty.end_at == duty.start_at:
        # A clock-out in the same instant leaves nothing to count; drop the empty session.
        session.delete(duty)
    session.flush()
    audit.record(
        session,
        at=now,
        user_id=actor.user_id,
        action="clock_out",
        entity="duty",
        entity_id=duty.id,
        before=before,
        after={"end_at": now.isoformat()},
    )
    _refresh(session, facility, duty.class_id, duty.start_at, now)
    return duty


def add_duty_session(
    session: Session,
    actor: Actor,
    facility: Facility,
    staff: Staff,
    class_id: int,
    *,
    now: datetime,
    start_at: datetime,
    end_at: datetime,
    reason: str,
) -> DutySession:
    """Record a past duty period after the fact; it may not overlap another of the person's."""
    room = get_class(session, class_id)
    _may_clock(actor, staff, room.id)
    if end_at <= start_at:
        raise DomainError("end_before_start", "The duty ends before it starts.", field="end_at")
    if end_at > now:
        raise DomainError("in_future", "A duty period cannot end in the future.", field="end_at")
    if not (reason or "").strip():
        raise DomainError(
            "reason_required", "Please give a reason for this correction.", field="reason"
        )
    clash = session.scalar(
        select(func.count())
        .select_from(DutySession)
        .where(
            DutySession.staff_id == staff.id,
            DutySession.start_at < end_at,
            (DutySession.end_at.is_(None)) | (DutySession.end_at > start_at),
        )
    )
    if clash:
        raise Conflict(
            "duty_overlap",
            "%(name)s is already on duty during part of this time.",
            name=staff.name,
        )
    duty = DutySession(staff_id=staff.id, class_id=room.id, start_at=start_at, end_at=end_at)
    session.add(duty)
    audit.log_change(session, actor, now, "correct", "duty", duty, reason=reason.strip())
    _refresh(session, facility, room.id, start_at, now)
    if today(facility, end_at) != today(facility, start_at):
        _refresh(session, facility, room.id, end_at, now)
    return duty


def _refresh(
    session: Session, facility: Facility, class_id: int, at: datetime, now: datetime
) -> None:
    from facility_app.ratio.service import refresh_breaches

    refresh_breaches(session, facility, get_class(session, class_id), today(facility, at), now=now)


def on_duty(session: Session, class_ids: list[int] | None = None) -> list[DutySession]:
    """Open duty sessions, optionally in given classes."""
    stmt = select(DutySession).where(DutySession.end_at.is_(None))
    if class_ids is not None:
        stmt = stmt.where(DutySession.class_id.in_(class_ids))
    return list(session.scalars(stmt))
