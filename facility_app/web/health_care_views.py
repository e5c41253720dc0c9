"""Medication and incident reports: sections of a child's health record and the day's page.

The routes hang on the health record's blueprint (``/health/children``); every read of
health data is audited before it is shown.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from facility_app.accounts.permissions import Actor, Perm
from facility_app.children.models import Child
from facility_app.children.service import get_child
from facility_app.credentials.service import MAX_SCAN_BYTES
from facility_app.facility.models import Facility
from facility_app.facility.service import at_local, today, visible_classes
from facility_app.health import incidents as inc
from facility_app.health import medication as med
from facility_app.staff.models import Staff
from facility_app.staff.service import on_duty
from health_records.incidents import AckMethod, InjurySeverity, NotifyMethod
from health_records.medication import DoseUnit

from .api import health_care as _api  # noqa: F401 - registers the JSON operations
from .auth import current_actor, facility, now, require
from .care_views import _form_int
from .extensions import db
from .forms import checkbox, id_list, optional_date, required_date, time_of_day
from .health_audit import audit_health_read
from .health_record import bp, section

log = logging.getLogger(__name__)

UNIT_LABELS = {
    DoseUnit.ML.value: _l("ml"),
    DoseUnit.MG.value: _l("mg"),
    DoseUnit.TABLET.value: _l("tablet"),
    DoseUnit.SACHET.value: _l("sachet"),
    DoseUnit.DROP.value: _l("drop"),
    DoseUnit.PUFF.value: _l("puff"),
    DoseUnit.APPLICATION.value: _l("application"),
}
SEVERITY_LABELS = {
    InjurySeverity.NONE.value: _l("No injury"),
    InjurySeverity.MINOR.value: _l("Minor"),
    InjurySeverity.MEDICAL.value: _l("Needs medical care"),
    InjurySeverity.SERIOUS.value: _l("Serious"),
}
NOTIFY_LABELS = {
    NotifyMethod.PHONE.value: _l("Phone call"),
    NotifyMethod.IN_PERSON.value: _l("In person"),
    NotifyMethod.MESSAGE.value: _l("Message"),
}
ACK_LABELS = {
    AckMethod.SIGNATURE.value: _l("Signature on paper"),
    AckMethod.IN_PERSON.value: _l("In person"),
    AckMethod.PHONE.value: _l("Phone call"),
}
SLOT_LABELS = {
    "given": _l("Given"),
    "due": _l("Due now"),
    "missed": _l("Missed"),
    "later": _l("Later"),
}


def _staff_choices(session: Session, day: date) -> list[tuple[Staff, bool]]:
    """Staff employed on ``day`` with whether they are on duty, those on duty first."""
    duty = {d.staff_id for d in on_duty(session)}
    stmt = select(Staff).where(Staff.facility_id == facility().id).order_by(Staff.name)
    people = [p for p in session.scalars(stmt) if p.employed_on(day)]
    return sorted(((p, p.id in duty) for p in people), key=lambda x: (not x[1], x[0].name))


def _local_at(fac: Facility, day: date, field: str) -> datetime:
    """A time of day typed in the form, on ``day``, as UTC."""
    return at_local(fac, day, time_of_day(request.form, field))


def _names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(wanted))).all())


@section("medication", _l("Medication"), "health/_child_medication.html", order=40)
def _medication(session: Session, actor: Actor, child: Child, day: date) -> dict[str, Any]:
    fac, at = facility(), now()
    plans = {p.instruction.id: p for p in med.day_plan(session, fac, at, [child.id])}
    instructions = [i for i in med.instructions_of(session, child.id) if i.last_day >= day]
    staff = _staff_choices(session, day)
    ids = {i.received_by_staff_id for i in instructions}
    ids |= {d.given_by_staff_id for p in plans.values() for d in p.doses}
    ids |= {d.witness_staff_id for p in plans.values() for d in p.doses}
    return {
        "instructions": instructions,
        "plans": plans,
        "guardians": [g for g in child.guardians if g.is_guardian and g.active],
        "staff": staff,
        "names": _names(session, ids),
        "units": UNIT_LABELS,
        "slot_labels": SLOT_LABELS,
        "me": actor.staff_id,
        "can_write": actor.can(Perm.HEALTH_WRITE),
        "can_give": actor.can(Perm.HEALTH_CHECK),
        "now": at,
    }


@section("incidents", _l("Incidents and injuries"), "health/_child_incidents.html", order=50)
def _incidents(session: Session, actor: Actor, child: Child, day: date) -> dict[str, Any]:
    fac, at = facility(), now()
    reports = inc.incidents_of(session, child.id)
    ids: set[int | None] = {r.first_aid_by_staff_id for r in reports}
    ids |= {r.notified_by_staff_id for r in reports}
    ids |= {w for r in reports for w in r.witness_staff_ids}
    return {
        "reports": reports,
        "overdue": {r.id for r in reports if inc.is_overdue(fac, r, at)},
        "deadline": {r.id: inc.ack_deadline(fac, r) for r in reports},
        "guardians": [g for g in child.guardians if g.is_guardian and g.active],
        "guardian_names": {g.id: g.name for g in child.guardians},
        "staff": _staff_choices(session, day),
        "names": _names(session, ids),
        "severities": SEVERITY_LABELS,
        "notify": NOTIFY_LABELS,
        "ack": ACK_LABELS,
        "me": actor.staff_id,
        "can_write": actor.can(Perm.HEALTH_WRITE),
    }


def _back(child: Child, part: str):  # type: ignore[no-untyped-def]
    return redirect(
        url_for("health_record.record", child_id=child.id, _anchor=f"section-{part}"), code=303
    )


@bp.post("/<int:child_id>/medication/instructions")
@require(Perm.HEALTH_WRITE)
def add_instruction(child_id: int):  # type: ignore[no-untyped-def]
    """Record a guardian's signed medication instruction, with its scan."""
    actor, fac, form = current_actor(), facility(), request.form
    child = get_child(db.session, actor, child_id)
    upload = request.files.get("scan")
    scan = upload.read(MAX_SCAN_BYTES + 1) if upload and upload.filename else None
    as_needed = checkbox(form, "as_needed")
    last = optional_date(form, "last_day")
    first = required_date(form, "first_day")
    med.add_instruction(
        db.session,
        actor,
        fac,
        child,
        now=now(),
        guardian_id=_form_int("guardian_id"),
        medicine=form.get("medicine", ""),
        form_strength=form.get("form_strength", ""),
        dose_amount=form.get("dose_amount", ""),
        dose_unit=form.get("dose_unit", ""),
        times=[] if as_needed else form.get("times", "").replace("，", ",").split(","),
        as_needed=as_needed,
        as_needed_condition=form.get("as_needed_condition", ""),
        first_day=first,
        last_day=last or first,
        reason=form.get("reason", ""),
        scan=scan,
        scan_type=upload.mimetype if scan is not None and upload else "",
        paper_received=checkbox(form, "paper_received"),
        received_by_staff_id=form.get("received_by_staff_id", type=int),
    )
    db.session.commit()
    flash(_("Medication instruction recorded for %(child)s.", child=child.name), "success")
    return _back(child, "medication")


@bp.post("/<int:child_id>/medication/doses")
@require(Perm.HEALTH_CHECK)
def give_dose(child_id: int):  # type: ignore[no-untyped-def]
    """Log a dose given, by the signed-in staff member unless another one is chosen."""
    actor, fac, at = current_actor(), facility(), now()
    child = get_child(db.session, actor, child_id)
    form = request.form
    given_at = _local_at(fac, today(fac, at), "given_at") if form.get("given_at") else at
    med.record_dose(
        db.session,
        actor,
        fac,
        child,
        now=at,
        instruction_id=_form_int("instruction_id"),
        given_at=given_at,
        dose_amount=form.get("dose_amount", ""),
        given_by_staff_id=form.get("given_by_staff_id", type=int) or actor.staff_id,
        witness_staff_id=form.get("witness_staff_id", type=int),
        slot=form.get("slot") or None,
        deviation_reason=form.get("deviation_reason", ""),
        note=form.get("note", ""),
    )
    db.session.commit()
    flash(_("Dose recorded for %(child)s.", child=child.name), "success")
    if form.get("back") == "today":
        return redirect(url_for("health_record.today_page"), code=303)
    return _back(child, "medication")


def _when(fac: Facility, field: str) -> datetime:
    """A date and a time of day typed in the form, as UTC."""
    day = optional_date(request.form, f"{field}_day") or today(fac, now())
    return _local_at(fac, day, f"{field}_time")


@bp.post("/<int:child_id>/incidents")
@require(Perm.HEALTH_WRITE)
def create_incident(child_id: int):  # type: ignore[no-untyped-def]
    """Report an incident or injury."""
    actor, fac, form = current_actor(), facility(), request.form
    child = get_child(db.session, actor, child_id)
    inc.create_incident(
        db.session,
        actor,
        fac,
        child,
        now=now(),
        occurred_at=_when(fac, "occurred"),
        location=form.get("location", ""),
        what_happened=form.get("what_happened", ""),
        severity=form.get("severity", ""),
        injury_type=form.get("injury_type", ""),
        body_part=form.get("body_part", ""),
        first_aid=form.get("first_aid", ""),
        first_aid_by_staff_id=form.get("first_aid_by_staff_id", type=int),
        sent_to_hospital=checkbox(form, "sent_to_hospital"),
        witness_staff_ids=id_list(form, "witness_staff_ids"),
        follow_up=form.get("follow_up", ""),
    )
    db.session.commit()
    flash(_("Incident report recorded for %(child)s.", child=child.name), "success")
    return _back(child, "incidents")


@bp.post("/<int:child_id>/incidents/notify")
@require(Perm.HEALTH_WRITE)
def notify_incident(child_id: int):  # type: ignore[no-untyped-def]
    """Record that the guardian was told of an incident."""
    actor, fac, form = current_actor(), facility(), request.form
    child = get_child(db.session, actor, child_id)
    report = inc.get_incident(db.session, child, _form_int("incident_id"))
    inc.record_notification(
        db.session,
        actor,
        fac,
        report,
        now=now(),
        notified_at=_when(fac, "notified"),
        how=form.get("how", ""),
        by_staff_id=form.get("by_staff_id", type=int) or actor.staff_id,
    )
    db.session.commit()
    flash(_("Guardian notification recorded."), "success")
    return _back(child, "incidents")


@bp.post("/<int:child_id>/incidents/acknowledge")
@require(Perm.HEALTH_WRITE)
def acknowledge_incident(child_id: int):  # type: ignore[no-untyped-def]
    """Record the guardian's acknowledgement of an incident report."""
    actor, fac, form = current_actor(), facility(), request.form
    child = get_child(db.session, actor, child_id)
    report = inc.get_incident(db.session, child, _form_int("incident_id"))
    inc.record_acknowledgement(
        db.session,
        actor,
        fac,
        child,
        report,
        now=now(),
        acknowledged_at=_when(fac, "acknowledged"),
        guardian_id=form.get("guardian_id", type=int),
        how=form.get("how", ""),
    )
    db.session.commit()
    flash(_("Guardian acknowledgement recorded."), "success")
    return _back(child, "incidents")


@bp.post("/<int:child_id>/incidents/follow-up")
@require(Perm.HEALTH_WRITE)
def follow_up_incident(child_id: int):  # type: ignore[no-untyped-def]
    """Add a follow-up note to an incident report."""
    actor = current_actor()
    child = get_child(db.session, actor, child_id)
    report = inc.get_incident(db.session, child, _form_int("incident_id"))
    inc.add_follow_up(db.session, actor, report, now=now(), note=request.form.get("note", ""))
    db.session.commit()
    flash(_("Follow-up note added."), "success")
    return _back(child, "incidents")


@bp.get("/today")
@require(Perm.HEALTH_VIEW)
def today_page():  # type: ignore[no-untyped-def]
    """Today's medication across the actor's classes and incidents awaiting guardians."""
    actor, fac, at = current_actor(), facility(), now()
    day = today(fac, at)
    class_ids = [r.id for r in visible_classes(db.session, fac, actor)]
    audit_health_read(None, "medication_day")
    children = {
        c.id: c
        for c in db.session.scalars(select(Child).where(Child.facility_id == fac.id))
        if (e := c.enrolment_on(day)) is not None and e.class_id in class_ids
    }
    plans = med.day_plan(db.session, fac, at, list(children))
    reports = inc.open_incidents(db.session, class_ids)
    names = {c.id: c.name for c in children.values()}
    names |= dict(
        db.session.execute(
            select(Child.id, Child.name).where(Child.id.in_({r.child_id for r in reports}))
        ).all()
    )
    return render_template(
        "health/today.html",
        day=day,
        now=at,
        plans=plans,
        reports=reports,
        overdue={r.id for r in reports if inc.is_overdue(fac, r, at)},
        deadline={r.id: inc.ack_deadline(fac, r) for r in reports},
        names=names,
        units=UNIT_LABELS,
        slot_labels=SLOT_LABELS,
        severities=SEVERITY_LABELS,
        staff=_staff_choices(db.session, day),
        me=actor.staff_id,
        can_give=actor.can(Perm.HEALTH_CHECK),
    )
