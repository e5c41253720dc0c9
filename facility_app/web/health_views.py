"""Children's health: the morning and midday check page, illness follow-up and clusters."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from carewatch.errors import DomainError
from facility_app.accounts.permissions import Perm
from facility_app.children.models import Child
from facility_app.children.service import get_child
from facility_app.facility.service import today, visible_classes
from facility_app.health import service as health
from health_records.illness import SYMPTOMS
from health_records.models import CheckAction, CheckKind, IllnessCase

from .auth import current_actor, facility, now, require
from .care_views import _form_int, _pick_room
from .extensions import db
from .forms import optional_date, required_date
from .health_audit import audit_health_read

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__, url_prefix="/health")

ITEM_LABELS = {
    "mouth": _l("Mouth"),
    "hands": _l("Hands"),
    "skin": _l("Skin"),
    "eyes": _l("Eyes"),
    "spirit": _l("Spirit"),
}
ACTION_LABELS = {
    "none": _l("Nothing needed"),
    "observe": _l("Keep under observation"),
    "guardian_informed": _l("Guardian informed"),
    "sent_home": _l("Sent home"),
}
SYMPTOM_LABELS = {
    "fever": _l("Fever"),
    "cough": _l("Cough"),
    "sore_throat": _l("Sore throat"),
    "runny_nose": _l("Runny nose"),
    "diarrhoea": _l("Diarrhoea"),
    "vomiting": _l("Vomiting"),
    "rash": _l("Rash"),
    "mouth_ulcers": _l("Mouth ulcers"),
    "red_eyes": _l("Red eyes"),
    "other": _l("Other"),
}


@bp.get("/checks")
@require(Perm.HEALTH_VIEW)
def checks():  # type: ignore[no-untyped-def]
    """One class's present children with today's check, fastest first: a temperature and OK."""
    actor, fac, at = current_actor(), facility(), now()
    rooms = [r for r in visible_classes(db.session, fac, actor) if r.active]
    room = _pick_room(rooms, request.args.get("class_id", type=int))
    try:
        kind = CheckKind(request.args.get("kind", CheckKind.MORNING.value))
    except ValueError:
        kind = CheckKind.MORNING
    day = today(fac, at)
    audit_health_read(None, f"{kind.value}_checks", class_id=room.id if room else None)
    status = health.check_status(db.session, fac, day, kind, [room.id] if room else [])
    children = {
        c.id: c for c in db.session.scalars(select(Child).where(Child.id.in_(status.present)))
    }
    return render_template(
        "health/checks.html",
        rooms=rooms,
        room=room,
        kind=kind,
        status=status,
        children=sorted(children.values(), key=lambda c: c.name),
        due=health.due_time(fac, day),
        now=at,
        items=ITEM_LABELS,
        actions=ACTION_LABELS,
        can_write=actor.can(Perm.HEALTH_CHECK),
    )


@bp.post("/checks")
@require(Perm.HEALTH_CHECK)
def record_check():  # type: ignore[no-untyped-def]
    """Record one child's check and go back to the class."""
    actor, fac = current_actor(), facility()
    child = get_child(db.session, actor, _form_int("child_id"))
    kind = request.form.get("kind", CheckKind.MORNING.value)
    health.record_check(
        db.session,
        actor,
        fac,
        child,
        now=now(),
        kind=kind,
        temperature_c=(request.form.get("temperature_c") or "").strip(),
        abnormal=request.form.getlist("abnormal"),
        action=request.form.get("action", CheckAction.NONE.value),
        note=(request.form.get("note") or "")[:500],
    )
    db.session.commit()
    flash(_("%(child)s checked.", child=child.name), "success")
    return redirect(
        url_for("health.checks", class_id=request.form.get("class_id", type=int), kind=kind),
        code=303,
    )


@bp.get("/illness")
@require(Perm.HEALTH_VIEW)
def illness():  # type: ignore[no-untyped-def]
    """Illness absences waiting for follow-up, recent cases and open clusters."""
    fac, at = facility(), now()
    day = today(fac, at)
    audit_health_read(None, "illness")
    hp = fac.policy().health
    pending = health.pending_followups(
        db.session, fac, day - timedelta(days=hp.case_lookback_days + 7), day
    )
    cases = db.session.scalars(
        select(IllnessCase)
        .where(IllnessCase.onset_day >= day - timedelta(days=30))
        .order_by(IllnessCase.onset_day.desc(), IllnessCase.id.desc())
    ).all()
    ids = {a.child_id for a in pending} | {c.child_id for c in cases}
    names = dict(db.session.execute(select(Child.id, Child.name).where(Child.id.in_(ids))).all())
    return render_template(
        "health/illness.html",
        pending=pending,
        cases=cases,
        names=names,
        clusters=health.unreported_clusters(db.session, fac),
        symptoms=[(s, SYMPTOM_LABELS[s]) for s in SYMPTOMS],
        symptom_labels=SYMPTOM_LABELS,
        can_write=current_actor().can(Perm.HEALTH_WRITE),
        day=day,
    )


@bp.post("/cases")
@require(Perm.HEALTH_WRITE)
def record_case():  # type: ignore[no-untyped-def]
    """Follow up an illness: symptoms, temperature, diagnosis, expected return."""
    actor, fac = current_actor(), facility()
    form = request.form
    child = get_child(db.session, actor, _form_int("child_id"))
    if len(form.get("diagnosis", "")) > 200:
        raise DomainError(
            "too_long", "At most %(n)s characters are allowed.", field="diagnosis", n=200
        )
    health.record_case(
        db.session,
        actor,
        fac,
        child,
        now=now(),
        onset_day=required_date(form, "onset_day"),
        symptoms=form.getlist("symptoms"),
        max_temperature_c=(form.get("max_temperature_c") or "").strip() or None,
        diagnosis=form.get("diagnosis", ""),
        disease=(form.get("disease") or "").strip(),
        notifiable=form.get("notifiable") == "on",
        expected_return=optional_date(form, "expected_return"),
    )
    db.session.commit()
    flash(_("Follow-up recorded for %(child)s.", child=child.name), "success")
    return redirect(url_for("health.illness"), code=303)
