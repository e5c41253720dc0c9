"""Children's health exams (admission, routine, return) and vaccination records."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from carewatch.db import Base, str_enum


class ChildExamKind(enum.StrEnum):
    """Why a child was examined."""

    ADMISSION = "admission"  # 入园体检
    ROUTINE = "routine"  # 定期体检 (ages 1–3: twice a year)
    RETURN = "return"  # 离园 3 个月以上返园体检


class ChildExamResult(enum.StrEnum):
    """The doctor's conclusion."""

    FIT = "fit"  # 合格
    FIT_WITH_NOTES = "fit_with_notes"  # 合格，有医嘱
    NOT_FIT = "not_fit"  # 暂不宜入园


class ChildHealthExam(Base):
    """One health exam of a child, with the scan of the exam form if uploaded."""

    __tablename__ = "child_health_exam"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    kind: Mapped[ChildExamKind] = mapped_column(str_enum(ChildExamKind))
    exam_date: Mapped[date]
    institution: Mapped[str] = mapped_column(String(120), default="")
    result: Mapped[ChildExamResult] = mapped_column(str_enum(ChildExamResult))
    notes: Mapped[str] = mapped_column(String(500), default="")
    scan: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    scan_type: Mapped[str] = mapped_column(String(40), default="")
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    __table_args__ = (Index("ix_child_health_exam_child", "child_id", "exam_date"),)


class Vaccination(Base):
    """One dose of a vaccine given to a child, as copied from the vaccination certificate."""

    __tablename__ = "child_vaccination"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    vaccine: Mapped[str] = mapped_column(String(20))
    dose: Mapped[int]
    given_on: Mapped[date]
    place: Mapped[str] = mapped_column(String(120), default="")
    # Seen on the 预防接种证 itself, not only told by the family.
    verified: Mapped[bool] = mapped_column(default=False)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    __table_args__ = (UniqueConstraint("child_id", "vaccine", "dose"),)
