"""User accounts and login attempts."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carewatch.db import Base, str_enum
from facility_app.staff.models import Staff


class Role(enum.StrEnum):
    """What a user may do; caregivers are further limited to their assigned classes."""

    ADMIN = "admin"
    DIRECTOR = "director"
    CAREGIVER = "caregiver"
    HEALTH_OFFICER = "health_officer"
    REGULATOR = "regulator"


class User(Base):
    """A person who signs in."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(60))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    active: Mapped[bool] = mapped_column(default=True)

    staff: Mapped[Staff | None] = relationship()

    # Flask-Login's protocol, written out so that the model does not import Flask.
    @property
    def is_authenticated(self) -> bool:
        """Always true for a loaded user."""
        return True

    @property
    def is_active(self) -> bool:
        """Disabled accounts cannot sign in."""
        return self.active

    @property
    def is_anonymous(self) -> bool:
        """Never anonymous."""
        return False

    def get_id(self) -> str:
        """The id stored in the session."""
        return str(self.id)


class LoginAttempt(Base):
    """A sign-in attempt, kept for throttling and for the audit trail."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60))
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime]
    success: Mapped[bool]

    __table_args__ = (Index("ix_login_attempt_username_at", "username", "at"),)
