"""The room view (care log on a tablet), sleep checks, outdoor time and a child's day."""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response

from carewatch.errors import DomainError, NotFound
from facility_app.accounts.permissions import Perm
from facility_app.care import service as care
from facility_app.care.models import CareKind, Mood, Nap, SleepPosition, SleepState
from facility_app.children.service import get_child
from facility_app.facility.models import ClassRoom
from facility_app.facility.service import at_local, today, visible_classes

from .auth import current_actor, facility, now, require
from .extensions import db

log = logging.getLogger(__name__)

bp = Blueprint("care", __name__, url_prefix="/care")

MAX_NOTE = 500
_INT_MAX = 2**31 - 1

CARE_LABELS: dict[str, Any] = {
    "nappy_wet": _l("Nappy: wet"),
    "nappy_dirty": _l("Nappy: dirty"),
    "nappy_dry": _l("Nappy: dry"),
    "toilet": _l("Toilet"),
    "bottle": _l("Bottle"),
    "water": _l("Water"),
    "mood": _l("Mood"),
    "note": _l("Note"),
    "nap_start": _l("Nap start"),
    "nap_end": _l("Nap end"),
    "outside": _l("Went outside"),
    "nap": _l("Nap"),
    "outdoor": _l("Outdoors"),
    "arrival": _l("Arrival"),
    "departure": _l("Departure"),
    "sleep_check": _l("Sleep check"),
    "sleep_check_late": _l("Sleep check late"),
    "sleep_check_missed": _l("Sleep check missed"),
    "happy": _l("Happy"),
    "calm": _l("Calm"),
    "unsettled": _l("Unsettled"),
    "upset": _l("Upset"),
    "breathing_normally": _l("Breathing normally"),
    "woke": _l("Woke"),
    "back": _l("On back"),
    "side": _l("On side"),
    "front": _l("On front"),
}

# Actions of the room view's action bar, in the order shown.
ACTIONS = [
    "nappy_wet",
    "nappy_dirty",
    "nappy_dry",
    "toilet",
    "water",
    "bottle",
    "nap_start",
    "nap_end",
    "outside",
    "mood",
    "note",
]


def care_label(value: Any) -> str:
    """The translated label of a care kind, state or position."""
    key = str(getattr(value, "value", value))
    text = CARE_LABELS.get(key)
    return str(text) if text is not None else key


# ---------------------------------------------------------------- form input


def _form_ints(name: str) -> list[int]:
    values = []
    for raw in request.form.getlist(name):
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if not 0 < value <= _INT_MAX:
            raise DomainError(
                "invalid_input", "The form is incomplete; please try again.", field=name
            )
        values.append(value)
    return values


def _form_int(name: str) -> int:
    values = _form_ints(name)
    if len(values) != 1:
        raise DomainError("invalid_input", "The form is incomplete; please try again.", field=name)
    return values[0]


def _form_text(name: str, limit: int) -> str:
    value = (request.form.get(name) or "").strip()
    if len(value) > limit:
        raise DomainError("too_long", "At most %(n)s characters are allowed.", field=name, n=limit)
    return value


def _form_at() -> datetime | None:
    """An optional earlier local time today (HH:MM), for entries made after the fact."""
    raw = _form_text("at", 8)
    if not raw:
        return None
    for pattern in ("%H:%M", "%H:%M:%S"):
        try:
            t = datetime.strptime(raw, pattern).time()
        except ValueError:
            continue
        fac = facility()
        return at_local(fac, today(fac, now()), t)
    raise DomainError("invalid_time", "Enter a time as HH:MM.", field="at")


def _to_room(class_id: int | None) -> Response:
    return redirect(url_for("care.room", class_id=class_id), code=303)


def _pick_room(rooms: list[ClassRoom], class_id: int | None) -> ClassRoom | None:
    if class_id is None:
        return rooms[0] if rooms else None
    for room in rooms:
        if room.id == class_id:
            return room
    abort(404)


# ---------------------------------------------------------------- room view


@bp.get("/room")
@require(Perm.CARE_VIEW)
def room():  # type: ignore[no-untyped-def]
    """One class: present children as tiles, the action bar, sleep checks and outdoor time."""
    actor, fac, at = current_actor(), facility(), now()
    rooms = [r for r in visible_classes(db.session, fac, actor) if r.active]
    chosen = _pick_room(rooms, request.args.get("class_id", type=int))
    state = care.room_state(db.session, actor, fac, chosen.id, at) if chosen else None
    return render_template(
        "care/room.html",
        rooms=rooms,
        room=chosen,
        state=state,
        now=at,
        asleep={s.child.id for s in state.sleeping} if state else set(),
        actions=ACTIONS,
        moods=list(Mood),
        positions=list(SleepPosition),
        can_write=actor.can(Perm.CARE_WRITE),
        policy=fac.policy().care,
    )


@bp.post("/log")
@require(Perm.CARE_WRITE)
def log_entry():  # type: ignore[no-untyped-def]
    """Log one action for every selected child (all or nothing)."""
    actor, fac, at_now = current_actor(), facility(), now()
    class_id = _form_int("class_id")
    child_ids = _form_ints("child_id")
    action = _form_text("action", 20)
    if not child_ids:
        raise DomainError("no_children", "Choose at least one child.", field="child_id")
    if action not in ACTIONS:
        raise DomainError("invalid_kind", "Choose a kind of entry.", field="action")
    at, reason = _form_at(), _form_text("reason", MAX_NOTE)
    amount_raw = _form_text("amount_ml", 6)
    amount: int | None = None
    if amount_raw:
        try:
            amount = int(amount_raw)
        except ValueError:
            raise DomainError(
                "amount_required", "Enter how many ml the bottle held.", field="amount_ml"
            ) from None
    names = []
    if action == "outside":
        # The selected children go out together: one period each, in one transaction.
        names = [get_child(db.session, actor, c).name for c in child_ids]
        present = {c.id for c in care.room_state(db.session, actor, fac, class_id, at_now).present}
        # Everyone present selected is the whole class outside, which counts toward its minimum.
        whole_class = set(child_ids) == present
        care.start_outdoor(
            db.session, actor, fac, class_id, now=at_now, at=at,
            child_ids=None if whole_class else child_ids, reason=reason,
        )  # fmt: skip
        child_ids = []
    for child_id in child_ids:
        child = get_child(db.session, actor, child_id)
        if action == "nap_start":
            care.start_nap(db.session, actor, fac, child, now=at_now, at=at, reason=reason)
        elif action == "nap_end":
            nap = db.session.scalar(
                select(Nap).where(Nap.child_id == child.id, Nap.ended_at.is_(None))
            )
            if nap is None:
                raise DomainError(
                    "not_asleep_now", "%(child)s is not asleep.", field="child_id", child=child.name
                )
            care.end_nap(db.session, actor, fac, nap.id, now=at_now, at=at, reason=reason)
        else:
            care.log_entry(
                db.session,
                actor,
                fac,
                child,
                now=at_now,
                kind=CareKind(action),
                at=at,
                amount_ml=amount if action in ("bottle", "water") else None,
                mood=_form_text("mood", 20) or None,
                note=_form_text("note", MAX_NOTE),
                reason=reason,
            )
        names.append(child.name)
    db.session.commit()
    log.info("care %s for %s children by user=%s", action, len(names), actor.user_id)
    flash(
        _(
            "Logged: %(action)s · %(children)s",
            action=care_label(action),
            children="、".join(names),
        ),
        "success",
    )
    return _to_room(class_id)


@bp.post("/sleep-check")
@require(Perm.CARE_WRITE)
def sleep_check():  # type: ignore[no-untyped-def]
    """Record one patrol: each sleeping child's state (a position means breathing normally)."""
    actor, fac = current_actor(), facility()
    class_id = _form_int("class_id")
    observations = []
    for nap_id in _form_ints("nap_id"):
        value = _form_text(f"state_{nap_id}", 24)
        if not value:
            continue
        if value == SleepState.WOKE.value:
            observations.append(care.Observation(nap_id, SleepState.WOKE))
        else:
            observations.append(care.Observation(nap_id, SleepState.BREATHING_NORMALLY, value))
    if not observations:
        raise DomainError("no_children", "Choose at least one sleeping child.")
    care.record_sleep_check(
        db.session,
        actor,
        fac,
        now=now(),
        observations=observations,
        at=_form_at(),
        reason=_form_text("reason", MAX_NOTE),
    )
    db.session.commit()
    log.info("sleep check of %s children by user=%s", len(observations), actor.user_id)
    flash(_("Sleep check recorded for %(n)s children.", n=len(observations)), "success")
    return _to_room(class_id)


@bp.post("/outdoor")
@require(Perm.CARE_WRITE)
def outdoor():  # type: ignore[no-untyped-def]
    """The whole class goes outside, or comes back in."""
    actor, fac = current_actor(), facility()
    class_id = _form_int("class_id")
    op = _form_text("op", 8)
    if op == "start":
        care.start_outdoor(
            db.session, actor, fac, class_id, now=now(), at=_form_at(),
            reason=_form_text("reason", MAX_NOTE),
        )  # fmt: skip
        message = _("The class went outside.")
    elif op == "end":
        care.end_outdoor(
            db.session, actor, fac, class_id, now=now(), at=_form_at(),
            reason=_form_text("reason", MAX_NOTE),
        )  # fmt: skip
        message = _("The class came back in.")
    else:
        raise DomainError("invalid_input", "The form is incomplete; please try again.", field="op")
    db.session.commit()
    flash(message, "success")
    return _to_room(class_id)


# ---------------------------------------------------------------- the day's record


@bp.get("/child/<int:child_id>/day")
@require(Perm.CARE_VIEW)
def child_day(child_id: int):  # type: ignore[no-untyped-def]
    """A child's day as a printable timeline."""
    actor, fac = current_actor(), facility()
    raw = request.args.get("day", "")
    try:
        day = date.fromisoformat(raw) if raw else today(fac, now())
    except ValueError:
        raise NotFound("invalid_day", "Enter a date as YYYY-MM-DD.") from None
    child = get_child(db.session, actor, child_id)
    items = care.day_record(db.session, actor, fac, child, day)
    return render_template("care/day.html", child=child, day=day, items=items, facility=fac)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"care_label": care_label, "MAX_NOTE": MAX_NOTE, "midnight": time(0, 0)}
