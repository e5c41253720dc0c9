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
#: Audit entities whose values and reasons hold children's health data. The audit log is
#: open to roles without health access (the regulator): for them these entries show who did
#: what and when, never the contents.
HEALTH_ENTITIES = frozenset(
    {
        CHILD_HEALTH,
        HEALTH_LIST,
        "health_check",
        "illness_case",
        "child_health_exam",
        "child_vaccination",
        "growth_measurement",
        "medication_instruction",
        "medication_dose",
        "incident_report",
    }
)


def hides_details(actor: Actor, entity: str) -> bool:
    """Whether an audit entry's values must be hidden from this actor."""
    return entity in HEALTH_ENTITIES and not actor.can(Perm.HEALTH_VIEW)


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
