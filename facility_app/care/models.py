"""Care entries, naps with their sleep checks and lapses, and outdoor periods."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carewatch.db import Base, str_enum
from facility_app.children.models import Child


class CareKind(enum.StrEnum):
    """What a caregiver did or saw for one child."""

    NAPPY_WET = "nappy_wet"
    NAPPY_DIRTY = "nappy_dirty"
    NAPPY_DRY = "nappy_dry"
    TOILET = "toilet"
    BOTTLE = "bottle"
    WATER = "water"
    MOOD = "mood"
    NOTE = "note"


class Mood(enum.StrEnum):
    """A caregiver's impression of a child's mood."""

    HAPPY = "happy"
    CALM = "calm"
    UNSETTLED = "unsettled"
    UPSET = "upset"


class SleepState(enum.StrEnum):
    """What a sleep check found."""

    BREATHING_NORMALLY = "breathing_normally"
    WOKE = "woke"


class SleepPosition(enum.StrEnum):
    """How a sleeping child lay."""

    BACK = "back"
    SIDE = "side"
    FRONT = "front"


class CareEntry(Base):
    """One logged action for one child at one time."""

    __tablename__ = "care_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    class_id: Mapped[int] = mapped_column(ForeignKey("class_room.id"))
    day: Mapped[date]
    at: Mapped[datetime]
    kind: Mapped[CareKind] = mapped_column(str_enum(CareKind))
    amount_ml: Mapped[int | None]
    mood: Mapped[Mood | None] = mapped_column(str_enum(Mood))
    note: Mapped[str] = mapped_column(String(500), default="")
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    child: Mapped[Child] = relationship()

    __table_args__ = (
        Index("ix_care_entry_child_day", "child_id", "day"),
        CheckConstraint("amount_ml IS NULL OR amount_ml > 0", name="amount_positive"),
    )


class Nap(Base):
    """One child's nap; ``ended_at`` is empty while the child sleeps."""

    __tablename__ = "nap"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    class_id: Mapped[int] = mapped_column(ForeignKey("class_room.id"))
    day: Mapped[date]
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    child: Mapped[Child] = relationship()
    checks: Mapped[list[SleepCheck]] = relationship(
        back_populates="nap", order_by="SleepCheck.at", cascade="all, delete-orphan"
    )
    lapses: Mapped[list[SleepCheckLapse]] = relationship(
        back_populates="nap", order_by="SleepCheckLapse.due_at", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_nap_class_day", "class_id", "day"),
        Index("ix_nap_child_day", "child_id", "day"),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="end_after_start"),
    )


class SleepCheck(Base):
    """A caregiver looked at one sleeping child."""

    __tablename__ = "sleep_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    nap_id: Mapped[int] = mapped_column(ForeignKey("nap.id"), index=True)
    at: Mapped[datetime]
    state: Mapped[SleepState] = mapped_column(str_enum(SleepState))
    position: Mapped[SleepPosition | None] = mapped_column(str_enum(SleepPosition))
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    nap: Mapped[Nap] = relationship(back_populates="checks")


class SleepCheckLapse(Base):
    """A check that came late, or never came before the nap ended (see ``care.sleep``)."""

    __tablename__ = "sleep_check_lapse"

    id: Mapped[int] = mapped_column(primary_key=True)
    nap_id: Mapped[int] = mapped_column(ForeignKey("nap.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("class_room.id"))
    day: Mapped[date]
    due_at: Mapped[datetime]
    seen_at: Mapped[datetime]
    missed: Mapped[bool] = mapped_column(default=False)
    late_seconds: Mapped[int]

    nap: Mapped[Nap] = relationship(back_populates="lapses")

    __table_args__ = (Index("ix_sleep_check_lapse_class_day", "class_id", "day"),)


class OutdoorPeriod(Base):
    """A class, or one child of it, outdoors; ``ended_at`` is empty while still outside."""

    __tablename__ = "outdoor_period"

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("class_room.id"))
    child_id: Mapped[int | None] = mapped_column(ForeignKey("child.id"))
    day: Mapped[date]
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    __table_args__ = (
        Index("ix_outdoor_period_class_day", "class_id", "day"),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="end_after_start"),
    )
