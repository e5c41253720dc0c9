"""Children: the list with search and class filter, the child's page, and the child form."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from carewatch.errors import DomainError
from facility_app.accounts.permissions import Perm
from facility_app.attendance.models import AttendanceRecord
from facility_app.children.models import Child, Enrolment, Sex
from facility_app.children.service import get_child, list_children, save_child
from facility_app.facility.service import today, visible_classes
from facility_app.ratio.rules import age_in_months

from .auth import current_actor, facility, now, require
from .extensions import db
from .forms import or_404, refuse_form, required_date, show_form, text
from .people_views import bp
from .templating import label

log = logging.getLogger(__name__)

RECENT_ATTENDANCE = 30
FORM = "people/child_form.html"


@dataclass(frozen=True)
class ChildRow:
    """One child's line on the list."""

    child: Child
    enrolment: Enrolment | None
    months: int


def class_names() -> dict[int, str]:
    """Names of all the facility's classes by id."""
    return {r.id: r.name for r in facility().classes}


@bp.get("/children")
@require(Perm.CHILDREN_VIEW)
def children():  # type: ignore[no-untyped-def]
    """Children the user may see, searchable by name and filterable by today's class."""
    fac, actor = facility(), current_actor()
    day = today(fac, now())
    query = (request.args.get("q") or "").strip()[:60]
    class_id = request.args.get("class_id", type=int)
    rows = []
    for child in list_children(db.session, actor, fac, day):
        enrolment = child.enrolment_on(day)
        if class_id is not None and (enrolment is None or enrolment.class_id != class_id):
            continue
        if query and query.casefold() not in child.name.casefold():
            continue
        rows.append(ChildRow(child, enrolment, age_in_months(child.birth_date, day)))
    return render_template(
        "people/children.html",
        rows=rows,
        query=query,
        class_id=class_id,
        rooms=visible_classes(db.session, fac, actor),
        class_names=class_names(),
    )


@bp.get("/children/<int:child_id>")
@require(Perm.CHILDREN_VIEW)
def child_detail(child_id: int):  # type: ignore[no-untyped-def]
    """A child's record: age, enrolments, allergies, who may pick up, recent attendance."""
    fac = facility()
    day = today(fac, now())
    child = or_404(get_child, db.session, current_actor(), child_id, day)
    attendance = db.session.scalars(
        select(AttendanceRecord)
        .where(AttendanceRecord.child_id == child.id)
        .order_by(AttendanceRecord.day.desc())
        .limit(RECENT_ATTENDANCE)
    ).all()
    return render_template(
        "people/child_detail.html",
        child=child,
        day=day,
        months=age_in_months(child.birth_date, day) if child.birth_date <= day else 0,
        current=child.enrolment_on(day),
        attendance=attendance,
        class_names=class_names(),
    )


def _child_form(child: Child | None):  # type: ignore[no-untyped-def]
    context = {"child": child, "sexes": [(s.value, label(s)) for s in Sex]}
    if request.method == "GET":
        values: MultiDict[str, str] = MultiDict()
        if child is not None:
            values = MultiDict(
                {
                    "name": child.name,
                    "sex": child.sex.value,
                    "birth_date": child.birth_date.isoformat(),
                    "allergies": child.allergies,
                    "notes": child.notes,
                }
            )
        return show_form(FORM, values=values, **context)
    form = request.form
    try:
        saved = save_child(
            db.session,
            current_actor(),
            facility(),
            now=now(),
            name=text(form, "name"),
            sex=form.get("sex", ""),
            birth_date=required_date(form, "birth_date"),
            allergies=text(form, "allergies"),
            notes=text(form, "notes"),
            reason=text(form, "reason", max_len=500),
            child_id=child.id if child else None,
        )
        db.session.commit()
    except DomainError as err:
        return refuse_form(FORM, err, **context)
    log.info("child %s saved", saved.id)
    flash(_("Child saved."), "success")
    return redirect(url_for("people.child_detail", child_id=saved.id), code=303)


@bp.route("/children/new", methods=["GET", "POST"])
@require(Perm.CHILDREN_WRITE)
def create_child():  # type: ignore[no-untyped-def]
    """Register a new child."""
    return _child_form(None)


@bp.route("/children/<int:child_id>/edit", methods=["GET", "POST"])
@require(Perm.CHILDREN_WRITE)
def edit_child(child_id: int):  # type: ignore[no-untyped-def]
    """Change a child's record."""
    return _child_form(or_404(get_child, db.session, current_actor(), child_id))
