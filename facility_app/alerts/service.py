"""Raising, listing and acknowledging alerts."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carewatch.errors import NotFound
from facility_app.accounts.permissions import Actor, Perm
from facility_app.alerts.models import Alert, AlertKind, Severity
from facility_app.audit import service as audit

log = logging.getLogger(__name__)


def raise_alert(
    session: Session,
    *,
    facility_id: int,
    kind: AlertKind,
    severity: Severity,
    now: datetime,
    class_id: int | None = None,
    child_id: int | None = None,
    params: dict[str, Any] | None = None,
    dedup_key: str | None = None,
) -> Alert | None:
    """Record an alert once; a second alert with the same dedup key is ignored."""
    if dedup_key is not None:
        exists = session.scalar(select(Alert.id).where(Alert.dedup_key == dedup_key))
        if exists is not None:
            return None
    alert = Alert(
        facility_id=facility_id,
        kind=kind,
        severity=severity,
        created_at=now,
        class_id=class_id,
        child_id=child_id,
        params=params or {},
        dedup_key=dedup_key,
    )
    session.add(alert)
    session.flush()
    log.info("alert %s (%s) class=%s child=%s", kind.value, severity.value, class_id, child_id)
    return alert


def open_alerts(session: Session, facility_id: int, actor: Actor, limit: int = 100) -> list[Alert]:
    """Unacknowledged alerts, newest first, limited to the actor's classes."""
    stmt = (
        select(Alert)
        .where(Alert.facility_id == facility_id, Alert.acknowledged_at.is_(None))
        .order_by(Alert.created_at.desc(), Alert.id.desc())
        .limit(limit)
    )
    return [
        a for a in session.scalars(stmt) if a.class_id is None or actor.can_reach_class(a.class_id)
    ]


def recent_alerts(session: Session, facility_id: int, limit: int = 200) -> list[Alert]:
    """All alerts, newest first."""
    stmt = (
        select(Alert)
        .where(Alert.facility_id == facility_id)
        .order_by(Alert.created_at.desc(), Alert.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def acknowledge(session: Session, actor: Actor, alert_id: int, *, now: datetime) -> Alert:
    """Mark an alert as seen and handled."""
    actor.require(Perm.ALERTS_ACK)
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound("alert_not_found", "This alert does not exist.")
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        alert.acknowledged_by_id = actor.user_id
        audit.record(
            session,
            at=now,
            user_id=actor.user_id,
            action="acknowledge",
            entity="alert",
            entity_id=alert.id,
            after={"kind": alert.kind.value},
        )
    return alert
