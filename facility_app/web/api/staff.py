"""Staff records, their class assignments, and duty clock-in and clock-out."""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated

from pydantic import Field

from facility_app.accounts.permissions import Perm
from facility_app.staff import service as staff_service
from facility_app.staff.models import StaffRole

from ..auth import current_actor, facility, now
from ..extensions import db
from .registry import id_rule, operation
from .responses import DutyList, DutyOut, StaffList, StaffOut
from .schemas import Id, In, Name, Patch, keep, text

log = logging.getLogger(__name__)


class StaffIn(In):
    """A new staff member and the classes they are assigned to."""

    name: Name
    role: StaffRole
    hire_date: date
    leave_date: date | None = None
    phone: text(30) = ""  # type: ignore[valid-type]
    class_ids: Annotated[list[Id], Field(max_length=50)] = []


class StaffPatch(Patch):
    """Staff fields to change; ``class_ids`` replaces the assignments."""

    name: keep(Name) = None
    role: keep(StaffRole) = None
    hire_date: keep(date) = None
    leave_date: date | None = None
    phone: keep(text(30)) = None
    class_ids: keep(Annotated[list[Id], Field(max_length=50)]) = None


class ClockIn(In):
    """Who starts duty, and in which class."""

    staff_id: Id
    class_id: Id


class ClockOut(In):
    """Who ends duty."""

    staff_id: Id


@operation(
    "GET",
    "/staff",
    summary="Staff of the facility",
    tag="staff",
    perm=Perm.STAFF_VIEW,
    response=StaffList,
)
def list_staff() -> StaffList:
    """Everyone employed, past and present, with class assignments."""
    rows = staff_service.list_staff(db.session, facility())
    return StaffList(items=[StaffOut.model_validate(s) for s in rows])


@operation(
    "POST",
    "/staff",
    summary="Record a staff member",
    tag="staff",
    perm=Perm.STAFF_WRITE,
    body=StaffIn,
    response=StaffOut,
    status=201,
)
def create_staff(body: StaffIn) -> StaffOut:
    """Every class id must exist."""
    member = staff_service.save_staff(
        db.session, current_actor(), facility(), now=now(), **body.model_dump()
    )
    return StaffOut.model_validate(member)


@operation(
    "PATCH",
    f"/staff/{id_rule('staff_id')}",
    summary="Change a staff member",
    tag="staff",
    perm=Perm.STAFF_WRITE,
    body=StaffPatch,
    response=StaffOut,
)
def patch_staff(staff_id: int, body: StaffPatch) -> StaffOut:
    """Omitted fields keep their value; ``leave_date: null`` clears the leaving date."""
    member = staff_service.get_staff(db.session, staff_id)
    values = {
        "name": member.name,
        "role": member.role,
        "hire_date": member.hire_date,
        "leave_date": member.leave_date,
        "phone": member.phone,
        "class_ids": None,
    } | body.changes()
    member = staff_service.save_staff(
        db.session, current_actor(), facility(), now=now(), staff_id=staff_id, **values
    )
    return StaffOut.model_validate(member)


@operation(
    "GET",
    "/duty",
    summary="Open duty sessions",
    tag="duty",
    perm=Perm.ATTENDANCE_VIEW,
    response=DutyList,
)
def list_duty() -> DutyList:
    """Who is on duty right now, in the classes the caller may reach."""
    actor = current_actor()
    rows = [d for d in staff_service.on_duty(db.session) if actor.can_reach_class(d.class_id)]
    rows.sort(key=lambda d: (d.class_id, d.start_at))
    return DutyList(items=[DutyOut.model_validate(d) for d in rows])


@operation(
    "POST",
    "/duty/clock-in",
    summary="Start a duty session",
    tag="duty",
    perm=Perm.DUTY_WRITE,
    body=ClockIn,
    response=DutyOut,
    status=201,
    description=(
        "Nobody is on duty in two classes at once (409 on_duty_elsewhere); caregivers clock in "
        "only to their own classes."
    ),
)
def clock_in(body: ClockIn) -> DutyOut:
    """Start a staff member's duty session in a class."""
    member = staff_service.get_staff(db.session, body.staff_id)
    duty = staff_service.clock_in(
        db.session, current_actor(), facility(), member, body.class_id, now=now()
    )
    return DutyOut.model_validate(duty)


@operation(
    "POST",
    "/duty/clock-out",
    summary="End a duty session",
    tag="duty",
    perm=Perm.DUTY_WRITE,
    body=ClockOut,
    response=DutyOut,
)
def clock_out(body: ClockOut) -> DutyOut:
    """Ends the staff member's open session (409 not_on_duty if there is none)."""
    member = staff_service.get_staff(db.session, body.staff_id)
    duty = staff_service.clock_out(db.session, current_actor(), facility(), member, now=now())
    return DutyOut.model_validate(duty)
