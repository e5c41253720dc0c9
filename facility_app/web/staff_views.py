"""Staff: the list with assignments and who is on duty now, and the staff form."""

from __future__ import annotations

import logging
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from carewatch.errors import DomainError
from facility_app.accounts.permissions import Perm
from facility_app.facility.service import today
from facility_app.staff.models import Staff, StaffRole
from facility_app.staff.service import get_staff, list_staff, on_duty, save_staff

from .auth import current_actor, facility, now, require
from .children_views import class_names
from .extensions import db
from .forms import (
    id_list,
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

FORM = "people/staff_form.html"


@bp.get("/staff")
@require(Perm.STAFF_VIEW)
def staff():  # type: ignore[no-untyped-def]
    """Staff employed today (or everyone, with ``?former=1``), their classes and duty."""
    fac = facility()
    day = today(fac, now())
    former = request.args.get("former") == "1"
    people = list_staff(db.session, fac, on=None if former else day)
    return render_template(
        "people/staff.html",
        people=people,
        day=day,
        former=former,
        duty={d.staff_id: d for d in on_duty(db.session)},
        class_names=class_names(),
    )


def _staff_form(person: Staff | None):  # type: ignore[no-untyped-def]
    fac = facility()
    context: dict[str, Any] = {
        "person": person,
        "roles": [(r.value, label(r)) for r in StaffRole],
        "rooms": [
            (str(r.id), r.name)
            for r in fac.classes
            if r.active or (person and r.id in person.class_ids)
        ],
    }
    if request.method == "GET":
        if person is None:
            values = MultiDict(
                {"role": StaffRole.CAREGIVER.value, "hire_date": today(fac, now()).isoformat()}
            )
        else:
            values = MultiDict(
                [
                    ("name", person.name),
                    ("role", person.role.value),
                    ("phone", person.phone),
                    ("hire_date", person.hire_date.isoformat()),
                    ("leave_date", person.leave_date.isoformat() if person.leave_date else ""),
                    *(("class_ids", str(c)) for c in sorted(person.class_ids)),
                ]
            )
        return show_form(FORM, values=values, **context)
    form = request.form
    try:
        saved = save_staff(
            db.session,
            current_actor(),
            fac,
            now=now(),
            name=text(form, "name"),
            role=form.get("role", ""),
            phone=phone(form, "phone"),
            hire_date=required_date(form, "hire_date"),
            leave_date=optional_date(form, "leave_date"),
            class_ids=id_list(form, "class_ids"),
            staff_id=person.id if person else None,
        )
        db.session.commit()
    except DomainError as err:
        return refuse_form(FORM, err, **context)
    log.info("staff %s saved", saved.id)
    flash(_("Staff member saved."), "success")
    return redirect(url_for("people.staff"), code=303)


@bp.route("/staff/new", methods=["GET", "POST"])
@require(Perm.STAFF_WRITE)
def create_staff():  # type: ignore[no-untyped-def]
    """Add a staff member."""
    return _staff_form(None)


@bp.route("/staff/<int:staff_id>/edit", methods=["GET", "POST"])
@require(Perm.STAFF_WRITE)
def edit_staff(staff_id: int):  # type: ignore[no-untyped-def]
    """Change a staff record and class assignments."""
    return _staff_form(or_404(get_staff, db.session, staff_id))
