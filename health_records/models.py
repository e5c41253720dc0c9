"""Health records' tables: staff health exams, children's daily checks and illness cases."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Numeric, String, UniqueConstraint
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


class CheckKind(enum.StrEnum):
    """Which daily check (晨检 or 午检)."""

    MORNING = "morning"
    MIDDAY = "midday"


class CheckAction(enum.StrEnum):
    """What was done about an abnormal finding."""

    NONE = "none"
    OBSERVE = "observe"  # 留园观察
    SENT_HOME = "sent_home"  # 劝离回家
    GUARDIAN_INFORMED = "guardian_informed"  # 通知家长


class HealthCheck(Base):
    """A morning or midday check of one present child: temperature and look-and-ask items."""

    __tablename__ = "health_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    class_id: Mapped[int] = mapped_column(ForeignKey("class_room.id"))
    day: Mapped[date]
    kind: Mapped[CheckKind] = mapped_column(str_enum(CheckKind))
    at: Mapped[datetime]
    temperature_c: Mapped[Decimal] = mapped_column(Numeric(3, 1))
    # The items seen abnormal: a subset of mouth, hands, skin, eyes, spirit.
    abnormal: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(String(500), default="")
    action: Mapped[CheckAction] = mapped_column(str_enum(CheckAction), default=CheckAction.NONE)
    guardian_informed_at: Mapped[datetime | None]
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    __table_args__ = (
        UniqueConstraint("child_id", "day", "kind"),
        Index("ix_health_check_day", "day", "class_id"),
    )


class IllnessCase(Base):
    """One child's illness episode: from an illness absence or a child sent home."""

    __tablename__ = "illness_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    class_id: Mapped[int] = mapped_column(ForeignKey("class_room.id"))
    onset_day: Mapped[date]
    # Symptom codes (fever, cough, sore_throat, diarrhoea, vomiting, rash, mouth_ulcers,
    # red_eyes, other) and the syndrome they add up to, which clusters compare.
    symptoms: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_temperature_c: Mapped[Decimal | None] = mapped_column(Numeric(3, 1))
    syndrome: Mapped[str] = mapped_column(String(30))
    diagnosis: Mapped[str] = mapped_column(String(200), default="")
    disease: Mapped[str] = mapped_column(String(40), default="")
    notifiable: Mapped[bool] = mapped_column(default=False)
    expected_return: Mapped[date | None]
    returned_on: Mapped[date | None]
    source: Mapped[str] = mapped_column(String(20), default="absence")
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    __table_args__ = (
        Index("ix_illness_case_onset", "onset_day", "class_id"),
        Index("ix_illness_case_child", "child_id", "onset_day"),
    )
