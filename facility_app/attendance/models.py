"""One attendance record per child per service day."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carewatch.db import Base, str_enum
from facility_app.children.models import Child, Guardian


class AttendanceStatus(enum.StrEnum):
    """Whether the child came."""

    PRESENT = "present"
    ABSENT = "absent"


class AbsenceReason(enum.StrEnum):
    """Why a child did not come; illness absences are followed up by the health officer."""

    ILLNESS = "illness"
    PERSONAL = "personal"
    OTHER = "other"


class AttendanceRecord(Base):
    """A child's day: arrival and departure with the adults involved, or an absence."""

    __tablename__ = "attendance"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    class_id: Mapped[int] = mapped_column(ForeignKey("class_room.id"))
    day: Mapped[date]
    status: Mapped[AttendanceStatus] = mapped_column(str_enum(AttendanceStatus))
    check_in_at: Mapped[datetime | None]
    check_out_at: Mapped[datetime | None]
    dropped_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("guardian.id"))
    picked_up_by_id: Mapped[int | None] = mapped_column(ForeignKey("guardian.id"))
    absence_reason: Mapped[AbsenceReason | None] = mapped_column(str_enum(AbsenceReason))
    note: Mapped[str] = mapped_column(String(500), default="")
    late_pickup: Mapped[bool] = mapped_column(default=False)
    missing_checkout: Mapped[bool] = mapped_column(default=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    child: Mapped[Child] = relationship()
    dropped_off_by: Mapped[Guardian | None] = relationship(foreign_keys=[dropped_off_by_id])
    picked_up_by: Mapped[Guardian | None] = relationship(foreign_keys=[picked_up_by_id])

    __table_args__ = (
        UniqueConstraint("child_id", "day"),
        Index("ix_attendance_class_day", "class_id", "day"),
        CheckConstraint(
            "check_out_at IS NULL OR (check_in_at IS NOT NULL AND check_out_at >= check_in_at)",
            name="checkout_after_checkin",
        ),
        CheckConstraint(
            "(status = 'absent' AND check_in_at IS NULL AND absence_reason IS NOT NULL)"
            " OR (status = 'present' AND check_in_at IS NOT NULL AND absence_reason IS NULL)",
            name="status_fields",
        ),
    )

    @property
    def is_open(self) -> bool:
        """Checked in and not yet out."""
        return self.status == AttendanceStatus.PRESENT and self.check_out_at is None
