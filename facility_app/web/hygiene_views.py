"""Disinfection on a tablet: today's tasks, overdue first, logged in a tap; schedules."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from carewatch.errors import DomainError
from carewatch.policy import DisinfectionMethod
from facility_app.accounts.permissions import Perm
from facility_app.facility.service import today, visible_classes
from facility_app.hygiene import service as hygiene
from facility_app.hygiene.models import Target

from .auth import current_actor, facility, now, require
from .extensions import db
from .kitchen_views import form_at, form_int, form_text

log = logging.getLogger(__name__)

bp = Blueprint("hygiene", __name__, url_prefix="/hygiene")


@bp.get("/")
@require(Perm.HYGIENE_VIEW)
def index():  # type: ignore[no-untyped-def]
    """Every task the user may log, overdue first, with a big button to log it."""
    actor, fac, at = current_actor(), facility(), now()
    scope = sorted(actor.class_ids) if actor.class_scoped else None
    rows = hygiene.task_rows(db.session, fac, at, scope)
    rows.sort(key=lambda r: (not r.due.overdue, r.due.due_day or at.date(), r.task.area))
    return render_template(
        "hygiene/index.html",
        rows=rows,
        now=at,
        today=today(fac, at),
        hp=fac.policy().hygiene,
        can_write=actor.can(Perm.HYGIENE_WRITE),
    )


def _optional_int(name: str) -> int | None:
    raw = form_text(name, 12)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise DomainError("invalid_number", "Enter a whole number.", field=name) from None


@bp.post("/log")
@require(Perm.HYGIENE_WRITE)
def log_task():  # type: ignore[no-untyped-def]
    """Log one disinfection with its measured values."""
    actor, fac = current_actor(), facility()
    duration = _optional_int("duration_minutes")
    entry = hygiene.log_task(
        db.session, actor, fac, now=now(), task_id=form_int("task_id"),
        duration_minutes=duration if duration is not None else 0,
        concentration_mg_l=_optional_int("concentration_mg_l"), at=form_at(),
        note=form_text("note"), reason=form_text("reason"),
    )  # fmt: skip
    db.session.commit()
    if entry.within_limits:
        flash(_("Disinfection logged: %(area)s", area=entry.task.area), "success")
    else:
        flash(
            _("Logged, but outside the method's limits: %(area)s still counts as not done.",
              area=entry.task.area),
            "error",
        )  # fmt: skip
    return redirect(url_for("hygiene.index"), code=303)


@bp.get("/tasks")
@require(Perm.HYGIENE_VIEW)
def tasks():  # type: ignore[no-untyped-def]
    """The disinfection schedules."""
    actor, fac = current_actor(), facility()
    return render_template(
        "hygiene/tasks.html",
        tasks=hygiene.tasks(db.session),
        rooms=[r for r in visible_classes(db.session, fac, actor) if r.active],
        targets=list(Target),
        methods=list(DisinfectionMethod),
        hp=fac.policy().hygiene,
        can_plan=actor.can(Perm.HYGIENE_PLAN),
    )


@bp.post("/tasks")
@require(Perm.HYGIENE_PLAN)
def save_task():  # type: ignore[no-untyped-def]
    """Create or change a schedule."""
    task = hygiene.save_task(
        db.session, current_actor(), facility(), now=now(), area=form_text("area", 60),
        target=form_text("target", 24), method=form_text("method", 24),
        duration_minutes=_optional_int("duration_minutes") or 0,
        concentration_mg_l=_optional_int("concentration_mg_l"),
        times_per_day=_optional_int("times_per_day") or 1,
        every_days=_optional_int("every_days") or 1,
        class_id=form_int("class_id", required=False),
        task_id=form_int("task_id", required=False),
    )  # fmt: skip
    db.session.commit()
    flash(_("Schedule saved: %(area)s", area=task.area), "success")
    return redirect(url_for("hygiene.tasks"), code=303)
