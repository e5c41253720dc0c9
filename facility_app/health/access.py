"""Reading a child's health record leaves a trace: who read which part, and when."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from facility_app.accounts.permissions import Actor, Perm
from facility_app.audit import service as audit

log = logging.getLogger(__name__)

#: The audit-log action of a read; the entity names what kind of record was read.
READ_ACTION = "read"
#: Entity of one child's health record (``entity_id`` is the child).
CHILD_HEALTH = "child_health"
#: Entity of a list that shows several children's health data (``entity_id`` is None).
HEALTH_LIST = "health_list"


def record_read(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    child_id: int | None,
    section: str,
    detail: dict[str, object] | None = None,
) -> None:
    """Audit one read of health data; the caller commits before showing anything."""
    actor.require(Perm.HEALTH_VIEW)
    audit.record(
        session,
        at=now,
        user_id=actor.user_id,
        action=READ_ACTION,
        entity=CHILD_HEALTH if child_id is not None else HEALTH_LIST,
        entity_id=child_id,
        after={"section": section, **(detail or {})},
    )
