"""A child's enrolments, and the guardians and other adults who may pick the child up."""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from carewatch.errors import DomainError
from facility_app.accounts.permissions import Perm
from facility_app.children import service as children_service
from facility_app.children.models import CareType, Child, Enrolment, Guardian
from facility_app.facility.service import today, visible_classes

from .auth import current_actor, facility, now, require
from .extensions import db
from .forms import (
    checkbox,
    integer,
    optional_date,
    or_404,
    phone,
    refuse_form,
    required_date,
    show_form,
    text,
)
from .people_views import bp
from .templating import label

log = logging.getLogger(__name__)

ENROL_FORM = "people/enrolment_form.html"
END_FORM = "people/end_enrolment_form.html"
GUARDIAN_FORM = "people/guardian_form.html"


def _child(child_id: int) -> Child:
    return or_404(children_service.get_child, db.session, current_actor(), child_id)


def _back(child: Child, message: str):  # type: ignore[no-untyped-def]
    flash(message, "success")
    return redirect(url_for("people.child_detail", child_id=child.id), code=303)


@bp.route("/children/<int:child_id>/enrolments/new", methods=["GET", "POST"])
@require(Perm.CHILDREN_WRITE)
def new_enrolment(child_id: int):  # type: ignore[no-untyped-def]
    """Enrol a child in a class with a care type for a period."""
    child, fac = _child(child_id), facility()
    context: dict[str, Any] = {
        "child": child,
        "rooms": [
            (str(r.id), f"{r.name} · {label(r.class_type)}")
            for r in visible_classes(db.session, fac, current_actor())
        ],
        "care_types": [(c.value, label(c)) for c in CareType],
    }
    if request.method == "GET":
        values = MultiDict(
            {"start_date": today(fac, now()).isoformat(), "care_type": CareType.FULL_DAY.value}
        )
        return show_form(ENROL_FORM, values=values, **context)
    form = request.form
    try:
        children_service.add_enrolment(
            db.session,
            current_actor(),
            fac,
            child,
            now=now(),
            class_id=integer(form, "class_id"),
            care_type=form.get("care_type", ""),
            start_date=required_date(form, "start_date"),
            end_date=optional_date(form, "end_date"),
            puhui_place=checkbox(form, "puhui_place"),
        )
        db.session.commit()
    except DomainError as err:
        return refuse_form(ENROL_FORM, err, **context)
    log.info("child %s enrolled", child.id)
    return _back(child, _("Enrolment added."))


@bp.route("/children/<int:child_id>/enrolments/<int:enrolment_id>/end", methods=["GET", "POST"])
@require(Perm.CHILDREN_WRITE)
def end_enrolment(child_id: int, enrolment_id: int):  # type: ignore[no-untyped-def]
    """Set the last day of an enrolment."""
    child = _child(child_id)
    enrolment: Enrolment | None = next((e for e in child.enrolments if e.id == enrolment_id), None)
    if enrolment is None:
        abort(404)
    context = {"child": child, "enrolment": enrolment}
    if request.method == "GET":
        day = max(today(facility(), now()), enrolment.start_date)
        values = MultiDict({"end_date": (enrolment.end_date or day).isoformat()})
        return show_form(END_FORM, values=values, **context)
    form = request.form
    try:
        children_service.end_enrolment(
            db.session,
            current_actor(),
            enrolment,
            now=now(),
            end_date=required_date(form, "end_date"),
            reason=text(form, "reason", max_len=500),
        )
        db.session.commit()
    except DomainError as err:
        return refuse_form(END_FORM, err, **context)
    log.info("enrolment %s ended", enrolment.id)
    return _back(child, _("Enrolment end date saved."))


def _guardian_form(child: Child, guardian: Guardian | None):  # type: ignore[no-untyped-def]
    context = {"child": child, "guardian": guardian}
    if request.method == "GET":
        flags = ("is_guardian", "can_pick_up", "active")
        if guardian is None:
            values = MultiDict(dict.fromkeys(flags, "1"))
        else:
            values = MultiDict(
                {
                    "name": guardian.name,
                    "relationship": guardian.relationship_,
                    "phone": guardian.phone,
                    **{f: "1" if getattr(guardian, f) else "" for f in flags},
                }
            )
        return show_form(GUARDIAN_FORM, values=values, **context)
    form = request.form
    try:
        children_service.save_guardian(
            db.session,
            current_actor(),
            child,
            now=now(),
            name=text(form, "name"),
            relationship=text(form, "relationship", max_len=30),
            phone=phone(form, "phone"),
            is_guardian=checkbox(form, "is_guardian"),
            can_pick_up=checkbox(form, "can_pick_up"),
            active=checkbox(form, "active"),
            guardian_id=guardian.id if guardian else None,
        )
        db.session.commit()
    except DomainError as err:
        return refuse_form(GUARDIAN_FORM, err, **context)
    log.info("guardian of child %s saved", child.id)
    return _back(child, _("Person saved."))


@bp.route("/children/<int:child_id>/guardians/new", methods=["GET", "POST"])
@require(Perm.CHILDREN_WRITE)
def new_guardian(child_id: int):  # type: ignore[no-untyped-def]
    """Add a guardian or another person who may pick the child up."""
    return _guardian_form(_child(child_id), None)


@bp.route("/children/<int:child_id>/guardians/<int:guardian_id>/edit", methods=["GET", "POST"])
@require(Perm.CHILDREN_WRITE)
def edit_guardian(child_id: int, guardian_id: int):  # type: ignore[no-untyped-def]
    """Change a guardian or pick-up person, or stop them picking up."""
    child = _child(child_id)
    guardian = next((g for g in child.guardians if g.id == guardian_id), None)
    if guardian is None:
        abort(404)
    return _guardian_form(child, guardian)
