"""One child's health record: a page of sections, every read of it audited.

Each part of the record (checks, illness, and what other health modules add) registers a
:class:`Section` with :func:`section`; the page shows them in order. Reads are written to
the audit log in their own committed transaction before anything is shown, so a read that
could not be recorded is not shown either.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from facility_app.accounts.permissions import Actor, Perm
from facility_app.children.models import Child
from facility_app.children.service import get_child
from facility_app.facility.service import today
from health_records.models import CheckKind, HealthCheck, IllnessCase

from .auth import current_actor, facility, now, require
from .extensions import db
from .health_audit import audit_health_read
from .health_views import ACTION_LABELS, ITEM_LABELS, SYMPTOM_LABELS

log = logging.getLogger(__name__)

#: Days of daily checks the record shows (older ones stay in the database).
CHECK_DAYS_SHOWN = 60

bp = Blueprint("health_record", __name__, url_prefix="/health/children")

Loader = Callable[[Session, Actor, Child, date], dict[str, Any]]


@dataclass(frozen=True)
class Section:
    """One part of a child's health record page."""

    key: str
    title: Any
    template: str
    order: int
    load: Loader


SECTIONS: dict[str, Section] = {}


def section(key: str, title: Any, template: str, order: int) -> Callable[[Loader], Loader]:
    """Register a loader that returns the template context of one record section."""

    def register(load: Loader) -> Loader:
        SECTIONS[key] = Section(key, title, template, order, load)
        return load

    return register


@section("checks", _l("Morning and midday checks"), "health/_child_checks.html", order=20)
def _checks(session: Session, actor: Actor, child: Child, day: date) -> dict[str, Any]:
    since = day - timedelta(days=CHECK_DAYS_SHOWN)
    rows = session.scalars(
        select(HealthCheck)
        .where(HealthCheck.child_id == child.id, HealthCheck.day >= since)
        .order_by(HealthCheck.day.desc(), HealthCheck.id.desc())
    ).all()
    kinds = {CheckKind.MORNING.value: _l("Morning"), CheckKind.MIDDAY.value: _l("Midday")}
    return {
        "checks": rows,
        "since": since,
        "labels": ITEM_LABELS,
        "actions": ACTION_LABELS,
        "kinds": kinds,
    }


@section("illness", _l("Illness"), "health/_child_illness.html", order=30)
def _illness(session: Session, actor: Actor, child: Child, day: date) -> dict[str, Any]:
    cases = session.scalars(
        select(IllnessCase)
        .where(IllnessCase.child_id == child.id)
        .order_by(IllnessCase.onset_day.desc(), IllnessCase.id.desc())
    ).all()
    return {"cases": cases, "symptoms": SYMPTOM_LABELS}


@bp.get("/<int:child_id>")
@require(Perm.HEALTH_VIEW)
def record(child_id: int):  # type: ignore[no-untyped-def]
    """A child's health record, every section the health modules provide."""
    return render_record(get_child(db.session, current_actor(), child_id))


def render_record(child: Child, **context: Any) -> str:
    """Audit the read, then render the record page with every section (and ``context``)."""
    actor = current_actor()
    # The identity key, not child.id: after a rollback, reading an attribute would open the
    # request's write transaction before the audit's own one, which then waits for it.
    audit_health_read(inspect(child).identity[0], "record")
    day = today(facility(), now())
    parts = [
        (s, s.load(db.session, actor, child, day))
        for s in sorted(SECTIONS.values(), key=lambda s: s.order)
    ]
    return render_template("health/child.html", child=child, parts=parts, day=day, **context)


# Importing these registers their sections (they import this module, so they come last).
from . import health_admission_views, health_care_views, health_growth_views  # noqa: E402, F401
