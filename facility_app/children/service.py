"""Enrolling children, their guardians and who may pick them up."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from carewatch import validate
from carewatch.errors import Conflict, DomainError, NotFound
from carewatch.policy import ClassType
from facility_app.accounts.permissions import Actor, Perm
from facility_app.audit import service as audit
from facility_app.children.models import CareType, Child, Enrolment, Guardian, Sex
from facility_app.facility.models import ClassRoom, Facility
from facility_app.facility.service import get_class, today
from facility_app.ratio.rules import age_fits, age_in_months

log = logging.getLogger(__name__)

MAX_NAME = 60


def _name(value: str, field: str = "name") -> str:
    return validate.text(value, field=field, limit=MAX_NAME, required=True)


def _text(value: str | None, limit: int, field: str) -> str:
    return validate.text(value, field=field, limit=limit)


def check_birth_date(facility: Facility, birth_date: date, on: date) -> None:
    """Refuse birth dates in the future or too far back for a centre for under-threes."""
    if birth_date > on:
        raise DomainError(
            "birth_date_in_future", "The birth date is in the future.", field="birth_date"
        )
    limit = facility.policy().attendance.max_child_age_months
    if age_in_months(birth_date, on) >= limit:
        raise DomainError(
            "birth_date_implausible",
            "A child born on this date would be %(months)s months old; please check the date.",
            field="birth_date",
            months=age_in_months(birth_date, on),
        )


def get_child(session: Session, actor: Actor, child_id: int, on: date | None = None) -> Child:
    """A child the actor may see (caregivers: only children of their classes)."""
    if not (actor.can(Perm.CHILDREN_VIEW) or actor.can(Perm.ATTENDANCE_VIEW)):
        actor.require(Perm.CHILDREN_VIEW)
    # One round trip for the child and the two small collections every caller reads.
    child = session.get(
        Child, child_id, options=[joinedload(Child.enrolments), joinedload(Child.guardians)]
    )
    if child is None:
        raise NotFound("child_not_found", "This child does not exist.")
    if actor.class_scoped:
        classes = {e.class_id for e in child.enrolments if on is None or e.covers(on)}
        if not classes & actor.class_ids:
            # Same answer as a missing child, so ids of other classes leak nothing.
            raise NotFound("child_not_found", "This child does not exist.")
    return child


def enrolled_children(
    session: Session, class_ids: list[int] | None, day: date
) -> list[tuple[Child, Enrolment]]:
    """Children with an enrolment in force on a day, optionally in given classes."""
    stmt = (
        select(Enrolment)
        .where(
            Enrolment.start_date <= day,
            (Enrolment.end_date.is_(None)) | (Enrolment.end_date >= day),
        )
        .options(selectinload(Enrolment.child).selectinload(Child.guardians))
    )
    if class_ids is not None:
        stmt = stmt.where(Enrolment.class_id.in_(class_ids))
    rows = [(e.child, e) for e in session.scalars(stmt)]
    rows.sort(key=lambda pair: (pair[1].class_id, pair[0].name))
    return rows


def list_children(session: Session, actor: Actor, facility: Facility, on: date) -> list[Child]:
    """Children the actor may see: everyone for managers, their classes for caregivers."""
    actor.require(Perm.CHILDREN_VIEW)
    if actor.class_scoped:
        return [c for c, _ in enrolled_children(session, sorted(actor.class_ids), on)]
    stmt = (
        select(Child)
        .where(Child.facility_id == facility.id)
        .options(selectinload(Child.enrolments))
        .order_by(Child.name)
    )
    return list(session.scalars(stmt))


def save_child(
    session: Session,
    actor: Actor,
    facility: Facility,
    *,
    now: datetime,
    name: str,
    sex: Sex | str,
    birth_date: date,
    allergies: str = "",
    notes: str = "",
    child_id: int | None = None,
    reason: str = "",
) -> Child:
    """Create or change a child's record."""
    actor.require(Perm.CHILDREN_WRITE)
    name = _name(name)
    try:
        sex = Sex(sex)
    except ValueError:
        raise DomainError("invalid_sex", "Choose female or male.", field="sex") from None
    check_birth_date(facility, birth_date, today(facility, now))
    allergies = _text(allergies, 500, "allergies")
    notes = _text(notes, 1000, "notes")
    if child_id is None:
        child = Child(facility_id=facility.id)
        session.add(child)
        before = None
    else:
        child = session.get(Child, child_id)
        if child is None:
            raise NotFound("child_not_found", "This child does not exist.")
        before = audit.snapshot(child)
    child.name, child.sex, child.birth_date = name, sex, birth_date
    child.allergies, child.notes = allergies, notes
    audit.log_change(
        session,
        actor,
        now,
        "create" if before is None else "update",
        "child",
        child,
        before=before,
        reason=reason,
    )
    return child


def add_enrolment(
    session: Session,
    actor: Actor,
    facility: Facility,
    child: Child,
    *,
    now: datetime,
    class_id: int,
    care_type: CareType | str,
    start_date: date,
    end_date: date | None = None,
    puhui_place: bool = False,
) -> Enrolment:
    """Enrol a child in a class for a period; periods may not overlap and the age must fit."""
    actor.require(Perm.CHILDREN_WRITE)
    room: ClassRoom = get_class(session, class_id)
    try:
        care_type = CareType(care_type)
    except ValueError:
        raise DomainError("invalid_care_type", "Unknown care type.", field="care_type") from None
    if end_date is not None and end_date < start_date:
        raise DomainError(
            "end_before_start", "The enrolment ends before it starts.", field="end_date"
        )
    if start_date < child.birth_date:
        raise DomainError(
            "start_before_birth",
            "The enrolment starts before the child was born.",
            field="start_date",
        )
    rule = facility.policy().class_rule(room.class_type)
    if not age_fits(child.birth_date, start_date, rule):
        months = age_in_months(child.birth_date, start_date)
        code = "too_young_for_class" if months < rule.min_age_months else "too_old_for_class"
        raise DomainError(
            code,
            "On %(day)s the child is %(months)s months old; this class takes children of "
            "%(min)s to %(max)s months.",
            field="class_id",
            day=start_date.isoformat(),
            months=months,
            min=rule.min_age_months,
            max=rule.max_age_months,
        )
    far = date.max
    for other in child.enrolments:
        if other.start_date <= (end_date or far) and start_date <= (other.end_date or far):
            raise Conflict(
                "overlapping_enrolment",
                "This period overlaps the child's enrolment from %(start)s.",
                field="start_date",
                start=other.start_date.isoformat(),
            )
    enrolment = Enrolment(
        child=child,
        class_id=room.id,
        care_type=care_type,
        start_date=start_date,
        end_date=end_date,
        puhui_place=puhui_place,
    )
    session.add(enrolment)
    audit.log_change(session, actor, now, "create", "enrolment", enrolment)
    return enrolment


def end_enrolment(
    session: Session,
    actor: Actor,
    enrolment: Enrolment,
    *,
    now: datetime,
    end_date: date,
    reason: str = "",
) -> Enrolment:
    """Set the last day of an enrolment."""
    actor.require(Perm.CHILDREN_WRITE)
    if end_date < enrolment.start_date:
        raise DomainError(
            "end_before_start", "The enrolment ends before it starts.", field="end_date"
        )
    for other in enrolment.child.enrolments:
        # Moving the end later must not run into the child's next enrolment.
        if (
            other.id != enrolment.id
            and other.start_date <= end_date
            and enrolment.start_date <= (other.end_date or date.max)
        ):
            raise Conflict(
                "overlapping_enrolment",
                "This period overlaps the child's enrolment from %(start)s.",
                field="end_date",
                start=other.start_date.isoformat(),
            )
    before = audit.snapshot(enrolment)
    enrolment.end_date = end_date
    audit.log_change(
        session, actor, now, "update", "enrolment", enrolment, before=before, reason=reason
    )
    return enrolment


def save_guardian(
    session: Session,
    actor: Actor,
    child: Child,
    *,
    now: datetime,
    name: str,
    relationship: str,
    phone: str = "",
    is_guardian: bool = True,
    can_pick_up: bool = True,
    active: bool = True,
    guardian_id: int | None = None,
) -> Guardian:
    """Add or change a guardian or authorised pick-up person of a child."""
    actor.require(Perm.CHILDREN_WRITE)
    name = _name(name)
    relationship = _name(relationship, "relationship")[:30]
    phone = _text(phone, 30, "phone")
    if guardian_id is None:
        guardian = Guardian(child=child)
        session.add(guardian)
        before = None
    else:
        guardian = session.get(Guardian, guardian_id)
        if guardian is None or guardian.child_id != child.id:
            raise NotFound("guardian_not_found", "This person is not listed for this child.")
        before = audit.snapshot(guardian)
    guardian.name, guardian.relationship_, guardian.phone = name, relationship, phone
    guardian.is_guardian, guardian.can_pick_up, guardian.active = is_guardian, can_pick_up, active
    audit.log_change(
        session,
        actor,
        now,
        "create" if before is None else "update",
        "guardian",
        guardian,
        before=before,
    )
    return guardian


def misfits(
    facility: Facility,
    pairs: Iterable[tuple[Child, Enrolment]],
    class_types: dict[int, ClassType],
    day: date,
) -> list[tuple[Child, Enrolment, int]]:
    """The (child, enrolment, age in months) whose age on a day does not fit the class type."""
    policy = facility.policy()
    return [
        (child, enrolment, age_in_months(child.birth_date, day))
        for child, enrolment in pairs
        if not age_fits(child.birth_date, day, policy.class_rule(class_types[enrolment.class_id]))
    ]


def age_mismatches(
    session: Session, facility: Facility, day: date, class_ids: list[int] | None = None
) -> list[tuple[Child, Enrolment, int]]:
    """Enrolled children whose age on a day does not fit their class type."""
    types = {r.id: r.class_type for r in facility.classes}
    return misfits(facility, enrolled_children(session, class_ids, day), types, day)
