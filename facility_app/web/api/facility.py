"""The facility profile, its classes with live ratio status, and their breach history."""

from __future__ import annotations

import logging
from datetime import date, time, timedelta
from typing import Annotated

from pydantic import Field, model_validator

from carewatch.policy import ClassType
from facility_app.accounts.permissions import Perm
from facility_app.facility import service as facilities
from facility_app.facility.models import ClassRoom, Grade, Ownership
from facility_app.ratio.service import breaches, live_status

from ..auth import current_actor, facility, now
from ..extensions import db
from .registry import ApiError, id_rule, operation
from .responses import (
    BreachList,
    BreachOut,
    ClassList,
    ClassOut,
    ClassStatusOut,
    FacilityOut,
    RatioOut,
)
from .schemas import In, Name, Patch, Query, keep, text

log = logging.getLogger(__name__)

#: The longest breach history one request may ask for.
MAX_BREACH_DAYS = 366


Capacity = Annotated[int, Field(ge=1, le=60)]


class FacilityPatch(Patch):
    """Facility fields to change."""

    name: keep(text(120, 1)) = None
    registration_no: keep(text(60)) = None
    filing_no: keep(text(60)) = None
    grade: keep(Grade) = None
    puhui_certified: keep(bool) = None
    ownership: keep(Ownership) = None
    opening_time: keep(time) = None
    closing_time: keep(time) = None
    timezone: keep(text(40, 1)) = None
    address: keep(text(200)) = None


class ClassIn(In):
    """A new class."""

    name: Name
    class_type: ClassType
    capacity: Capacity
    room: text(60) = ""  # type: ignore[valid-type]


class ClassPatch(Patch):
    """Class fields to change."""

    name: keep(Name) = None
    class_type: keep(ClassType) = None
    capacity: keep(Capacity) = None
    room: keep(text(60)) = None


class BreachQuery(Query):
    """A date range; defaults to the last 30 days."""

    from_: date | None = Field(None, alias="from")
    to: date | None = None

    @model_validator(mode="after")
    def _range(self) -> BreachQuery:
        if self.from_ and self.to and self.from_ > self.to:
            raise ValueError("'from' must not be after 'to'")
        return self


def _class_out(room: ClassRoom) -> ClassStatusOut:
    status = live_status(db.session, facility(), [room], now())[room.id]
    return ClassStatusOut(
        **ClassOut.model_validate(room).model_dump(), status=RatioOut.model_validate(status)
    )


@operation(
    "GET",
    "/facility",
    summary="The facility profile",
    tag="facility",
    perm=Perm.CLASSES_VIEW,
    response=FacilityOut,
)
def get_facility() -> FacilityOut:
    """Name, registration and filing numbers, grade, 普惠 status, hours and time zone."""
    return FacilityOut.model_validate(facility())


@operation(
    "PATCH",
    "/facility",
    summary="Change the facility profile",
    tag="facility",
    perm=Perm.FACILITY_WRITE,
    body=FacilityPatch,
    response=FacilityOut,
)
def patch_facility(body: FacilityPatch) -> FacilityOut:
    """Opening must stay before closing; the time zone must be a known IANA name."""
    fac = facilities.update_facility(
        db.session, current_actor(), facility(), now=now(), **body.changes()
    )
    return FacilityOut.model_validate(fac)


@operation(
    "GET",
    "/classes",
    summary="Classes with live ratio status",
    tag="classes",
    perm=Perm.CLASSES_VIEW,
    response=ClassList,
    description=(
        "Active classes the caller may reach (caregivers: their own), with children present, "
        "caregivers on duty and whether ratio and size limits hold right now."
    ),
)
def list_classes() -> ClassList:
    """List the classes the caller may reach, with their live status."""
    rooms = facilities.visible_classes(db.session, facility(), current_actor())
    statuses = live_status(db.session, facility(), rooms, now())
    return ClassList(
        items=[
            ClassStatusOut(
                **ClassOut.model_validate(r).model_dump(),
                status=RatioOut.model_validate(statuses[r.id]),
            )
            for r in rooms
        ]
    )


@operation(
    "POST",
    "/classes",
    summary="Create a class",
    tag="classes",
    perm=Perm.FACILITY_WRITE,
    body=ClassIn,
    response=ClassStatusOut,
    status=201,
)
def create_class(body: ClassIn) -> ClassStatusOut:
    """Capacity may not exceed the policy's size limit for the class type."""
    room = facilities.save_class(
        db.session, current_actor(), facility(), now=now(), **body.model_dump()
    )
    return _class_out(room)


@operation(
    "PATCH",
    f"/classes/{id_rule('class_id')}",
    summary="Change a class",
    tag="classes",
    perm=Perm.FACILITY_WRITE,
    body=ClassPatch,
    response=ClassStatusOut,
)
def patch_class(class_id: int, body: ClassPatch) -> ClassStatusOut:
    """Name, type, capacity and room; the capacity is checked against the (new) type."""
    room = facilities.get_class(db.session, class_id)
    values = {
        "name": room.name,
        "class_type": room.class_type,
        "capacity": room.capacity,
        "room": room.room,
    } | body.changes()
    room = facilities.save_class(
        db.session, current_actor(), facility(), now=now(), class_id=class_id, **values
    )
    return _class_out(room)


@operation(
    "GET",
    f"/classes/{id_rule('class_id')}/breaches",
    summary="Stored breach history of a class",
    tag="classes",
    perm=Perm.CLASSES_VIEW,
    query=BreachQuery,
    response=BreachList,
    description=(
        "Periods out of ratio or over capacity between `from` and `to` (inclusive, at most a "
        "year; default the last 30 days), newest first, for the director and the inspector."
    ),
)
def class_breaches(class_id: int, query: BreachQuery) -> BreachList:
    """Stored periods out of ratio or over capacity, newest first."""
    room = facilities.get_class(db.session, class_id)
    current_actor().require_class(room.id)
    end = query.to or facilities.today(facility(), now())
    start = query.from_ or end - timedelta(days=30)
    if start > end:
        start = end
    if (end - start).days > MAX_BREACH_DAYS:
        raise ApiError(
            422,
            "invalid_input",
            "The date range is too long.",
            [{"field": "from", "message": f"at most {MAX_BREACH_DAYS} days"}],
        )
    rows = breaches(db.session, [room.id], start, end)
    return BreachList(items=[BreachOut.model_validate(b) for b in rows])
