"""Attendance at the door: the day's list, check-in, check-out, absences and corrections."""

from __future__ import annotations

import logging
from datetime import date
from typing import Literal

from pydantic import AwareDatetime, model_validator

from facility_app.accounts.permissions import Perm
from facility_app.attendance import service as attendance
from facility_app.attendance.models import AbsenceReason, AttendanceRecord
from facility_app.attendance.service import DoorRow
from facility_app.care import service as care
from facility_app.children.service import get_child
from facility_app.facility.service import get_class, today, visible_classes
from facility_app.health import admission
from facility_app.health.access import record_read

from ..admission_warnings import door_warnings
from ..auth import current_actor, facility, now
from ..extensions import db
from .registry import id_rule, operation
from .responses import (
    AttendanceOut,
    DoorChildOut,
    DoorList,
    DoorRowOut,
    EnrolmentOut,
    PickupPersonOut,
)
from .schemas import Id, In, Out, Patch, Query, Reason, keep, text

log = logging.getLogger(__name__)


class DoorQuery(Query):
    """Which day (default today) and which class (default all the caller may reach)."""

    day: date | None = None
    class_id: Id | None = None


class CheckIn(In):
    """The child, and the listed adult who brought them."""

    child_id: Id
    dropped_off_by_id: Id


class CheckOut(In):
    """The child, and who collects them: a listed adult by id, or anyone else by name."""

    child_id: Id
    picked_up_by_id: Id | None = None
    other_person: text(60, 1) | None = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _one_person(self) -> CheckOut:
        if self.picked_up_by_id is not None and self.other_person is not None:
            raise ValueError("give either picked_up_by_id or other_person, not both")
        return self


class Absence(In):
    """An absence; a past day needs ``correction_reason``."""

    child_id: Id
    day: date | None = None
    reason: AbsenceReason
    note: Reason = ""
    correction_reason: Reason = ""


class AttendancePatch(Patch):
    """Corrected times (with their offset) and why."""

    check_in_at: keep(AwareDatetime) = None
    check_out_at: AwareDatetime | None = None
    reason: Reason = ""


class CheckInWarning(Out):
    """Admission paperwork the child still lacks; the check-in stands regardless."""

    code: Literal[
        "admission_exam_missing",
        "admission_exam_too_old",
        "admission_exam_not_fit",
        "vaccinations_missing",
        "return_exam_missing",
    ]
    message: str


class CheckInOut(AttendanceOut):
    """The day's record, with warnings about missing admission paperwork."""

    warnings: list[CheckInWarning] = []


def _row_out(row: DoorRow) -> DoorRowOut:
    child = row.child
    return DoorRowOut(
        child=DoorChildOut(
            id=child.id,
            name=child.name,
            sex=child.sex,
            birth_date=child.birth_date,
            allergies=child.allergies,
            pickup_persons=[PickupPersonOut.model_validate(g) for g in child.guardians if g.active],
        ),
        enrolment=EnrolmentOut.model_validate(row.enrolment),
        record=AttendanceOut.model_validate(row.record) if row.record else None,
        state=row.state,  # type: ignore[arg-type]
    )


@operation(
    "GET",
    "/attendance",
    summary="The door list for a day",
    tag="attendance",
    perm=Perm.ATTENDANCE_VIEW,
    query=DoorQuery,
    response=DoorList,
    description=(
        "Every child enrolled that day with their record and state (expected, present, left, "
        "absent); a class the caller may not reach is refused (403)."
    ),
)
def door_list(query: DoorQuery) -> DoorList:
    """Every child enrolled that day with their record and state."""
    actor, fac = current_actor(), facility()
    day = query.day or today(fac, now())
    if query.class_id is not None:
        actor.require_class(get_class(db.session, query.class_id).id)
        ids = [query.class_id]
    else:
        ids = [r.id for r in visible_classes(db.session, fac, actor)]
    rows = attendance.door_rows(db.session, actor, fac, day, ids)
    return DoorList(day=day, items=[_row_out(r) for r in rows])


@operation(
    "POST",
    "/attendance/check-in",
    summary="Check a child in now",
    tag="attendance",
    perm=Perm.ATTENDANCE_WRITE,
    body=CheckIn,
    response=CheckInOut,
    status=201,
    description=(
        "The child must be enrolled today (422 not_enrolled_today) and not yet in (409 "
        "already_checked_in); the adult must be listed for the child (422 unknown_person). "
        "A child without a valid admission exam, with vaccinations missing for their age or "
        "back after a long absence without a new exam is still checked in; ``warnings`` "
        "says what the family must hand in."
    ),
)
def check_in(body: CheckIn) -> CheckInOut:
    """Check a child in, recording the listed adult who brought them."""
    actor, fac = current_actor(), facility()
    child = get_child(db.session, actor, body.child_id, on=today(fac, now()))
    warnings = []
    if actor.can(Perm.HEALTH_VIEW):
        warnings = door_warnings(admission.status(db.session, fac, child, today(fac, now())))
    if warnings:
        # Committed with the check-in that shows them, or not at all.
        record_read(db.session, actor, now(), child_id=child.id, section="door_admission")
    rec = attendance.check_in(
        db.session, actor, fac, child, now=now(), dropped_off_by_id=body.dropped_off_by_id
    )
    out = CheckInOut.model_validate(rec)
    out.warnings = [CheckInWarning(code=w.code, message=w.message) for w in warnings]  # type: ignore[arg-type]
    return out


@operation(
    "POST",
    "/attendance/check-out",
    summary="Hand a child over",
    tag="attendance",
    perm=Perm.ATTENDANCE_WRITE,
    body=CheckOut,
    response=AttendanceOut,
    description=(
        "Anyone not authorised is refused (403 unauthorised_pickup), an alert is raised and the "
        "child stays checked in; no check-in today gives 409 not_checked_in."
    ),
)
def check_out(body: CheckOut) -> AttendanceOut:
    """Hand a child over to an authorised adult, or refuse and alert."""
    actor, fac = current_actor(), facility()
    child = get_child(db.session, actor, body.child_id, on=today(fac, now()))
    rec = attendance.check_out(
        db.session,
        actor,
        fac,
        child,
        now=now(),
        picked_up_by_id=body.picked_up_by_id,
        other_person=body.other_person,
    )
    care.end_naps_at_departure(db.session, actor, fac, child.id, now=now())
    return AttendanceOut.model_validate(rec)


@operation(
    "POST",
    "/attendance/absence",
    summary="Record an absence",
    tag="attendance",
    perm=Perm.ATTENDANCE_WRITE,
    body=Absence,
    response=AttendanceOut,
    status=201,
)
def absence(body: Absence) -> AttendanceOut:
    """On the day or after (default today); a past day needs ``correction_reason``."""
    actor, fac = current_actor(), facility()
    day = body.day or today(fac, now())
    child = get_child(db.session, actor, body.child_id, on=day)
    rec = attendance.mark_absent(
        db.session,
        actor,
        fac,
        child,
        now=now(),
        day=day,
        reason=body.reason,
        note=body.note,
        correction_reason=body.correction_reason,
    )
    return AttendanceOut.model_validate(rec)


@operation(
    "PATCH",
    f"/attendance/{id_rule('record_id')}",
    summary="Correct check-in/out times",
    tag="attendance",
    perm=Perm.ATTENDANCE_WRITE,
    body=AttendancePatch,
    response=AttendanceOut,
)
def correct(record_id: int, body: AttendancePatch) -> AttendanceOut:
    """A check-out before the check-in is refused (422); a past day needs ``reason``."""
    rec = db.session.get(AttendanceRecord, record_id)
    changes = body.changes()
    rec = attendance.correct_times(
        db.session,
        current_actor(),
        facility(),
        record_id,
        now=now(),
        check_in_at=changes.get("check_in_at", rec.check_in_at if rec else None),
        check_out_at=changes.get("check_out_at", rec.check_out_at if rec else None),
        reason=body.reason,
    )
    return AttendanceOut.model_validate(rec)
