"""Health records' tables: staff health exams (child health follows in this package)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from carewatch.db import Base, str_enum


class ExamResult(enum.StrEnum):
    """The outcome of a staff health exam."""

    FIT = "fit"  # 合格
    UNFIT = "unfit"  # 不合格: off the post until cleared


class StaffHealthExam(Base):
    """A staff member's health exam certificate (健康证明), needed before work and yearly."""

    __tablename__ = "staff_health_exam"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    exam_date: Mapped[date]
    result: Mapped[ExamResult] = mapped_column(str_enum(ExamResult))
    # The first day the exam no longer counts: on this day it has expired.
    expires_on: Mapped[date]
    certificate_no: Mapped[str] = mapped_column(String(60), default="")
    issuer: Mapped[str] = mapped_column(String(120), default="")
    recorded_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("expires_on > exam_date", name="validity"),
        Index("ix_staff_health_exam_staff", "staff_id", "expires_on"),
    )
