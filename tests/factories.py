"""Each test builds its own data through these helpers, which go through the services."""

from __future__ import annotations

from datetime import date, datetime, time
from itertools import count

from sqlalchemy.orm import Session

from carewatch.policy import ClassType
from facility_app.accounts.models import Role, User
from facility_app.accounts.permissions import SYSTEM
from facility_app.accounts.service import create_user
from facility_app.children import service as children
from facility_app.children.models import CareType, Child, Sex
from facility_app.facility import service as facilities
from facility_app.facility.models import ClassRoom, Facility, Grade, PolicyProfile
from facility_app.staff import service as staff_service
from facility_app.staff.models import Staff, StaffRole

PASSWORD = "correct horse 42"
_seq = count(1)


class Builder:
    """Creates facilities, classes, children, staff and users for one test."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now

    def facility(self, *, overrides: dict | None = None, **kw: object) -> Facility:
        """The facility, with an optional policy profile."""
        profile = None
        if overrides is not None:
            profile = PolicyProfile(key=f"p{next(_seq)}", name="test profile", overrides=overrides)
            self.session.add(profile)
        fac = Facility(
            name=str(kw.get("name", "阳光托育中心")),
            registration_no="REG-1",
            filing_no="BA-1",
            grade=kw.get("grade", Grade.LEVEL2),
            puhui_certified=bool(kw.get("puhui_certified", True)),
            opening_time=kw.get("opening_time", time(7, 30)),
            closing_time=kw.get("closing_time", time(17, 30)),
            timezone=str(kw.get("timezone", "Asia/Shanghai")),
            policy_profile=profile,
        )
        self.session.add(fac)
        self.session.flush()
        return fac

    def room(
        self,
        fac: Facility,
        class_type: ClassType = ClassType.TODDLER,
        capacity: int | None = None,
        name: str | None = None,
    ) -> ClassRoom:
        """A class of the given type, at its policy size limit unless told otherwise."""
        limit = fac.policy().class_rule(class_type).max_children
        return facilities.save_class(
            self.session,
            SYSTEM,
            fac,
            now=self.now,
            name=name or f"班级{next(_seq)}",
            class_type=class_type,
            capacity=capacity or limit,
        )

    def child(
        self,
        fac: Facility,
        room: ClassRoom,
        *,
        birth_date: date,
        name: str | None = None,
        start: date | None = None,
        end: date | None = None,
        care_type: CareType = CareType.FULL_DAY,
        guardians: int = 2,
    ) -> Child:
        """A child enrolled in a class, with guardians who may pick up."""
        kid = children.save_child(
            self.session,
            SYSTEM,
            fac,
            now=self.now,
            name=name or f"孩子{next(_seq)}",
            sex=Sex.FEMALE,
            birth_date=birth_date,
        )
        children.add_enrolment(
            self.session,
            SYSTEM,
            fac,
            kid,
            now=self.now,
            class_id=room.id,
            care_type=care_type,
            start_date=start or facilities.today(fac, self.now),
            end_date=end,
        )
        for i in range(guardians):
            children.save_guardian(
                self.session,
                SYSTEM,
                kid,
                now=self.now,
                name=f"家长{i + 1}",
                relationship="mother" if i == 0 else "father",
            )
        self.session.flush()
        self.session.refresh(kid)
        return kid

    def staff(
        self,
        fac: Facility,
        role: StaffRole = StaffRole.CAREGIVER,
        classes: list[int] | None = None,
        name: str | None = None,
        credentials: bool = True,
    ) -> Staff:
        """A staff member hired long ago, assigned to classes.

        Caregivers get a caregiver certificate and a fit health exam in force (they need
        both to count toward the ratio) unless ``credentials`` is False.
        """
        person = staff_service.save_staff(
            self.session,
            SYSTEM,
            fac,
            now=self.now,
            name=name or f"老师{next(_seq)}",
            role=role,
            hire_date=date(2020, 1, 1),
            class_ids=classes or [],
        )
        if credentials and role == StaffRole.CAREGIVER:
            self.credentials(fac, person)
        return person

    def credentials(
        self,
        fac: Facility,
        person: Staff,
        *,
        expires_on: date | None = None,
        exam_date: date | None = None,
    ) -> None:
        """A caregiver certificate and a fit health exam for ``person``."""
        from facility_app.credentials import service as credentials

        day = self.now.date()
        credentials.add_certificate(
            self.session,
            SYSTEM,
            fac,
            person.id,
            now=self.now,
            kind="caregiver",
            number=f"BY{next(_seq):08d}",
            valid_from=date(2019, 1, 1),
            expires_on=expires_on or date(day.year + 3, 1, 1),
        )
        credentials.add_health_exam(
            self.session,
            SYSTEM,
            fac,
            person.id,
            now=self.now,
            exam_date=exam_date or day.replace(day=1),
            result="fit",
        )

    def user(self, role: Role, *, staff: Staff | None = None, username: str | None = None) -> User:
        """A user account with the shared test password."""
        return create_user(
            self.session,
            username=username or f"{role.value}{next(_seq)}",
            password=PASSWORD,
            role=role,
            display_name=role.value,
            staff_id=staff.id if staff else None,
        )
