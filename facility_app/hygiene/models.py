"""Disinfection tasks (what is disinfected, how and how often) and their logs."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carewatch.db import Base, str_enum
from carewatch.policy import DisinfectionMethod


class Target(enum.StrEnum):
    """What is disinfected."""

    ACTIVITY_ROOM = "activity_room"
    SLEEPING_ROOM = "sleeping_room"
    TABLEWARE = "tableware"
    TOWELS = "towels"
    TOYS = "toys"
    POTTIES = "potties"
    DOOR_HANDLES = "door_handles"
    AIR = "air"


class DisinfectionTask(Base):
    """A scheduled disinfection of one object in one area."""

    __tablename__ = "disinfection_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    area: Mapped[str] = mapped_column(String(60))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("class_room.id"))
    target: Mapped[Target] = mapped_column(str_enum(Target))
    method: Mapped[DisinfectionMethod] = mapped_column(str_enum(DisinfectionMethod))
    duration_minutes: Mapped[int]
    concentration_mg_l: Mapped[int | None]
    times_per_day: Mapped[int] = mapped_column(default=1)
    every_days: Mapped[int] = mapped_column(default=1)
    start_date: Mapped[date]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]

    logs: Mapped[list[DisinfectionLog]] = relationship(
        back_populates="task", order_by="DisinfectionLog.done_at"
    )

    __table_args__ = (
        CheckConstraint("times_per_day >= 1 AND every_days >= 1", name="frequency_positive"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
    )


class DisinfectionLog(Base):
    """One disinfection done, with the measured duration and concentration."""

    __tablename__ = "disinfection_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("disinfection_task.id"))
    day: Mapped[date]
    done_at: Mapped[datetime]
    duration_minutes: Mapped[int]
    concentration_mg_l: Mapped[int | None]
    # False when the policy stores out-of-limits logs flagged instead of refusing them;
    # a flagged log does not count as the task done.
    within_limits: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    task: Mapped[DisinfectionTask] = relationship(back_populates="logs")

    __table_args__ = (
        Index("ix_disinfection_log_task_day", "task_id", "day"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
    )
