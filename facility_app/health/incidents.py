"""Incident and injury reports: what happened, first aid, the guardian told and signing.

A report stays open until a guardian has acknowledged it; one left longer than the
policy allows is overdue. A serious injury raises an alert for the director at once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from carewatch.errors import Conflict, DomainError, NotFound
from carewatch.validate import text
from facility_app.accounts.permissions import Actor, Perm
from facility_app.alerts.models import AlertKind, Severity
from facility_app.alerts.service import raise_alert
from facility_app.children.models import Child
from facility_app.facility.models import Facility
from facility_app.facility.service import today
from health_records.incidents import AckMethod, IncidentReport, InjurySeverity, NotifyMethod

from .medication import active_staff, audit_event, child_guardian, class_on

log = logging.getLogger(__name__)


def _choice(enum_cls: type, value: object, field: str):  # type: ignore[no-untyped-def]
    try:
        return enum_cls(value)
    except ValueError:
        raise DomainError(
            "invalid_choice", "Choose one of the offered options.", field=field
        ) from None


def _past(at: datetime | None, now: datetime, field: str) -> datetime:
    if at is None:
        raise DomainError("required", "This field is required.", field=field)
    if at > now:
        raise DomainError("time_in_future", "This time is in the future.", field=field)
    return at


def create_incident(
    session: Session,
    actor: Actor,
    facility: Facility,
    child: Child,
    *,
    now: datetime,
    occurred_at: datetime | None,
    location: str,
    what_happened: str,
    severity: InjurySeverity | str,
    injury_type: str = "",
    body_part: str = "",
    first_aid: str = "",
    first_aid_by_staff_id: int | None = None,
    sent_to_hospital: bool = False,
    witness_staff_ids: list[int] | None = None,
    follow_up: str = "",
) -> IncidentReport:
    """Report an incident or injury; a serious injury alerts the director."""
    actor.require(Perm.HEALTH_WRITE)
    occurred = _past(occurred_at, now, "occurred_at")
    day = today(facility, occurred)
    class_id = class_on(child, day)
    actor.require_class(class_id)
    level = _choice(InjurySeverity, severity, "severity")
    injury = text(injury_type, field="injury_type", limit=60)
    part = text(body_part, field="body_part", limit=60)
    if level is not InjurySeverity.NONE and not (injury and part):
        raise DomainError(
            "injury_details_required", "Give the kind of injury and where on the body.",
            field="body_part",
        )  # fmt: skip
    aid = text(first_aid, field="first_aid", limit=500)
    aid_by = None
    if aid or first_aid_by_staff_id:
        aid_by = active_staff(
            session, facility, first_aid_by_staff_id, day, field="first_aid_by_staff_id"
        ).id
    witnesses = sorted(
        {
            active_staff(session, facility, w, day, field="witness_staff_ids").id
            for w in witness_staff_ids or []
        }
    )
    report = IncidentReport(
        child_id=child.id,
        class_id=class_id,
        occurred_at=occurred,
        location=text(location, field="location", limit=120, required=True),
        what_happened=text(what_happened, field="what_happened", limit=1000, required=True),
        injury_type=injury,
        body_part=part,
        severity=level,
        first_aid=aid,
        first_aid_by_staff_id=aid_by,
        sent_to_hospital=sent_to_hospital,
        witness_staff_ids=witnesses,
        follow_up=text(follow_up, field="follow_up", limit=1000),
        recorded_at=now,
        recorded_by_id=actor.user_id,
    )
    session.add(report)
    audit_event(
        session, actor, now, "create", "incident_report", report,
        ("child_id", "class_id", "occurred_at", "severity", "sent_to_hospital",
         "first_aid_by_staff_id", "witness_staff_ids"),
    )  # fmt: skip
    if level is InjurySeverity.SERIOUS:
        raise_alert(
            session,
            facility_id=facility.id,
            kind=AlertKind.SERIOUS_INCIDENT,
            severity=Severity.CRITICAL,
            now=now,
            class_id=class_id,
            child_id=child.id,
            params={"incident_id": report.id, "location": report.location},
            dedup_key=f"incident:{report.id}",
        )
    return report


def get_incident(session: Session, child: Child, incident_id: int | None) -> IncidentReport:
    """One of the child's reports (the caller has checked the child is reachable)."""
    report = session.get(IncidentReport, incident_id) if incident_id else None
    if report is None or report.child_id != child.id:
        raise NotFound("incident_not_found", "This incident report does not exist.")
    return report


def record_notification(
    session: Session,
    actor: Actor,
    facility: Facility,
    report: IncidentReport,
    *,
    now: datetime,
    notified_at: datetime | None,
    how: NotifyMethod | str,
    by_staff_id: int | None,
) -> IncidentReport:
    """Record when, how and by whom the guardian was told."""
    actor.require(Perm.HEALTH_WRITE)
    actor.require_class(report.class_id)
    at = _past(notified_at, now, "notified_at")
    if at < report.occurred_at:
        raise DomainError(
            "before_incident", "This is before the incident happened.", field="notified_at"
        )
    method = _choice(NotifyMethod, how, "notified_how")
    by = active_staff(session, facility, by_staff_id, today(facility, at), field="notified_by")
    report.notified_at, report.notified_how, report.notified_by_staff_id = at, method, by.id
    audit_event(
        session, actor, now, "notify", "incident_report", report,
        ("notified_at", "notified_how", "notified_by_staff_id"),
    )  # fmt: skip
    return report


def record_acknowledgement(
    session: Session,
    actor: Actor,
    facility: Facility,
    child: Child,
    report: IncidentReport,
    *,
    now: datetime,
    acknowledged_at: datetime | None,
    guardian_id: int | None,
    how: AckMethod | str,
) -> IncidentReport:
    """Record the guardian's acknowledgement, which closes the report."""
    actor.require(Perm.HEALTH_WRITE)
    actor.require_class(report.class_id)
    if report.acknowledged_at is not None:
        raise Conflict("already_acknowledged", "A guardian has already acknowledged this report.")
    if report.notified_at is None:
        raise DomainError(
            "not_notified", "Record how the guardian was told first.", field="guardian_id"
        )
    at = _past(acknowledged_at, now, "acknowledged_at")
    if at < report.notified_at:
        raise DomainError(
            "before_notification", "This is before the guardian was told.",
            field="acknowledged_at",
        )  # fmt: skip
    guardian = child_guardian(child, guardian_id, field="guardian_id")
    method = _choice(AckMethod, how, "acknowledged_how")
    report.acknowledged_at, report.acknowledged_how = at, method
    report.acknowledged_by_guardian_id = guardian.id
    audit_event(
        session, actor, now, "acknowledge", "incident_report", report,
        ("acknowledged_at", "acknowledged_how", "acknowledged_by_guardian_id"),
    )  # fmt: skip
    return report


def add_follow_up(
    session: Session, actor: Actor, report: IncidentReport, *, now: datetime, note: str
) -> IncidentReport:
    """Append a dated follow-up note (a visit to the doctor, how the child is doing)."""
    actor.require(Perm.HEALTH_WRITE)
    actor.require_class(report.class_id)
    line = text(note, field="follow_up", limit=300, required=True)
    joined = (report.follow_up + "\n" if report.follow_up else "") + f"{now:%Y-%m-%d} {line}"
    if len(joined) > 1000:
        raise DomainError(
            "too_long", "At most %(n)s characters are allowed.", field="follow_up", n=1000
        )
    report.follow_up = joined
    audit_event(session, actor, now, "follow_up", "incident_report", report, ("id",))
    return report


def ack_deadline(facility: Facility, report: IncidentReport) -> datetime:
    """When the guardian's acknowledgement is due: the policy's hours after the incident."""
    hours = facility.policy().medication.incident_ack_within_hours
    return report.occurred_at + timedelta(hours=hours)


def is_overdue(facility: Facility, report: IncidentReport, now: datetime) -> bool:
    """Still open when its acknowledgement was due (at the deadline itself it is overdue)."""
    return report.acknowledged_at is None and now >= ack_deadline(facility, report)


def incidents_of(session: Session, child_id: int) -> list[IncidentReport]:
    """A child's reports, newest first."""
    return list(
        session.scalars(
            select(IncidentReport)
            .where(IncidentReport.child_id == child_id)
            .order_by(IncidentReport.occurred_at.desc(), IncidentReport.id.desc())
        )
    )


def open_incidents(session: Session, class_ids: list[int] | None = None) -> list[IncidentReport]:
    """Reports no guardian has acknowledged yet, oldest first, optionally in some classes."""
    stmt = select(IncidentReport).where(IncidentReport.acknowledged_at.is_(None))
    if class_ids is not None:
        stmt = stmt.where(IncidentReport.class_id.in_(class_ids))
    return list(session.scalars(stmt.order_by(IncidentReport.occurred_at, IncidentReport.id)))
