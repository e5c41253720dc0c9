"""Incident and injury reports: what happened, first aid, the guardian told and signing."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from carewatch.db import Base, str_enum


class InjurySeverity(enum.StrEnum):
    """How bad an injury is."""

    NONE = "none"  # an incident without injury
    MINOR = "minor"  # 轻微
    MEDICAL = "medical"  # 需就医
    SERIOUS = "serious"  # 严重


class NotifyMethod(enum.StrEnum):
    """How a guardian was told of an incident."""

    PHONE = "phone"
    IN_PERSON = "in_person"
    MESSAGE = "message"


class AckMethod(enum.StrEnum):
    """How a guardian acknowledged an incident report."""

    SIGNATURE = "signature"  # 纸质签字
    IN_PERSON = "in_person"
    PHONE = "phone"


class IncidentReport(Base):
    """An incident or injury of one child: what happened, first aid, guardian told and signed."""

    __tablename__ = "incident_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    class_id: Mapped[int] = mapped_column(ForeignKey("class_room.id"))
    occurred_at: Mapped[datetime]
    location: Mapped[str] = mapped_column(String(120))
    what_happened: Mapped[str] = mapped_column(String(1000))
    injury_type: Mapped[str] = mapped_column(String(60), default="")
    body_part: Mapped[str] = mapped_column(String(60), default="")
    severity: Mapped[InjurySeverity] = mapped_column(str_enum(InjurySeverity))
    first_aid: Mapped[str] = mapped_column(String(500), default="")
    first_aid_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    sent_to_hospital: Mapped[bool] = mapped_column(default=False)
    witness_staff_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    notified_at: Mapped[datetime | None]
    notified_how: Mapped[NotifyMethod | None] = mapped_column(str_enum(NotifyMethod))
    notified_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_guardian_id: Mapped[int | None] = mapped_column(ForeignKey("guardian.id"))
    acknowledged_how: Mapped[AckMethod | None] = mapped_column(str_enum(AckMethod))
    follow_up: Mapped[str] = mapped_column(String(1000), default="")
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    __table_args__ = (
        Index("ix_incident_report_open", "acknowledged_at", "occurred_at"),
        Index("ix_incident_report_child", "child_id", "occurred_at"),
    )

    @property
    def is_open(self) -> bool:
        """A report stays open until a guardian has acknowledged it."""
        return self.acknowledged_at is None
