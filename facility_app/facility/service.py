"""The facility profile, its classes and its service calendar."""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from carewatch.clock import local_date, local_datetime
from carewatch.errors import Conflict, DomainError, NotFound
from carewatch.policy import ClassType
from facility_app.accounts.permissions import Actor, Perm
from facility_app.audit import service as audit
from facility_app.facility.models import ClassRoom, ClosedDay, Facility, Grade, Ownership

log = logging.getLogger(__name__)


def get_facility(session: Session) -> Facility:
    """The facility this installation serves."""
    facility = session.scalar(
        select(Facility).options(joinedload(Facility.policy_profile)).order_by(Facility.id).limit(1)
    )
    if facility is None:
        raise NotFound("no_facility", "No facility is set up yet. Run 'carewatch demo seed'.")
    return facility


def today(facility: Facility, now: datetime) -> date:
    """The facility's calendar date at an instant."""
    return local_date(now, facility.timezone)


def at_local(facility: Facility, day: date, t: time) -> datetime:
    """A local time of day on a date, as UTC."""
    return local_datetime(day, t, facility.timezone)


def is_service_day(session: Session, facility: Facility, day: date) -> bool:
    """Whether the facility serves children on a day (a service weekday and not closed)."""
    if day.weekday() not in facility.policy().attendance.service_weekdays:
        return False
    closed = session.scalar(
        select(ClosedDay.id).where(ClosedDay.facility_id == facility.id, ClosedDay.day == day)
    )
    return closed is None


def service_days(session: Session, facility: Facility, start: date, end: date) -> list[date]:
    """Service days in [start, end]."""
    from datetime import timedelta

    weekdays = set(facility.policy().attendance.service_weekdays)
    closed = set(
        session.scalars(
            select(ClosedDay.day).where(
                ClosedDay.facility_id == facility.id, ClosedDay.day.between(start, end)
            )
        )
    )
    out, d = [], start
    while d <= end:
        if d.weekday() in weekdays and d not in closed:
            out.append(d)
        d += timedelta(days=1)
    return out


def get_class(session: Session, class_id: int) -> ClassRoom:
    """A class by id."""
    room = session.get(ClassRoom, class_id)
    if room is None:
        raise NotFound("class_not_found", "This class does not exist.")
    return room


def visible_classes(session: Session, facility: Facility, actor: Actor) -> list[ClassRoom]:
    """Active classes the actor may reach, in display order."""
    rooms = session.scalars(
        select(ClassRoom)
        .where(ClassRoom.facility_id == facility.id, ClassRoom.active.is_(True))
        .order_by(ClassRoom.id)
    )
    return [r for r in rooms if actor.can_reach_class(r.id)]


def save_class(
    session: Session,
    actor: Actor,
    facility: Facility,
    *,
    now: datetime,
    name: str,
    class_type: ClassType | str,
    capacity: int,
    room: str = "",
    class_id: int | None = None,
) -> ClassRoom:
    """Create or change a class; its capacity may not exceed the policy's size limit."""
    actor.require(Perm.FACILITY_WRITE)
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise DomainError("invalid_name", "Class name must be 1–60 characters.", field="name")
    try:
        ctype = ClassType(class_type)
    except ValueError:
        raise DomainError("invalid_class_type", "Unknown class type.", field="class_type") from None
    limit = facility.policy().class_rule(ctype).max_children
    if capacity < 1 or capacity > limit:
        raise DomainError(
            "capacity_over_limit",
            "Capacity must be between 1 and %(limit)s for this class type.",
            field="capacity",
            limit=limit,
        )
    clash = session.scalar(
        select(ClassRoom.id).where(
            ClassRoom.facility_id == facility.id, ClassRoom.name == name, ClassRoom.id != class_id
        )
    )
    if clash is not None:
        raise Conflict("class_name_taken", "Another class already has this name.", field="name")
    if class_id is None:
        room_obj = ClassRoom(facility_id=facility.id)
        session.add(room_obj)
        before = None
    else:
        room_obj = get_class(session, class_id)
        before = audit.snapshot(room_obj)
    room_obj.name, room_obj.class_type, room_obj.capacity = name, ctype, capacity
    room_obj.room = (room or "").strip()[:60]
    audit.log_change(
        session,
        actor,
        now,
        "create" if before is None else "update",
        "class",
        room_obj,
        before=before,
    )
    return room_obj


_FACILITY_TEXT_LIMITS = {"name": 120, "registration_no": 60, "filing_no": 60, "address": 200}
_FACILITY_FIELDS = {
    *_FACILITY_TEXT_LIMITS,
    "grade",
    "ownership",
    "puhui_certified",
    "opening_time",
    "closing_time",
    "timezone",
}


def _facility_values(facility: Facility, fields: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, limit in _FACILITY_TEXT_LIMITS.items():
        if key in fields:
            text = (fields[key] or "").strip()
            if len(text) > limit:
                raise DomainError(
                    "too_long", "At most %(n)s characters are allowed.", field=key, n=limit
                )
            values[key] = text
    if "name" in values and not values["name"]:
        raise DomainError("required", "This field is required.", field="name")
    for key, enum_cls in (("grade", Grade), ("ownership", Ownership)):
        if key in fields:
            try:
                values[key] = enum_cls(fields[key])
            except ValueError:
                raise DomainError(
                    "invalid_choice", "Choose one of the options.", field=key
                ) from None
    if "puhui_certified" in fields:
        values["puhui_certified"] = bool(fields["puhui_certified"])
    for key in ("opening_time", "closing_time"):
        if key in fields:
            if not isinstance(fields[key], time):
                raise DomainError("invalid_time", "Enter a time as HH:MM.", field=key)
            values[key] = fields[key].replace(second=0, microsecond=0)
    opening = values.get("opening_time", facility.opening_time)
    closing = values.get("closing_time", facility.closing_time)
    if opening >= closing:
        raise DomainError(
            "closing_before_opening",
            "The opening time must be before the closing time.",
            field="closing_time",
        )
    if "timezone" in fields:
        zone = (fields["timezone"] or "").strip()
        if len(zone) > 40 or zone not in available_timezones():
            raise DomainError(
                "invalid_timezone",
                "Unknown time zone; use a name such as Asia/Shanghai.",
                field="timezone",
            )
        values["timezone"] = zone
    return values


def update_facility(
    session: Session, actor: Actor, facility: Facility, *, now: datetime, **fields: Any
) -> Facility:
    """Change the facility profile (name, numbers, grade, hours, time zone) and audit it."""
    actor.require(Perm.FACILITY_WRITE)
    unknown = set(fields) - _FACILITY_FIELDS
    if unknown:
        raise TypeError(f"update_facility() got unknown fields: {sorted(unknown)}")
    values = _facility_values(facility, fields)
    before = audit.snapshot(facility)
    for key, value in values.items():
        setattr(facility, key, value)
    session.flush()
    after = audit.snapshot(facility)
    if after != before:
        audit.record(
            session,
            at=now,
            user_id=actor.user_id,
            action="update",
            entity="facility",
            entity_id=facility.id,
            before=before,
            after=after,
        )
    return facility
