"""The director's page for today."""

from __future__ import annotations

import logging

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from facility_app import overview
from facility_app.accounts.permissions import Perm

from .auth import current_actor, facility, now, require
from .extensions import db

log = logging.getLogger(__name__)

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def home():  # type: ignore[no-untyped-def]
    """Send each role to the page it starts its day on."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if current_actor().can(Perm.DASHBOARD_VIEW):
        return redirect(url_for("dashboard.today"))
    return redirect(url_for("attendance.door"))


@bp.get("/today")
@require(Perm.DASHBOARD_VIEW)
def today():  # type: ignore[no-untyped-def]
    """Present against expected per class, ratio status, open check-ins and alerts."""
    view = overview.build(db.session, current_actor(), facility(), now())
    return render_template("dashboard/today.html", view=view, facility=facility())
