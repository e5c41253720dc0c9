"""Who may do what: one table for the whole app, checked by every endpoint."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from carewatch.errors import Forbidden
from facility_app.accounts.models import Role


class Perm(enum.StrEnum):
    """A permission an endpoint requires."""

    DASHBOARD_VIEW = "dashboard.view"
    ATTENDANCE_VIEW = "attendance.view"
    ATTENDANCE_WRITE = "attendance.write"
    CHILDREN_VIEW = "children.view"
    CHILDREN_WRITE = "children.write"
    STAFF_VIEW = "staff.view"
    STAFF_WRITE = "staff.write"
    DUTY_WRITE = "duty.write"
    CLASSES_VIEW = "classes.view"
    FACILITY_WRITE = "facility.write"
    ALERTS_VIEW = "alerts.view"
    ALERTS_ACK = "alerts.ack"
    AUDIT_VIEW = "audit.view"
    USERS_MANAGE = "users.manage"
    ACCOUNT_SELF = "account.self"
    CARE_VIEW = "care.view"
    CARE_WRITE = "care.write"
    KITCHEN_VIEW = "kitchen.view"
    KITCHEN_WRITE = "kitchen.write"
    KITCHEN_PLAN = "kitchen.plan"
    HYGIENE_VIEW = "hygiene.view"
    HYGIENE_WRITE = "hygiene.write"
    HYGIENE_PLAN = "hygiene.plan"
    HEALTH_VIEW = "health.view"
    HEALTH_CHECK = "health.check"
    HEALTH_WRITE = "health.write"
    CCTV_VIEW = "cctv.view"
    CCTV_WRITE = "cctv.write"
    FINANCE_VIEW = "finance.view"
    FINANCE_WRITE = "finance.write"


_ALL_READ = {Role.ADMIN, Role.DIRECTOR, Role.CAREGIVER, Role.HEALTH_OFFICER, Role.REGULATOR}
_MANAGERS = {Role.ADMIN, Role.DIRECTOR}

MATRIX: dict[Perm, frozenset[Role]] = {
    Perm.DASHBOARD_VIEW: frozenset(_MANAGERS | {Role.HEALTH_OFFICER, Role.REGULATOR}),
    Perm.ATTENDANCE_VIEW: frozenset(_ALL_READ),
    Perm.ATTENDANCE_WRITE: frozenset(_MANAGERS | {Role.CAREGIVER}),
    Perm.CHILDREN_VIEW: frozenset(_MANAGERS | {Role.CAREGIVER, Role.HEALTH_OFFICER}),
    Perm.CHILDREN_WRITE: frozenset(_MANAGERS),
    Perm.STAFF_VIEW: frozenset(_MANAGERS | {Role.HEALTH_OFFICER, Role.REGULATOR}),
    Perm.STAFF_WRITE: frozenset(_MANAGERS),
    Perm.DUTY_WRITE: frozenset(_MANAGERS | {Role.CAREGIVER}),
    Perm.CLASSES_VIEW: frozenset(_ALL_READ),
    Perm.FACILITY_WRITE: frozenset(_MANAGERS),
    Perm.ALERTS_VIEW: frozenset(_MANAGERS | {Role.HEALTH_OFFICER, Role.REGULATOR}),
    Perm.ALERTS_ACK: frozenset(_MANAGERS),
    Perm.AUDIT_VIEW: frozenset(_MANAGERS | {Role.REGULATOR}),
    Perm.USERS_MANAGE: frozenset({Role.ADMIN}),
    Perm.ACCOUNT_SELF: frozenset(_ALL_READ),
    # The care log names children and their bodily care: it stays inside the facility.
    Perm.CARE_VIEW: frozenset(_MANAGERS | {Role.CAREGIVER, Role.HEALTH_OFFICER}),
    Perm.CARE_WRITE: frozenset(_MANAGERS | {Role.CAREGIVER}),
    # Meals name children (allergies, what they ate); samples and menus are kitchen work.
    Perm.KITCHEN_VIEW: frozenset(_MANAGERS | {Role.CAREGIVER, Role.HEALTH_OFFICER}),
    Perm.KITCHEN_WRITE: frozenset(_MANAGERS | {Role.CAREGIVER, Role.HEALTH_OFFICER}),
    Perm.KITCHEN_PLAN: frozenset(_MANAGERS | {Role.HEALTH_OFFICER}),
    # Disinfection logs hold no personal data; the regulator may read them.
    Perm.HYGIENE_VIEW: frozenset(_ALL_READ),
    Perm.HYGIENE_WRITE: frozenset(_MANAGERS | {Role.CAREGIVER, Role.HEALTH_OFFICER}),
    Perm.HYGIENE_PLAN: frozenset(_MANAGERS | {Role.HEALTH_OFFICER}),
    # Children's health data: only those who care for them or run health care, never the
    # regulator (reports carry counts only). Caregivers do the door check for their class.
    Perm.HEALTH_VIEW: frozenset(_MANAGERS | {Role.CAREGIVER, Role.HEALTH_OFFICER}),
    Perm.HEALTH_CHECK: frozenset(_MANAGERS | {Role.CAREGIVER, Role.HEALTH_OFFICER}),
    Perm.HEALTH_WRITE: frozenset(_MANAGERS | {Role.HEALTH_OFFICER}),
    # Camera status, coverage and the retention proof are what an inspector checks; the
    # thumbnails show rooms, so caregivers and health officers do not need them.
    Perm.CCTV_VIEW: frozenset(_MANAGERS | {Role.REGULATOR}),
    Perm.CCTV_WRITE: frozenset(_MANAGERS),
    # Fees and subsidy claims; the regulator reads claims without children's names.
    Perm.FINANCE_VIEW: frozenset(_MANAGERS | {Role.REGULATOR}),
    Perm.FINANCE_WRITE: frozenset(_MANAGERS),
}


@dataclass(frozen=True)
class Actor:
    """The person behind a request or job, with the classes they may touch."""

    user_id: int | None
    role: Role
    staff_id: int | None = None
    class_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def class_scoped(self) -> bool:
        """Caregivers reach only the classes assigned to them."""
        return self.role == Role.CAREGIVER

    def can(self, perm: Perm) -> bool:
        """Whether the role grants a permission."""
        return self.role in MATRIX[perm]

    def require(self, perm: Perm) -> None:
        """Raise Forbidden unless the role grants a permission."""
        if not self.can(perm):
            raise Forbidden("forbidden", "Your role does not allow this.")

    def can_reach_class(self, class_id: int) -> bool:
        """Whether this actor may see or change a class's records."""
        return not self.class_scoped or class_id in self.class_ids

    def require_class(self, class_id: int) -> None:
        """Raise Forbidden unless the actor may reach the class."""
        if not self.can_reach_class(class_id):
            raise Forbidden("class_not_assigned", "This class is not assigned to you.")


SYSTEM = Actor(user_id=None, role=Role.ADMIN)
