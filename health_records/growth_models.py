"""Growth records: a child's weight and length or height on a day, as measured.

The z-scores are not stored: they are a pure function of the measurement, the child's sex
and birth date, and WHO's tables, and are computed when read (see ``health_records.growth``).
Storing them would leave stale figures behind whenever a birth date or sex is corrected.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from carewatch.db import Base, str_enum


class MeasuredPosition(enum.StrEnum):
    """How the length was taken: lying (recumbent length) or standing (height)."""

    LYING = "lying"
    STANDING = "standing"


class GrowthMeasurement(Base):
    """One day's weight and/or length/height of a child; one row per child and day."""

    __tablename__ = "growth_measurement"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    measured_on: Mapped[date]
    weight_kg: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    length_cm: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    position: Mapped[MeasuredPosition | None] = mapped_column(str_enum(MeasuredPosition))
    measured_by: Mapped[str] = mapped_column(String(60), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    __table_args__ = (
        UniqueConstraint("child_id", "measured_on"),
        CheckConstraint("weight_kg IS NOT NULL OR length_cm IS NOT NULL", name="weight_or_length"),
        CheckConstraint("weight_kg IS NULL OR weight_kg > 0", name="weight_positive"),
        CheckConstraint("length_cm IS NULL OR length_cm > 0", name="length_positive"),
        CheckConstraint("length_cm IS NULL OR position IS NOT NULL", name="position_given"),
    )
