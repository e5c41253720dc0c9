"""Alerts: the open ones to act on, the recently handled ones, and acknowledging."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from facility_app.accounts.permissions import Perm
from facility_app.alerts.models import Alert
from facility_app.alerts.service import acknowledge, open_alerts, recent_alerts

from .auth import current_actor, facility, now, require
from .extensions import db
from .lookups import child_names, user_names

log = logging.getLogger(__name__)

bp = Blueprint("alerts", __name__, url_prefix="/alerts")

RECENT = 100


@bp.get("/")
@require(Perm.ALERTS_VIEW)
def index():  # type: ignore[no-untyped-def]
    """Open alerts, newest first, and the alerts handled recently."""
    fac, actor = facility(), current_actor()
    open_ = open_alerts(db.session, fac.id, actor)
    handled = [
        a
        for a in recent_alerts(db.session, fac.id, limit=RECENT)
        if a.acknowledged_at is not None
        and (a.class_id is None or actor.can_reach_class(a.class_id))
    ]
    shown: list[Alert] = open_ + handled
    children = (
        child_names(db.session, {a.child_id for a in shown if a.child_id})
        if actor.can(Perm.CHILDREN_VIEW)
        else {}
    )
    return render_template(
        "alerts/index.html",
        open_alerts=open_,
        handled=handled,
        child_names=children,
        user_names=user_names(
            db.session, {a.acknowledged_by_id for a in handled if a.acknowledged_by_id}
        ),
    )


@bp.post("/<int:alert_id>/ack")
@require(Perm.ALERTS_ACK)
def ack(alert_id: int):  # type: ignore[no-untyped-def]
    """Mark an alert as seen and handled."""
    acknowledge(db.session, current_actor(), alert_id, now=now())
    db.session.commit()
    log.info("alert %s acknowledged", alert_id)
    flash(_("Alert acknowledged."), "success")
    return redirect(url_for("alerts.index"), code=303)
