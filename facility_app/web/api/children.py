"""Children, their enrolments and the adults who may drop them off or pick them up."""

from __future__ import annotations

import logging
from datetime import date

from carewatch.errors import NotFound
from facility_app.accounts.permissions import Perm
from facility_app.children import service as children
from facility_app.children.models import CareType, Enrolment, Guardian, Sex
from facility_app.facility.service import today

from ..auth import current_actor, facility, now
from ..extensions import db
from .registry import id_rule, operation
from .responses import ChildDetailOut, ChildList, ChildOut, EnrolmentOut, GuardianOut
from .schemas import Id, In, Name, Patch, Reason, keep, text

log = logging.getLogger(__name__)


class ChildIn(In):
    """A new child."""

    name: Name
    sex: Sex
    birth_date: date
    allergies: text(500) = ""  # type: ignore[valid-type]
    notes: text(1000) = ""  # type: ignore[valid-type]


class ChildPatch(Patch):
    """Child fields to change, with an optional reason for the audit log."""

    name: keep(Name) = None
    sex: keep(Sex) = None
    birth_date: keep(date) = None
    allergies: keep(text(500)) = None
    notes: keep(text(1000)) = None
    reason: keep(Reason) = None


class EnrolmentIn(In):
    """A period in a class."""

    class_id: Id
    care_type: CareType
    start_date: date
    end_date: date | None = None
    puhui_place: bool = False


class EnrolmentPatch(In):
    """The last day of an enrolment."""

    end_date: date
    reason: Reason = ""


class GuardianIn(In):
    """A guardian or another adult allowed to drop off or pick up the child."""

    name: Name
    relationship: text(30, 1)  # type: ignore[valid-type]
    phone: text(30) = ""  # type: ignore[valid-type]
    is_guardian: bool = True
    can_pick_up: bool = True
    active: bool = True


class GuardianPatch(Patch):
    """Guardian fields to change."""

    name: keep(Name) = None
    relationship: keep(text(30, 1)) = None
    phone: keep(text(30)) = None
    is_guardian: keep(bool) = None
    can_pick_up: keep(bool) = None
    active: keep(bool) = None


def _detail(child_id: int) -> ChildDetailOut:
    actor = current_actor()
    on = today(facility(), now()) if actor.class_scoped else None
    child = children.get_child(db.session, actor, child_id, on=on)
    db.session.refresh(child)
    return ChildDetailOut.model_validate(child)


@operation(
    "GET",
    "/children",
    summary="Children the caller may see",
    tag="children",
    perm=Perm.CHILDREN_VIEW,
    response=ChildList,
    description=(
        "Everyone for managers and health officers; children enrolled today in their classes for "
        "caregivers."
    ),
)
def list_children() -> ChildList:
    """List the children the caller may see."""
    rows = children.list_children(db.session, current_actor(), facility(), today(facility(), now()))
    return ChildList(items=[ChildOut.model_validate(c) for c in rows])


@operation(
    "POST",
    "/children",
    summary="Record a child",
    tag="children",
    perm=Perm.CHILDREN_WRITE,
    body=ChildIn,
    response=ChildDetailOut,
    status=201,
)
def create_child(body: ChildIn) -> ChildDetailOut:
    """The birth date may be neither in the future nor implausibly long ago."""
    child = children.save_child(
        db.session, current_actor(), facility(), now=now(), **body.model_dump()
    )
    return _detail(child.id)


@operation(
    "GET",
    f"/children/{id_rule('child_id')}",
    summary="A child with enrolments and guardians",
    tag="children",
    perm=Perm.CHILDREN_VIEW,
    response=ChildDetailOut,
)
def get_child(child_id: int) -> ChildDetailOut:
    """Caregivers reach only children enrolled today in their classes (else 404)."""
    return _detail(child_id)


@operation(
    "PATCH",
    f"/children/{id_rule('child_id')}",
    summary="Change a child's record",
    tag="children",
    perm=Perm.CHILDREN_WRITE,
    body=ChildPatch,
    response=ChildDetailOut,
)
def patch_child(child_id: int, body: ChildPatch) -> ChildDetailOut:
    """Omitted fields keep their value; ``reason`` goes to the audit log."""
    child = children.get_child(db.session, current_actor(), child_id)
    values = {
        "name": child.name,
        "sex": child.sex,
        "birth_date": child.birth_date,
        "allergies": child.allergies,
        "notes": child.notes,
        "reason": "",
    } | body.changes()
    children.save_child(
        db.session, current_actor(), facility(), now=now(), child_id=child.id, **values
    )
    return _detail(child.id)


@operation(
    "POST",
    f"/children/{id_rule('child_id')}/enrolments",
    summary="Enrol a child in a class",
    tag="children",
    perm=Perm.CHILDREN_WRITE,
    body=EnrolmentIn,
    response=EnrolmentOut,
    status=201,
)
def create_enrolment(child_id: int, body: EnrolmentIn) -> EnrolmentOut:
    """The child's age on the first day must fit the class type; periods may not overlap."""
    child = children.get_child(db.session, current_actor(), child_id)
    enrolment = children.add_enrolment(
        db.session, current_actor(), facility(), child, now=now(), **body.model_dump()
    )
    return EnrolmentOut.model_validate(enrolment)


@operation(
    "PATCH",
    f"/enrolments/{id_rule('enrolment_id')}",
    summary="End an enrolment",
    tag="children",
    perm=Perm.CHILDREN_WRITE,
    body=EnrolmentPatch,
    response=EnrolmentOut,
)
def patch_enrolment(enrolment_id: int, body: EnrolmentPatch) -> EnrolmentOut:
    """Sets the last day; it may not precede the start or run into another enrolment."""
    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None:
        raise NotFound("enrolment_not_found", "This enrolment does not exist.")
    children.end_enrolment(
        db.session,
        current_actor(),
        enrolment,
        now=now(),
        end_date=body.end_date,
        reason=body.reason,
    )
    return EnrolmentOut.model_validate(enrolment)


@operation(
    "POST",
    f"/children/{id_rule('child_id')}/guardians",
    summary="Add a guardian or pick-up person",
    tag="children",
    perm=Perm.CHILDREN_WRITE,
    body=GuardianIn,
    response=GuardianOut,
    status=201,
)
def create_guardian(child_id: int, body: GuardianIn) -> GuardianOut:
    """Only people with ``can_pick_up`` may take the child home."""
    child = children.get_child(db.session, current_actor(), child_id)
    guardian = children.save_guardian(
        db.session, current_actor(), child, now=now(), **body.model_dump()
    )
    return GuardianOut.model_validate(guardian)


@operation(
    "PATCH",
    f"/guardians/{id_rule('guardian_id')}",
    summary="Change a guardian",
    tag="children",
    perm=Perm.CHILDREN_WRITE,
    body=GuardianPatch,
    response=GuardianOut,
)
def patch_guardian(guardian_id: int, body: GuardianPatch) -> GuardianOut:
    """Withdraw pick-up permission with ``can_pick_up: false`` or ``active: false``."""
    guardian = db.session.get(Guardian, guardian_id)
    if guardian is None:
        raise NotFound("guardian_not_found", "This person is not listed for this child.")
    values = {
        "name": guardian.name,
        "relationship": guardian.relationship_,
        "phone": guardian.phone,
        "is_guardian": guardian.is_guardian,
        "can_pick_up": guardian.can_pick_up,
        "active": guardian.active,
    } | body.changes()
    children.save_guardian(
        db.session,
        current_actor(),
        guardian.child,
        now=now(),
        guardian_id=guardian.id,
        **values,
    )
    return GuardianOut.model_validate(guardian)
