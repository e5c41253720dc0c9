"""Child, enrolment and guardian records."""

from __future__ import annotations

import enum
import secrets
from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carewatch.db import Base, str_enum


class CareType(enum.StrEnum):
    """Care types (全日托 / 半日托 / 计时托 / 临时托)."""

    FULL_DAY = "full_day"
    HALF_DAY = "half_day"
    HOURLY = "hourly"
    TEMPORARY = "temporary"


class Sex(enum.StrEnum):
    """Sex as recorded at enrolment."""

    FEMALE = "female"
    MALE = "male"


def new_pseudonym() -> str:
    """A random id that names a child in reports without identifying them."""
    return "c_" + secrets.token_hex(8)


class Child(Base):
    """A child known to the facility."""

    __tablename__ = "child"

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    pseudonym: Mapped[str] = mapped_column(String(24), unique=True, default=new_pseudonym)
    name: Mapped[str] = mapped_column(String(60))
    sex: Mapped[Sex] = mapped_column(str_enum(Sex))
    birth_date: Mapped[date]
    allergies: Mapped[str] = mapped_column(String(500), default="")
    notes: Mapped[str] = mapped_column(String(1000), default="")

    enrolments: Mapped[list[Enrolment]] = relationship(
        back_populates="child", order_by="Enrolment.start_date", cascade="all, delete-orphan"
    )
    guardians: Mapped[list[Guardian]] = relationship(
        back_populates="child", order_by="Guardian.id", cascade="all, delete-orphan"
    )

    def enrolment_on(self, day: date) -> Enrolment | None:
        """The enrolment in force on a day, if any."""
        for e in self.enrolments:
            if e.covers(day):
                return e
        return None


class Enrolment(Base):
    """A child's place in one class with one care type for a period."""

    __tablename__ = "enrolment"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    class_id: Mapped[int] = mapped_column(ForeignKey("class_room.id"))
    care_type: Mapped[CareType] = mapped_column(str_enum(CareType))
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    puhui_place: Mapped[bool] = mapped_column(default=False)

    child: Mapped[Child] = relationship(back_populates="enrolments")

    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="period"),
        Index("ix_enrolment_class_period", "class_id", "start_date", "end_date"),
    )

    def covers(self, day: date) -> bool:
        """Whether the enrolment is in force on a day."""
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


class Guardian(Base):
    """A guardian or another adult allowed to drop off or pick up one child."""

    __tablename__ = "guardian"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    relationship_: Mapped[str] = mapped_column("relationship", String(30))
    phone: Mapped[str] = mapped_column(String(30), default="")
    is_guardian: Mapped[bool] = mapped_column(default=True)
    can_pick_up: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)

    child: Mapped[Child] = relationship(back_populates="guardians")
