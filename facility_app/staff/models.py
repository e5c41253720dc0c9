"""Staff member, class assignment and duty session."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carewatch.db import Base, str_enum


class StaffRole(enum.StrEnum):
    """What a staff member does at the facility."""

    DIRECTOR = "director"
    CAREGIVER = "caregiver"
    HEALTH_OFFICER = "health_officer"
    COOK = "cook"
    SECURITY = "security"
    OTHER = "other"


class Staff(Base):
    """A person employed at the facility."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    name: Mapped[str] = mapped_column(String(60))
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole))
    phone: Mapped[str] = mapped_column(String(30), default="")
    hire_date: Mapped[date]
    leave_date: Mapped[date | None]
    # A keyed hash of the ID number, to compare with the ban list; the number is not kept.
    id_number_hash: Mapped[str | None] = mapped_column(String(64), index=True)

    assignments: Mapped[list[ClassAssignment]] = relationship(
        back_populates="staff", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("leave_date IS NULL OR leave_date >= hire_date", name="employment"),
    )

    def employed_on(self, day: date) -> bool:
        """Whether the person works here on a day."""
        return self.hire_date <= day and (self.leave_date is None or day <= self.leave_date)

    @property
    def class_ids(self) -> set[int]:
        """Classes this person is assigned to."""
        return {a.class_id for a in self.assignments}


class ClassAssignment(Base):
    """A staff member's standing assignment to a class; caregivers see only these."""

    __tablename__ = "class_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    class_id: Mapped[int] = mapped_column(ForeignKey("class_room.id"))

    staff: Mapped[Staff] = relationship(back_populates="assignments")

    __table_args__ = (UniqueConstraint("staff_id", "class_id"),)


class DutySession(Base):
    """A period a staff member is on duty in one class; open while ``end_at`` is null."""

    __tablename__ = "duty_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    class_id: Mapped[int] = mapped_column(ForeignKey("class_room.id"))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime | None]

    staff: Mapped[Staff] = relationship()

    __table_args__ = (
        CheckConstraint("end_at IS NULL OR end_at > start_at", name="period"),
        Index("ix_duty_session_class_start", "class_id", "start_at"),
        Index("ix_duty_session_staff_start", "staff_id", "start_at"),
    )
