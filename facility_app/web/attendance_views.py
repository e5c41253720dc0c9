"""The door page (check-in, check-out, absences, corrections) and the duty page."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from carewatch.errors import DomainError, NotFound
from facility_app.accounts.permissions import Actor, Perm
from facility_app.attendance import service as attendance
from facility_app.attendance.models import AbsenceReason, AttendanceRecord
from facility_app.care import service as care
from facility_app.children.models import Child
from facility_app.children.service import get_child
from facility_app.facility.models import ClassRoom
from facility_app.facility.service import at_local, is_service_day, today, visible_classes
from facility_app.health import admission
from facility_app.health.access import record_read
from facility_app.ratio.rules import RatioStatus
from facility_app.ratio.service import live_status
from facility_app.staff import service as staff_service
from facility_app.staff.models import ClassAssignment, DutySession, Staff

from .admission_warnings import DoorWarning, door_warnings, flash_text
from .auth import current_actor, facility, now, require
from .extensions import db
from .templating import label, local_time

log = logging.getLogger(__name__)

bp = Blueprint("attendance", __name__, url_prefix="/attendance")

MAX_NAME = 60
MAX_NOTE = 500
_INT_MAX = 2**31 - 1


# ---------------------------------------------------------------- form input


def _form_int(name: str) -> int:
    """A required positive integer field; anything else is refused before any work."""
    value = request.form.get(name, type=int)
    if value is None or not 0 < value <= _INT_MAX:
        raise DomainError("invalid_input", "The form is incomplete; please try again.", field=name)
    return value


def _form_text(name: str, limit: int) -> str:
    """An optional text field, stripped, refused when longer than ``limit``."""
    value = (request.form.get(name) or "").strip()
    if len(value) > limit:
        raise DomainError("too_long", "At most %(n)s characters are allowed.", field=name, n=limit)
    return value


def _form_time(name: str) -> time | None:
    """An optional local time of day typed as HH:MM."""
    raw = _form_text(name, 8)
    if not raw:
        return None
    # Browsers send "08:35" (or "08:35:00"); people typing may leave out the leading zero.
    for pattern in ("%H:%M", "%H:%M:%S"):
        try:
            return datetime.strptime(raw, pattern).time().replace(second=0)
        except ValueError:
            continue
    raise DomainError("invalid_time", "Enter a time as HH:MM.", field=name)


def _to_door(class_id: int | None) -> Response:
    """Back to the door page on the class tab the change was made in."""
    return redirect(url_for("attendance.door", class_id=class_id), code=303)


# ---------------------------------------------------------------- door page


def _pick_room(rooms: list[ClassRoom], class_id: int | None) -> ClassRoom | None:
    """The class tab asked for, else the first; a class out of reach is a 404."""
    if class_id is None:
        return rooms[0] if rooms else None
    for room in rooms:
        if room.id == class_id:
            return room
    # Same answer for a missing class and another caregiver's class.
    abort(404)


@bp.get("/")
@require(Perm.ATTENDANCE_VIEW)
def door():  # type: ignore[no-untyped-def]
    """One class's children as big tiles; tapping one opens its check-in/out panel."""
    actor, fac, at = current_actor(), facility(), now()
    day = today(fac, at)
    rooms = visible_classes(db.session, fac, actor)
    room = _pick_room(rooms, request.args.get("class_id", type=int))
    rows: list[attendance.DoorRow] = []
    status: RatioStatus | None = None
    if room is not None:
        rows = attendance.door_rows(db.session, actor, fac, day, [room.id])
        rows.sort(key=lambda r: r.child.name)
        status = live_status(db.session, fac, [room], at)[room.id]
    return render_template(
        "attendance/door.html",
        day=day,
        rooms=rooms,
        room=room,
        rows=rows,
        counts=Counter(r.state for r in rows),
        status=status,
        service_day=is_service_day(db.session, fac, day),
        can_write=actor.can(Perm.ATTENDANCE_WRITE),
        open_child=request.args.get("child", type=int),
        reasons=list(AbsenceReason),
    )


def _admission_warnings(actor: Actor, child: Child) -> list[DoorWarning]:
    """What the child's admission file lacks today; the read goes with the check-in."""
    if not actor.can(Perm.HEALTH_VIEW):
        return []
    at = now()
    warnings = door_warnings(admission.status(db.session, facility(), child, today(facility(), at)))
    if warnings:
        # Recorded in the check-in's transaction: shown only if the check-in is saved.
        record_read(db.session, actor, at, child_id=child.id, section="door_admission")
    return warnings


@bp.post("/check-in")
@require(Perm.ATTENDANCE_WRITE)
def check_in():  # type: ignore[no-untyped-def]
    """Check a child in, brought by one of their listed adults."""
    child_id, guardian_id = _form_int("child_id"), _form_int("guardian_id")
    actor, fac = current_actor(), facility()
    child = get_child(db.session, actor, child_id)
    warnings = _admission_warnings(actor, child)
    rec = attendance.check_in(
        db.session, actor, fac, child, now=now(), dropped_off_by_id=guardian_id
    )
    person = rec.dropped_off_by.name if rec.dropped_off_by else ""
    db.session.commit()
    log.info("check-in child=%s by user=%s", child.id, actor.user_id)
    flash(
        _(
            "Checked in: %(child)s %(time)s (brought by %(person)s)",
            child=child.name,
            time=local_time(rec.check_in_at),
            person=person,
        ),
        "success",
    )
    for warning in warnings:
        # The child stays checked in; the caregiver follows up with the family.
        flash(flash_text(child.name, warning), "warning")
    return _to_door(rec.class_id)


@bp.post("/check-out")
@require(Perm.ATTENDANCE_WRITE)
def check_out():  # type: ignore[no-untyped-def]
    """Hand a child to an authorised adult; a name typed in instead is refused and reported."""
    child_id = _form_int("child_id")
    guardian_id = _form_int("guardian_id") if request.form.get("guardian_id") else None
    other = _form_text("other_person", MAX_NAME)
    actor, fac = current_actor(), facility()
    child = get_child(db.session, actor, child_id)
    # An UnauthorisedPickup raised here reaches the error handler, which rolls back, runs
    # its follow-up (the director's alert) and shows the refusal.
    rec = attendance.check_out(
        db.session,
        actor,
        fac,
        child,
        now=now(),
        picked_up_by_id=guardian_id,
        other_person=other or None,
    )
    care.end_naps_at_departure(db.session, actor, fac, child.id, now=now())
    person = rec.picked_up_by.name if rec.picked_up_by else ""
    db.session.commit()
    log.info("check-out child=%s by user=%s", child.id, actor.user_id)
    flash(
        _(
            "Checked out: %(child)s %(time)s (picked up by %(person)s)",
            child=child.name,
            time=local_time(rec.check_out_at),
            person=person,
        ),
        "success",
    )
    return _to_door(rec.class_id)


@bp.post("/absent")
@require(Perm.ATTENDANCE_WRITE)
def absent():  # type: ignore[no-untyped-def]
    """Record today's absence of a child, with the reason."""
    child_id = _form_int("child_id")
    reason, note = _form_text("reason", 20), _form_text("note", MAX_NOTE)
    actor, fac, at = current_actor(), facility(), now()
    child = get_child(db.session, actor, child_id)
    rec = attendance.mark_absent(
        db.session, actor, fac, child, now=at, day=today(fac, at), reason=reason, note=note
    )
    db.session.commit()
    log.info("absence child=%s reason=%s by user=%s", child.id, reason, actor.user_id)
    flash(
        _("Absent: %(child)s (%(reason)s)", child=child.name, reason=label(rec.absence_reason)),
        "success",
    )
    return _to_door(rec.class_id)


# ---------------------------------------------------------------- corrections


def _reachable_record(record_id: int) -> AttendanceRecord:
    """A record of a class the actor may reach; others look missing."""
    rec = db.session.get(AttendanceRecord, record_id)
    if rec is None or not current_actor().can_reach_class(rec.class_id):
        raise NotFound("attendance_not_found", "This attendance record does not exist.")
    return rec


@bp.route("/record/<int:record_id>/edit", methods=["GET", "POST"])
@require(Perm.ATTENDANCE_WRITE)
def edit_record(record_id: int):  # type: ignore[no-untyped-def]
    """Correct a record's check-in and check-out times; past days need a reason."""
    rec = _reachable_record(record_id)
    fac = facility()
    if request.method == "POST":
        t_in, t_out = _form_time("check_in"), _form_time("check_out")
        if t_in is None:
            raise DomainError("required", "This field is required.", field="check_in")
        reason = _form_text("reason", MAX_NOTE)
        attendance.correct_times(
            db.session,
            current_actor(),
            fac,
            rec.id,
            now=now(),
            check_in_at=at_local(fac, rec.day, t_in),
            check_out_at=at_local(fac, rec.day, t_out) if t_out else None,
            reason=reason,
        )
        db.session.commit()
        log.info("times corrected record=%s by user=%s", rec.id, current_actor().user_id)
        flash(_("Times corrected: %(child)s", child=rec.child.name), "success")
        return _to_door(rec.class_id)
    return render_template("attendance/edit.html", rec=rec, past=rec.day < today(fac, now()))


# ---------------------------------------------------------------- duty page


@dataclass
class DutyLine:
    """One staff member's line on a class's duty card."""

    staff: Staff
    duty: DutySession | None  # their open session anywhere, if any


@dataclass
class DutyBoard:
    """A class's duty card: who is on duty now and who may clock in."""

    room: ClassRoom
    status: RatioStatus
    lines: list[DutyLine] = field(default_factory=list)


def _duty_boards(rooms: list[ClassRoom], at: datetime) -> list[DutyBoard]:
    """Assigned staff employed today, plus anyone on duty in the class, per class."""
    fac = facility()
    day = today(fac, at)
    ids = [r.id for r in rooms]
    open_by_staff = {d.staff_id: d for d in staff_service.on_duty(db.session)}
    members: dict[int, dict[int, Staff]] = {cid: {} for cid in ids}
    for assignment in db.session.scalars(
        select(ClassAssignment).where(ClassAssignment.class_id.in_(ids))
    ):
        if assignment.staff.employed_on(day):
            members[assignment.class_id][assignment.staff_id] = assignment.staff
    for duty in open_by_staff.values():
        # Someone clocked in here without an assignment must still be able to clock out.
        if duty.class_id in members:
            members[duty.class_id].setdefault(duty.staff_id, duty.staff)
    statuses = live_status(db.session, fac, rooms, at)
    return [
        DutyBoard(
            room=room,
            status=statuses[room.id],
            lines=[
                DutyLine(s, open_by_staff.get(s.id))
                for s in sorted(members[room.id].values(), key=lambda s: s.name)
            ],
        )
        for room in rooms
    ]


@bp.get("/duty")
@require(Perm.ATTENDANCE_VIEW)
def duty():  # type: ignore[no-untyped-def]
    """Who is on duty in each class, with clock-in/out buttons for those who may write."""
    actor, at = current_actor(), now()
    rooms = visible_classes(db.session, facility(), actor)
    return render_template(
        "attendance/duty.html",
        boards=_duty_boards(rooms, at),
        room_names={r.id: r.name for r in rooms},
        can_write=actor.can(Perm.DUTY_WRITE),
    )


def _facility_staff(staff_id: int) -> Staff:
    """A staff member of this facility."""
    member = staff_service.get_staff(db.session, staff_id)
    if member.facility_id != facility().id:
        raise NotFound("staff_not_found", "This staff member does not exist.")
    return member


def _to_duty(class_id: int) -> Response:
    """Back to the duty page at the class's card."""
    return redirect(url_for("attendance.duty") + f"#class-{class_id}", code=303)


@bp.post("/duty/clock-in")
@require(Perm.DUTY_WRITE)
def clock_in():  # type: ignore[no-untyped-def]
    """Start a staff member's duty in a class."""
    staff_id, class_id = _form_int("staff_id"), _form_int("class_id")
    actor, at = current_actor(), now()
    member = _facility_staff(staff_id)
    duty = staff_service.clock_in(db.session, actor, facility(), member, class_id, now=at)
    db.session.commit()
    log.info("clock-in staff=%s class=%s by user=%s", member.id, class_id, actor.user_id)
    flash(
        _("On duty: %(name)s %(time)s", name=member.name, time=local_time(duty.start_at)),
        "success",
    )
    return _to_duty(class_id)


@bp.post("/duty/clock-out")
@require(Perm.DUTY_WRITE)
def clock_out():  # type: ignore[no-untyped-def]
    """End a staff member's duty."""
    staff_id = _form_int("staff_id")
    actor, at = current_actor(), now()
    member = _facility_staff(staff_id)
    duty = staff_service.clock_out(db.session, actor, facility(), member, now=at)
    class_id = duty.class_id
    db.session.commit()
    log.info("clock-out staff=%s class=%s by user=%s", member.id, class_id, actor.user_id)
    flash(_("Off duty: %(name)s %(time)s", name=member.name, time=local_time(at)), "success")
    return _to_duty(class_id)


@bp.context_processor
def _limits() -> dict[str, Any]:
    """Field limits, so the forms' maxlength matches what the views accept."""
    return {"MAX_NAME": MAX_NAME, "MAX_NOTE": MAX_NOTE}
