"""The fee schedule: one fee per class type and care type."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from carewatch.db import Base, str_enum
from carewatch.policy import ClassType
from facility_app.children.models import CareType


def fen_to_yuan(fen: int) -> Decimal:
    """Whole fen stored in the database as yuan."""
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def yuan_to_fen(yuan: Decimal) -> int:
    """Yuan (already rounded to the fen) as whole fen for storage."""
    return int((yuan * 100).to_integral_exact())


class FeeItem(Base):
    """A fee: per month for full-day and half-day care, per hour, or per temporary day.

    Money is stored as whole fen so that no backend rounds it; ``amount`` is yuan.
    """

    __tablename__ = "fee_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    class_type: Mapped[ClassType] = mapped_column(str_enum(ClassType))
    care_type: Mapped[CareType] = mapped_column(str_enum(CareType))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    billing_months: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("facility_id", "class_type", "care_type"),
        CheckConstraint("amount_fen >= 0", name="amount_not_negative"),
        CheckConstraint("billing_months BETWEEN 1 AND 12", name="billing_months_range"),
    )

    @property
    def amount(self) -> Decimal:
        """The fee in yuan."""
        return fen_to_yuan(self.amount_fen)
