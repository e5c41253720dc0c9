"""Facility, locality policy profile, classes and closed days."""

from __future__ import annotations

import enum
from datetime import date, time
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carewatch.db import Base, str_enum
from carewatch.policy import ClassType, Policy, load_policy


class Grade(enum.StrEnum):
    """Quality grade of the facility (示范 / 一级 / 二级 / 三级)."""

    DEMONSTRATION = "demonstration"
    LEVEL1 = "level1"
    LEVEL2 = "level2"
    LEVEL3 = "level3"
    UNGRADED = "ungraded"


class Ownership(enum.StrEnum):
    """Who owns the facility; state or collective assets have lower fee caps."""

    PUBLIC = "public"
    PRIVATE = "private"
    STATE_COLLECTIVE = "state_collective"


class PolicyProfile(Base):
    """A locality's policy values: only the ones that differ from the national defaults."""

    __tablename__ = "policy_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def policy(self) -> Policy:
        """The validated policy of this profile."""
        return load_policy(self.overrides)


class Facility(Base):
    """The childcare centre this installation serves."""

    __tablename__ = "facility"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    registration_no: Mapped[str] = mapped_column(String(60), default="")
    filing_no: Mapped[str] = mapped_column(String(60), default="")
    grade: Mapped[Grade] = mapped_column(str_enum(Grade), default=Grade.UNGRADED)
    puhui_certified: Mapped[bool] = mapped_column(default=False)
    ownership: Mapped[Ownership] = mapped_column(str_enum(Ownership), default=Ownership.PRIVATE)
    policy_profile_id: Mapped[int | None] = mapped_column(ForeignKey("policy_profile.id"))
    opening_time: Mapped[time] = mapped_column(default=time(7, 30))
    closing_time: Mapped[time] = mapped_column(default=time(17, 30))
    timezone: Mapped[str] = mapped_column(String(40), default="Asia/Shanghai")
    address: Mapped[str] = mapped_column(String(200), default="")

    policy_profile: Mapped[PolicyProfile | None] = relationship()
    classes: Mapped[list[ClassRoom]] = relationship(
        back_populates="facility", order_by="ClassRoom.id"
    )

    __table_args__ = (CheckConstraint("opening_time < closing_time", name="hours"),)

    def policy(self) -> Policy:
        """The policy in force for this facility."""
        return self.policy_profile.policy() if self.policy_profile else load_policy(None)


class ClassRoom(Base):
    """A class (班级) and the room it lives in."""

    __tablename__ = "class_room"

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    name: Mapped[str] = mapped_column(String(60))
    class_type: Mapped[ClassType] = mapped_column(str_enum(ClassType))
    room: Mapped[str] = mapped_column(String(60), default="")
    capacity: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)

    facility: Mapped[Facility] = relationship(back_populates="classes")

    __table_args__ = (
        UniqueConstraint("facility_id", "name"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
    )


class ClosedDay(Base):
    """A day the facility does not serve although it is a service weekday (holidays)."""

    __tablename__ = "closed_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    day: Mapped[date]
    reason: Mapped[str] = mapped_column(String(120), default="")

    __table_args__ = (UniqueConstraint("facility_id", "day"),)
