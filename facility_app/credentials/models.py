"""Certificates, background checks, training records and the regulator's ban list."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from carewatch.db import Base, str_enum


class CertificateKind(enum.StrEnum):
    """Kinds of professional certificate."""

    CAREGIVER = "caregiver"  # 保育师
    INFANT_CARER = "infant_carer"  # 育婴员
    HEALTH_OFFICER = "health_officer"  # 保健人员培训合格证
    SECURITY = "security"  # 保安员证
    TEACHER = "teacher"  # 教师资格证
    OTHER = "other"


class StaffCertificate(Base):
    """A professional certificate of a staff member, with its scan."""

    __tablename__ = "staff_certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    kind: Mapped[CertificateKind] = mapped_column(str_enum(CertificateKind))
    number: Mapped[str] = mapped_column(String(60))
    issuer: Mapped[str] = mapped_column(String(120), default="")
    valid_from: Mapped[date]
    # The first day it no longer counts; None for a certificate without an end.
    expires_on: Mapped[date | None]
    scan: Mapped[bytes | None] = mapped_column(LargeBinary)
    scan_type: Mapped[str] = mapped_column(String(40), default="")
    recorded_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("kind", "number"),
        CheckConstraint("expires_on IS NULL OR expires_on > valid_from", name="validity"),
        Index("ix_staff_certificate_staff", "staff_id", "kind"),
    )


class BackgroundCheck(Base):
    """A no-criminal-record certificate (无犯罪记录证明)."""

    __tablename__ = "background_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    number: Mapped[str] = mapped_column(String(60), default="")
    issuer: Mapped[str] = mapped_column(String(120), default="")
    issued_on: Mapped[date]
    recorded_at: Mapped[datetime]


class TrainingRecord(Base):
    """Hours of training a staff member completed on a day."""

    __tablename__ = "training_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    course: Mapped[str] = mapped_column(String(120))
    provider: Mapped[str] = mapped_column(String(120), default="")
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    done_on: Mapped[date]
    recorded_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("hours > 0", name="positive_hours"),
        Index("ix_training_record_staff_on", "staff_id", "done_on"),
    )


class BanListImport(Base):
    """One import of the regulator's lifetime ban list (it replaces the previous one)."""

    __tablename__ = "ban_list_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    imported_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(200), default="")
    rows_ok: Mapped[int]
    rows_bad: Mapped[int]
    current: Mapped[bool] = mapped_column(default=True)


class BanListEntry(Base):
    """A banned person: the name and a keyed hash of the ID number, never the number."""

    __tablename__ = "ban_list_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("ban_list_import.id"))
    name: Mapped[str] = mapped_column(String(60))
    id_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_ban_list_entry_hash", "id_hash", "import_id"),)


class CredentialSecret(Base):
    """The facility's key for hashing ID numbers, made once; hashes are useless without it."""

    __tablename__ = "credential_secret"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
