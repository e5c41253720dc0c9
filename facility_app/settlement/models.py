"""Subsidy policy versions, settled months (locked snapshots) and their lines."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carewatch.db import Base, str_enum
from facility_app.fees.models import fen_to_yuan


class SubsidyPolicyVersion(Base):
    """A locality's subsidy rule from one date on; versions of a profile never overlap.

    ``profile_id`` null holds the versions of facilities without a locality profile.
    """

    __tablename__ = "subsidy_policy_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("policy_profile.id"))
    effective_from: Mapped[date]
    effective_to: Mapped[date | None]
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    __table_args__ = (
        CheckConstraint("effective_to IS NULL OR effective_to >= effective_from", name="period"),
        Index("ix_subsidy_policy_version_profile", "profile_id", "effective_from"),
    )


class Settlement(Base):
    """A settled month: locked; later corrections become adjustment lines of a later month."""

    __tablename__ = "settlement"

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    month: Mapped[str] = mapped_column(String(7))
    policy_version_id: Mapped[int | None] = mapped_column(ForeignKey("subsidy_policy_version.id"))
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    facility_details: Mapped[dict[str, Any]] = mapped_column(JSON)
    service_days: Mapped[int]
    total_fen: Mapped[int] = mapped_column(BigInteger)
    settled_at: Mapped[datetime]
    settled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    lines: Mapped[list[SettlementLine]] = relationship(
        back_populates="settlement", order_by="SettlementLine.id", cascade="all, delete-orphan"
    )

    __table_args__ = (UniqueConstraint("facility_id", "month"),)

    @property
    def total(self) -> Decimal:
        """The claim's total in yuan, adjustments included."""
        return fen_to_yuan(self.total_fen)


class LineKind(enum.StrEnum):
    """A child's claim for the month, or a correction of an earlier settled month."""

    CLAIM = "claim"
    ADJUSTMENT = "adjustment"


class SettlementLine(Base):
    """One child's line of a settled month, with the day rows behind the amount."""

    __tablename__ = "settlement_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlement.id"))
    kind: Mapped[LineKind] = mapped_column(str_enum(LineKind))
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    pseudonym: Mapped[str] = mapped_column(String(24))
    child_name: Mapped[str] = mapped_column(String(60))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("class_room.id"))
    class_name: Mapped[str] = mapped_column(String(60), default="")
    service_days: Mapped[int]
    days_enrolled: Mapped[int]
    days_attended: Mapped[int]
    attended_units: Mapped[str] = mapped_column(String(12))
    rate_fen: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    rule_text: Mapped[str] = mapped_column(String(300))
    adjusts_month: Mapped[str | None] = mapped_column(String(7))
    reason: Mapped[str] = mapped_column(String(1000), default="")
    days: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    flags: Mapped[list[str]] = mapped_column(JSON)

    settlement: Mapped[Settlement] = relationship(back_populates="lines")

    __table_args__ = (Index("ix_settlement_line_settlement", "settlement_id", "child_id"),)
