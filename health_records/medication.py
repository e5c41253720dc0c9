"""Medication given at the facility: a guardian's written instruction and each dose given."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carewatch.db import Base, str_enum


class DoseUnit(enum.StrEnum):
    """The unit a dose is measured in."""

    ML = "ml"
    MG = "mg"
    TABLET = "tablet"  # 片
    SACHET = "sachet"  # 袋
    DROP = "drop"  # 滴
    PUFF = "puff"  # 喷
    APPLICATION = "application"  # 次 (cream, ointment)


class MedicationInstruction(Base):
    """A guardian's signed instruction to give a medicine at the facility (委托喂药单)."""

    __tablename__ = "medication_instruction"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    guardian_id: Mapped[int] = mapped_column(ForeignKey("guardian.id"))
    medicine: Mapped[str] = mapped_column(String(120))
    form_strength: Mapped[str] = mapped_column(String(120), default="")
    dose_amount: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    dose_unit: Mapped[DoseUnit] = mapped_column(str_enum(DoseUnit))
    # Local times of day "HH:MM", sorted; empty when given only as needed.
    times: Mapped[list[str]] = mapped_column(JSON, default=list)
    as_needed: Mapped[bool] = mapped_column(default=False)
    as_needed_condition: Mapped[str] = mapped_column(String(200), default="")
    first_day: Mapped[date]
    last_day: Mapped[date]
    reason: Mapped[str] = mapped_column(String(200), default="")
    # The signed instruction: a scan, or the paper form kept on file.
    scan: Mapped[bytes | None] = mapped_column(LargeBinary)
    scan_type: Mapped[str] = mapped_column(String(40), default="")
    paper_received: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[datetime]
    received_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    doses: Mapped[list[MedicationDose]] = relationship(
        back_populates="instruction", order_by="MedicationDose.given_at"
    )

    __table_args__ = (
        CheckConstraint("last_day >= first_day", name="period"),
        CheckConstraint("dose_amount > 0", name="dose_positive"),
        Index("ix_medication_instruction_child", "child_id", "last_day"),
    )

    def in_force(self, day: date) -> bool:
        """Whether the instruction covers a day."""
        return self.first_day <= day <= self.last_day


class MedicationDose(Base):
    """One dose given, by one staff member and witnessed by another."""

    __tablename__ = "medication_dose"

    id: Mapped[int] = mapped_column(primary_key=True)
    instruction_id: Mapped[int] = mapped_column(ForeignKey("medication_instruction.id"))
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    day: Mapped[date]
    # The scheduled time "HH:MM" this dose is for; None for a dose given as needed (NULLs
    # never clash, so the unique constraint only stops a second dose of a scheduled time).
    slot: Mapped[str | None] = mapped_column(String(5))
    given_at: Mapped[datetime]
    dose_amount: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    dose_unit: Mapped[DoseUnit] = mapped_column(str_enum(DoseUnit))
    deviation_reason: Mapped[str] = mapped_column(String(200), default="")
    given_by_staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    witness_staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    note: Mapped[str] = mapped_column(String(500), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    instruction: Mapped[MedicationInstruction] = relationship(back_populates="doses")

    __table_args__ = (
        CheckConstraint("given_by_staff_id <> witness_staff_id", name="two_people"),
        Index("ix_medication_dose_day", "day", "child_id"),
        UniqueConstraint("instruction_id", "day", "slot"),
    )
