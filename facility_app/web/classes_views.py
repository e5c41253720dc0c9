"""Class pages: the list with live ratio status, the class form, and the breach history."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from carewatch.errors import DomainError
from carewatch.policy import ClassType
from facility_app.accounts.permissions import Perm
from facility_app.children.service import enrolled_children
from facility_app.facility.models import ClassRoom
from facility_app.facility.service import get_class, save_class, today, visible_classes
from facility_app.ratio.rules import RatioStatus
from facility_app.ratio.service import live_status
from facility_app.staff.service import list_staff

from . import breach_report
from .auth import current_actor, facility, now, require
from .extensions import db
from .forms import error_message, integer, or_404, refuse_form, show_form, text
from .templating import label

log = logging.getLogger(__name__)

bp = Blueprint("classes", __name__, url_prefix="/classes")


@dataclass(frozen=True)
class ClassRow:
    """One class's line on the list."""

    room: ClassRoom
    policy_limit: int
    enrolled: int
    status: RatioStatus


def _reachable(class_id: int) -> ClassRoom:
    """A class of this facility that the user may see, else 404."""
    room = or_404(get_class, db.session, class_id)
    if room.facility_id != facility().id or not current_actor().can_reach_class(room.id):
        abort(404)
    return room


@bp.get("/")
@require(Perm.CLASSES_VIEW)
def index():  # type: ignore[no-untyped-def]
    """Every class the user may see, with size, today's enrolment and the live ratio."""
    fac, at = facility(), now()
    day = today(fac, at)
    rooms = visible_classes(db.session, fac, current_actor())
    statuses = live_status(db.session, fac, rooms, at)
    enrolled = Counter(
        e.class_id for _c, e in enrolled_children(db.session, [r.id for r in rooms], day)
    )
    policy = fac.policy()
    rows = [
        ClassRow(r, policy.class_rule(r.class_type).max_children, enrolled[r.id], statuses[r.id])
        for r in rooms
    ]
    return render_template("classes/index.html", rows=rows, day=day, facility=fac)


@bp.get("/<int:class_id>")
@require(Perm.CLASSES_VIEW)
def detail(class_id: int):  # type: ignore[no-untyped-def]
    """A class today, and its breach history over a chosen range (the inspector's page)."""
    room = _reachable(class_id)
    fac, at, actor = facility(), now(), current_actor()
    day = today(fac, at)
    range_error, status = None, 200
    try:
        period = breach_report.parse_range(request.args, day)
    except DomainError as err:
        range_error, status = error_message(err), 400
        period = breach_report.default_range(day)
    children = (
        enrolled_children(db.session, [room.id], day) if actor.can(Perm.CHILDREN_VIEW) else None
    )
    staff = (
        [s for s in list_staff(db.session, fac, on=day) if room.id in s.class_ids]
        if actor.can(Perm.STAFF_VIEW)
        else None
    )
    rows = breach_report.history(db.session, room, period, at)
    page = render_template(
        "classes/detail.html",
        room=room,
        facility=fac,
        day=day,
        rule=fac.policy().class_rule(room.class_type),
        status=live_status(db.session, fac, [room], at)[room.id],
        children=children,
        staff=staff,
        period=period,
        range_error=range_error,
        rows=rows,
        total_minutes=sum(r.minutes for r in rows),
        generated_at=at,
    )
    return page, status


@bp.get("/<int:class_id>/breaches.csv")
@require(Perm.CLASSES_VIEW)
def breaches_csv(class_id: int):  # type: ignore[no-untyped-def]
    """The breach history of a class as a CSV file for Excel."""
    room = _reachable(class_id)
    fac, at = facility(), now()
    try:
        period = breach_report.parse_range(request.args, today(fac, at))
    except DomainError as err:
        flash(error_message(err), "error")
        return redirect(url_for("classes.detail", class_id=room.id), code=303)
    body = breach_report.to_csv(
        room, breach_report.history(db.session, room, period, at), fac.timezone
    )
    name = f"class-{room.id}-breaches-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _form_context() -> dict[str, Any]:
    policy = facility().policy()
    return {
        "class_types": [(t.value, label(t)) for t in ClassType],
        "rules": [(t, policy.class_rule(t)) for t in ClassType],
    }


def _class_form(room: ClassRoom | None):  # type: ignore[no-untyped-def]
    context = {"room": room, **_form_context()}
    if request.method == "GET":
        values: MultiDict[str, str] = MultiDict(
            {"class_type": ClassType.TODDLER.value}
            if room is None
            else {
                "name": room.name,
                "class_type": room.class_type.value,
                "room": room.room,
                "capacity": str(room.capacity),
            }
        )
        return show_form("classes/form.html", values=values, **context)
    form = request.form
    try:
        saved = save_class(
            db.session,
            current_actor(),
            facility(),
            now=now(),
            name=text(form, "name"),
            class_type=form.get("class_type", ""),
            capacity=integer(form, "capacity"),
            room=text(form, "room", max_len=60),
            class_id=room.id if room else None,
        )
        db.session.commit()
    except DomainError as err:
        return refuse_form("classes/form.html", err, **context)
    log.info("class %s saved", saved.id)
    flash(_("Class saved."), "success")
    return redirect(url_for("classes.detail", class_id=saved.id), code=303)


@bp.route("/new", methods=["GET", "POST"])
@require(Perm.FACILITY_WRITE)
def create():  # type: ignore[no-untyped-def]
    """Create a class."""
    return _class_form(None)


@bp.route("/<int:class_id>/edit", methods=["GET", "POST"])
@require(Perm.FACILITY_WRITE)
def edit(class_id: int):  # type: ignore[no-untyped-def]
    """Change a class's name, type, room or capacity."""
    return _class_form(_reachable(class_id))
