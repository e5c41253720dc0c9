"""The facility settings page: profile, hours and time zone, and the class limits in force."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from carewatch.errors import DomainError
from carewatch.policy import ClassType
from facility_app.accounts.permissions import Perm
from facility_app.facility.models import Facility, Grade, Ownership
from facility_app.facility.service import update_facility

from .auth import current_actor, facility, now, require
from .extensions import db
from .forms import checkbox, refuse_form, show_form, text, time_of_day
from .templating import label

log = logging.getLogger(__name__)

bp = Blueprint("facility_settings", __name__, url_prefix="/facility")

TEMPLATE = "facility/settings.html"


def _values(fac: Facility) -> MultiDict[str, str]:
    return MultiDict(
        {
            "name": fac.name,
            "registration_no": fac.registration_no,
            "filing_no": fac.filing_no,
            "address": fac.address,
            "grade": fac.grade.value,
            "ownership": fac.ownership.value,
            "puhui_certified": "1" if fac.puhui_certified else "",
            "opening_time": fac.opening_time.strftime("%H:%M"),
            "closing_time": fac.closing_time.strftime("%H:%M"),
            "timezone": fac.timezone,
        }
    )


def _context(fac: Facility) -> dict[str, Any]:
    policy = fac.policy()
    return {
        "facility": fac,
        "grades": [(g.value, label(g)) for g in Grade],
        "ownerships": [(o.value, label(o)) for o in Ownership],
        "profile_name": fac.policy_profile.name if fac.policy_profile else None,
        "rules": [(t, policy.class_rule(t)) for t in ClassType],
        "policy": policy,
    }


@bp.route("/", methods=["GET", "POST"])
@require(Perm.FACILITY_WRITE)
def edit():  # type: ignore[no-untyped-def]
    """Show and change the facility profile; the policy limits are shown read-only."""
    fac = facility()
    if request.method == "GET":
        return show_form(TEMPLATE, values=_values(fac), **_context(fac))
    form = request.form
    try:
        update_facility(
            db.session,
            current_actor(),
            fac,
            now=now(),
            name=text(form, "name"),
            registration_no=text(form, "registration_no"),
            filing_no=text(form, "filing_no"),
            address=text(form, "address"),
            grade=form.get("grade", ""),
            ownership=form.get("ownership", ""),
            puhui_certified=checkbox(form, "puhui_certified"),
            opening_time=time_of_day(form, "opening_time"),
            closing_time=time_of_day(form, "closing_time"),
            timezone=text(form, "timezone"),
        )
        db.session.commit()
    except DomainError as err:
        return refuse_form(TEMPLATE, err, **_context(fac))
    log.info("facility %s settings saved", fac.id)
    flash(_("Facility settings saved."), "success")
    return redirect(url_for("facility_settings.edit"), code=303)
