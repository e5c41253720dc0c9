"""The response models of the API."""

from __future__ import annotations

import logging
from datetime import date, time
from typing import Any, Literal

from pydantic import AliasChoices, Field, field_validator

from carewatch.policy import ClassType
from facility_app.accounts.models import Role
from facility_app.alerts.models import AlertKind, Severity
from facility_app.attendance.models import AbsenceReason, AttendanceStatus
from facility_app.children.models import CareType, Sex
from facility_app.facility.models import Grade, Ownership
from facility_app.ratio.models import BreachKind
from facility_app.staff.models import StaffRole

from .schemas import LocalDateTime, Out

log = logging.getLogger(__name__)


class FacilityOut(Out):
    """The facility profile."""

    id: int
    name: str
    registration_no: str
    filing_no: str
    grade: Grade
    puhui_certified: bool
    ownership: Ownership
    opening_time: time
    closing_time: time
    timezone: str
    address: str


class RatioOut(Out):
    """A class's live ratio and size status."""

    present: int
    caregivers: int
    required: int
    size_limit: int
    children_per_caregiver: int
    ratio_ok: bool
    capacity_ok: bool
    ok: bool


class ClassOut(Out):
    """A class."""

    id: int
    name: str
    class_type: ClassType
    room: str
    capacity: int
    active: bool


class ClassStatusOut(ClassOut):
    """A class with its live status."""

    status: RatioOut


class ClassList(Out):
    """Classes."""

    items: list[ClassStatusOut]


class BreachOut(Out):
    """A stored period out of ratio or over capacity."""

    id: int
    class_id: int
    day: date
    kind: BreachKind
    started_at: LocalDateTime
    ended_at: LocalDateTime | None
    peak_children: int
    min_caregivers: int
    limit: int


class BreachList(Out):
    """Breach history."""

    items: list[BreachOut]


class ChildOut(Out):
    """A child."""

    id: int
    name: str
    sex: Sex
    birth_date: date
    allergies: str
    notes: str


class ChildList(Out):
    """Children."""

    items: list[ChildOut]


class EnrolmentOut(Out):
    """A child's place in a class for a period."""

    id: int
    child_id: int
    class_id: int
    care_type: CareType
    start_date: date
    end_date: date | None
    puhui_place: bool


class GuardianOut(Out):
    """A guardian or another adult who may drop off or pick up the child."""

    id: int
    child_id: int
    name: str
    relationship: str = Field(validation_alias=AliasChoices("relationship_", "relationship"))
    phone: str
    is_guardian: bool
    can_pick_up: bool
    active: bool


class ChildDetailOut(ChildOut):
    """A child with enrolments and guardians."""

    enrolments: list[EnrolmentOut]
    guardians: list[GuardianOut]


class StaffOut(Out):
    """A staff member."""

    id: int
    name: str
    role: StaffRole
    phone: str
    hire_date: date
    leave_date: date | None
    class_ids: list[int]

    @field_validator("class_ids", mode="before")
    @classmethod
    def _sorted(cls, value: Any) -> list[int]:
        return sorted(value)


class StaffList(Out):
    """Staff."""

    items: list[StaffOut]


class DutyOut(Out):
    """A duty session; open while ``end_at`` is null."""

    id: int
    staff_id: int
    class_id: int
    start_at: LocalDateTime
    end_at: LocalDateTime | None


class DutyList(Out):
    """Open duty sessions."""

    items: list[DutyOut]


class AttendanceOut(Out):
    """A child's attendance record for a day."""

    id: int
    child_id: int
    class_id: int
    day: date
    status: AttendanceStatus
    check_in_at: LocalDateTime | None
    check_out_at: LocalDateTime | None
    dropped_off_by_id: int | None
    picked_up_by_id: int | None
    absence_reason: AbsenceReason | None
    note: str
    late_pickup: bool
    missing_checkout: bool


class PickupPersonOut(Out):
    """Someone listed for a child at the door (no phone number)."""

    id: int
    name: str
    relationship: str = Field(validation_alias=AliasChoices("relationship_", "relationship"))
    can_pick_up: bool


class DoorChildOut(Out):
    """The child on a door row."""

    id: int
    name: str
    sex: Sex
    birth_date: date
    allergies: str
    pickup_persons: list[PickupPersonOut]


class DoorRowOut(Out):
    """One child's line at the door: expected, present, left or absent."""

    child: DoorChildOut
    enrolment: EnrolmentOut
    record: AttendanceOut | None
    state: Literal["expected", "present", "left", "absent"]


class DoorList(Out):
    """The door list for a day."""

    day: date
    items: list[DoorRowOut]


class AlertOut(Out):
    """An alert, with its message in the current language."""

    id: int
    kind: AlertKind
    severity: Severity
    created_at: LocalDateTime
    class_id: int | None
    child_id: int | None
    params: dict[str, Any]
    message: str
    acknowledged_at: LocalDateTime | None
    acknowledged_by_id: int | None


class AlertList(Out):
    """Alerts."""

    items: list[AlertOut]


class AuditOut(Out):
    """An audit entry."""

    id: int
    at: LocalDateTime
    user_id: int | None
    action: str
    entity: str
    entity_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str


class AuditList(Out):
    """Audit entries, newest first."""

    items: list[AuditOut]


class UserOut(Out):
    """The signed-in user."""

    id: int
    username: str
    display_name: str
    role: Role
    staff_id: int | None
    class_ids: list[int]


class SessionOut(Out):
    """Who is signed in, and the CSRF token to send as ``X-CSRFToken`` on writes."""

    authenticated: bool
    user: UserOut | None
    role: Role | None
    csrf_token: str
