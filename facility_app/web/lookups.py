"""Names of records by id, for pages that show who did something to what."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from facility_app.accounts.models import User
from facility_app.children.models import Child


def user_names(session: Session, ids: set[int]) -> dict[int, str]:
    """Display names of user accounts."""
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}


def child_names(session: Session, ids: set[int]) -> dict[int, str]:
    """Names of children."""
    if not ids:
        return {}
    rows = session.execute(select(Child.id, Child.name).where(Child.id.in_(ids)))
    return {child_id: name for child_id, name in rows}
