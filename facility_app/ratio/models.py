"""Stored out-of-ratio and over-capacity periods, for the director and the inspector."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from carewatch.db import Base, str_enum


class BreachKind(enum.StrEnum):
    """Which limit was exceeded."""

    RATIO = "ratio"
    CAPACITY = "capacity"


class ClassBreach(Base):
    """A period in which a class was out of ratio or over its size limit."""

    __tablename__ = "class_breach"

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("class_room.id"))
    day: Mapped[date]
    kind: Mapped[BreachKind] = mapped_column(str_enum(BreachKind))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    peak_children: Mapped[int]
    min_caregivers: Mapped[int]
    limit: Mapped[int]

    __table_args__ = (
        Index("ix_class_breach_class_day", "class_id", "day"),
        UniqueConstraint("class_id", "kind", "started_at"),
    )
