"""Template filters and globals: local times, labels for enums, alert messages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from facility_app.accounts.permissions import Perm

from . import LANGUAGES, select_locale

LABELS: dict[str, Any] = {
    # class types
    "infant": _l("Infant class"),
    "toddler": _l("Toddler class"),
    "older": _l("Older toddler class"),
    "mixed": _l("Mixed-age class"),
    # care types
    "full_day": _l("Full day"),
    "half_day": _l("Half day"),
    "hourly": _l("Hourly"),
    "temporary": _l("Temporary"),
    # staff roles and user roles
    "director": _l("Director"),
    "caregiver": _l("Caregiver"),
    "health_officer": _l("Health officer"),
    "cook": _l("Cook"),
    "security": _l("Security"),
    "other": _l("Other"),
    "admin": _l("Administrator"),
    "regulator": _l("Regulator"),
    # absence reasons
    "illness": _l("Illness"),
    "personal": _l("Personal"),
    # sexes
    "female": _l("Girl"),
    "male": _l("Boy"),
    # grades and ownership
    "demonstration": _l("Model (示范)"),
    "level1": _l("Grade 1"),
    "level2": _l("Grade 2"),
    "level3": _l("Grade 3"),
    "ungraded": _l("Not graded"),
    "public": _l("Public"),
    "private": _l("Private"),
    "state_collective": _l("State or collective assets"),
    # door states
    "expected": _l("Not arrived"),
    "present": _l("Present"),
    "left": _l("Picked up"),
    "absent": _l("Absent"),
    # health exam results
    "fit": _l("Fit for work"),
    "unfit": _l("Not fit for work"),
    # breaches
    "ratio": _l("Out of ratio"),
    "capacity": _l("Over capacity"),
    # compliance rule statuses
    "pass": _l("Pass"),
    "warn": _l("Warning"),
    "fail": _l("Fail"),
    "unknown": _l("Unknown"),
    "not_evaluated": _l("Not evaluated"),
}

ALERT_MESSAGES: dict[str, Any] = {
    "unauthorised_pickup": _l("Pick-up refused: %(person)s is not authorised for this child."),
    "ratio_breach": _l(
        "%(class)s out of ratio: %(children)s children with %(caregivers)s caregivers "
        "(%(limit)s needed)."
    ),
    "capacity_breach": _l("%(class)s over capacity: %(children)s children (limit %(limit)s)."),
    "age_mismatch": _l("Age does not fit the class: %(months)s months old."),
    "missing_checkout": _l("No check-out recorded on %(day)s."),
    "late_pickup": _l("Picked up %(minutes)s minutes after closing."),
    "compliance_change": _l("Compliance check %(rule)s changed from %(from)s to %(to)s."),
    "illness_cluster": _l(
        "Illness cluster (%(rule)s): %(cases)s cases of %(syndrome)s since %(first_day)s; "
        "report by %(report_by)s."
    ),
    "serious_incident": _l(
        "Serious injury of a child (incident report no. %(incident_id)s) at %(location)s."
    ),
    "ban_list_match": _l(
        "A staff member (no. %(staff_id)s) matches the regulator's lifetime ban list."
    ),
}


def label(value: Any) -> str:
    """The translated label of an enum value."""
    key = getattr(value, "value", value)
    text = LABELS.get(str(key))
    return str(text) if text is not None else str(key)


def alert_message(alert: Any) -> str:
    """An alert's message in the current language."""
    template = ALERT_MESSAGES.get(alert.kind.value)
    if template is None:
        return alert.kind.value
    params = alert.params
    if alert.kind.value == "compliance_change":
        # Statuses are stored as codes; show them in the current language.
        before = params.get("from") or "not_evaluated"
        params = {**params, "from": label(before), "to": label(params.get("to"))}
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return str(template)


def _tz() -> ZoneInfo:
    fac = g.get("_facility")
    return ZoneInfo(fac.timezone if fac is not None else "Asia/Shanghai")


def local_time(value: datetime | None, fmt: str = "%H:%M") -> str:
    """A UTC instant shown in the facility's time zone."""
    if value is None:
        return "—"
    return value.astimezone(_tz()).strftime(fmt)


def local_datetime(value: datetime | None) -> str:
    """Date and time in the facility's zone."""
    return local_time(value, "%Y-%m-%d %H:%M")


def iso_date(value: date | None) -> str:
    """A date as YYYY-MM-DD."""
    return value.isoformat() if value else "—"


def init_app(app: Flask) -> None:
    """Register filters and globals."""
    from .cctv_reasons import camera_reason, reasons_text

    app.jinja_env.filters.update(
        label=label,
        local_time=local_time,
        local_datetime=local_datetime,
        iso_date=iso_date,
        camera_reason=camera_reason,
        reasons_text=reasons_text,
    )

    @app.context_processor
    def inject() -> dict[str, Any]:
        from .auth import current_actor

        actor = current_actor() if current_user.is_authenticated else None
        return {
            "actor": actor,
            "Perm": Perm,
            "can": (lambda p: actor is not None and actor.can(p)),
            "languages": LANGUAGES,
            "current_lang": select_locale(),
            "alert_message": alert_message,
            "_": _,
        }
