"""Shared helpers of the management-page tests."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carewatch.policy import ClassType
from facility_app.accounts.models import Role, User
from facility_app.audit.models import AuditEntry
from facility_app.facility.models import ClassRoom, Facility
from tests.factories import Builder

# Ages at T0 (2026-03-10): 13 months (toddler class), 8 months (infant), 30 months (older).
TODDLER_BIRTH = date(2025, 1, 15)
INFANT_BIRTH = date(2025, 7, 1)
OLDER_BIRTH = date(2023, 9, 1)


@dataclass
class Setup:
    """A facility with one toddler class and a director who is signed in."""

    fac: Facility
    room: ClassRoom
    director: User


def signed_in_director(build: Builder, session: Session, auth: Any) -> Setup:
    """Build a facility, a toddler class and a director, and sign the director in."""
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER, name="托小一班")
    director = build.user(Role.DIRECTOR)
    session.commit()
    assert auth.login(director).status_code == 302
    return Setup(fac, room, director)


def fresh(session: Session) -> None:
    """See what the app committed: end the test's transaction and forget loaded values."""
    session.commit()
    session.expire_all()


def count(session: Session, model: type) -> int:
    """Rows of a table, as committed."""
    fresh(session)
    return session.scalar(select(func.count()).select_from(model)) or 0


def audit_for(session: Session, entity: str, action: str | None = None) -> list[AuditEntry]:
    """Audit entries of an entity type, oldest first."""
    fresh(session)
    stmt = select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    return list(session.scalars(stmt))


def text(response: Any) -> str:
    """The response body as text, with HTML entities such as &#39; decoded."""
    return html.unescape(response.get_data(as_text=True))
