"""Writing and reading the audit log."""

from __future__ import annotations

import enum
import logging
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from facility_app.audit.models import AuditEntry

log = logging.getLogger(__name__)

# Columns never copied into the audit log.
_SECRET_COLUMNS = {"password_hash"}


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        # Files (scans) do not belong in the audit log; their size says that one was there.
        return f"<{len(value)} bytes>"
    return value


def snapshot(obj: Any) -> dict[str, Any]:
    """The column values of a mapped object, as JSON-safe data."""
    mapper = inspect(obj).mapper
    return {
        attr.key: _plain(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in _SECRET_COLUMNS
    }


def record(
    session: Session,
    *,
    at: datetime,
    user_id: int | None,
    action: str,
    entity: str,
    entity_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEntry:
    """Append one entry; the caller's transaction commits it with the change itself."""
    entry = AuditEntry(
        at=at,
        user_id=user_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
        reason=reason,
    )
    session.add(entry)
    return entry


def log_change(
    session: Session,
    actor: Any,
    now: datetime,
    action: str,
    entity: str,
    obj: Any,
    *,
    before: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEntry:
    """Flush ``obj`` so it has an id, then record its state after a change by ``actor``."""
    session.flush()
    return record(
        session,
        at=now,
        user_id=actor.user_id,
        action=action,
        entity=entity,
        entity_id=obj.id,
        before=before,
        after=snapshot(obj),
        reason=reason,
    )


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Only the fields whose value differs, for a compact entry."""
    return {k: v for k, v in after.items() if before.get(k) != v}


def entries(
    session: Session,
    *,
    entity: str | None = None,
    entity_id: int | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[AuditEntry]:
    """Newest entries first, optionally for one entity; ``offset`` skips that many (paging)."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    if entity:
        stmt = stmt.where(AuditEntry.entity == entity)
    if entity_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    return list(session.scalars(stmt))


def entity_names(session: Session) -> list[str]:
    """The entity names that occur in the log, for a filter."""
    return list(session.scalars(select(AuditEntry.entity).distinct().order_by(AuditEntry.entity)))
