"""The director's overview of today, alerts and the audit log."""

from __future__ import annotations

import logging
from datetime import date
from typing import Literal

from pydantic import Field

from facility_app import overview
from facility_app.accounts.permissions import Perm
from facility_app.alerts import service as alerts
from facility_app.alerts.models import Alert
from facility_app.audit import service as audit
from facility_app.health.access import hides_details

from ..auth import current_actor, facility, now
from ..extensions import db
from ..templating import alert_message
from .attendance import _row_out
from .registry import id_rule, operation
from .responses import (
    AlertList,
    AlertOut,
    AuditList,
    AuditOut,
    BreachOut,
    ClassOut,
    DoorRowOut,
    RatioOut,
)
from .schemas import Id, Out, Query, text

log = logging.getLogger(__name__)


class Counts(Out):
    """Children per door state."""

    expected: int = 0
    present: int = 0
    left: int = 0
    absent: int = 0


class ClassOverviewOut(ClassOut):
    """One class's line on the director's page."""

    status: RatioOut
    counts: Counts
    enrolled: int
    expected_today: int
    breaches_today: list[BreachOut]


class AgeFlagOut(Out):
    """A child whose age no longer fits the class type."""

    child_id: int
    child_name: str
    class_id: int
    months: int


class OverviewOut(Out):
    """Everything the director's page shows for today."""

    day: date
    service_day: bool
    after_closing: bool
    totals: Counts
    enrolled: int
    classes: list[ClassOverviewOut]
    open_checkins: list[DoorRowOut]
    alerts: list[AlertOut]
    age_flags: list[AgeFlagOut]


class AlertQuery(Query):
    """Open alerts only (default) or all recent ones."""

    state: Literal["open", "all"] = "open"
    limit: int = Field(100, ge=1, le=500)


class AuditQuery(Query):
    """Filter by entity and id; page with ``limit`` and ``offset``."""

    entity: text(40) | None = None  # type: ignore[valid-type]
    entity_id: Id | None = None
    limit: int = Field(200, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


def _alert_out(alert: Alert) -> AlertOut:
    return AlertOut(
        id=alert.id,
        kind=alert.kind,
        severity=alert.severity,
        created_at=alert.created_at,
        class_id=alert.class_id,
        child_id=alert.child_id,
        params=alert.params or {},
        message=alert_message(alert),
        acknowledged_at=alert.acknowledged_at,
        acknowledged_by_id=alert.acknowledged_by_id,
    )


def _counts(counter: dict[str, int]) -> Counts:
    return Counts(**{k: counter.get(k, 0) for k in Counts.model_fields})


@operation(
    "GET",
    "/overview/today",
    summary="The director's overview of today",
    tag="oversight",
    perm=Perm.DASHBOARD_VIEW,
    response=OverviewOut,
    description=(
        "Present against expected per class, live ratio, today's breaches, open check-ins, open "
        "alerts and age mismatches."
    ),
)
def overview_today() -> OverviewOut:
    """Today's overview for the director."""
    view = overview.build(db.session, current_actor(), facility(), now())
    classes = [
        ClassOverviewOut(
            **ClassOut.model_validate(c.room).model_dump(),
            status=RatioOut.model_validate(c.status),
            counts=_counts(c.counts),
            enrolled=c.enrolled,
            expected_today=c.expected,
            breaches_today=[BreachOut.model_validate(b) for b in c.breaches_today],
        )
        for c in view.classes
    ]
    return OverviewOut(
        day=view.day,
        service_day=view.service_day,
        after_closing=view.after_closing,
        totals=_counts(view.totals),
        enrolled=view.totals["enrolled"],
        classes=classes,
        open_checkins=[_row_out(r) for r in view.open_checkins],
        alerts=[_alert_out(a) for a in view.alerts],
        age_flags=[
            AgeFlagOut(child_id=c.id, child_name=c.name, class_id=e.class_id, months=m)
            for c, e, m in view.age_flags
        ],
    )


@operation(
    "GET",
    "/alerts",
    summary="Alerts",
    tag="oversight",
    perm=Perm.ALERTS_VIEW,
    query=AlertQuery,
    response=AlertList,
)
def list_alerts(query: AlertQuery) -> AlertList:
    """Unacknowledged alerts (``state=open``) or all recent ones (``state=all``), newest first."""
    fac = facility()
    if query.state == "open":
        rows = alerts.open_alerts(db.session, fac.id, current_actor(), limit=query.limit)
    else:
        rows = alerts.recent_alerts(db.session, fac.id, limit=query.limit)
    return AlertList(items=[_alert_out(a) for a in rows])


@operation(
    "POST",
    f"/alerts/{id_rule('alert_id')}/ack",
    summary="Acknowledge an alert",
    tag="oversight",
    perm=Perm.ALERTS_ACK,
    response=AlertOut,
)
def ack_alert(alert_id: int) -> AlertOut:
    """Marks the alert as seen and handled; acknowledging twice changes nothing."""
    alert = alerts.acknowledge(db.session, current_actor(), alert_id, now=now())
    return _alert_out(alert)


@operation(
    "GET",
    "/audit",
    summary="The audit log",
    tag="oversight",
    perm=Perm.AUDIT_VIEW,
    query=AuditQuery,
    response=AuditList,
)
def audit_log(query: AuditQuery) -> AuditList:
    """Who changed what, when, from what to what and why; newest first."""
    rows = audit.entries(
        db.session,
        entity=query.entity or None,
        entity_id=query.entity_id,
        limit=query.limit,
        offset=query.offset,
    )
    actor = current_actor()
    items = []
    for entry in rows:
        out = AuditOut.model_validate(entry)
        if hides_details(actor, entry.entity):
            out = out.model_copy(update={"before": None, "after": None, "reason": ""})
        items.append(out)
    return AuditList(items=items)
