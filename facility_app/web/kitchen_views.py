"""Meals on a tablet (serving, samples, what each child ate), the menu, dishes, the day's
sheet, the monthly export and the public notice."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from io import BytesIO
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from carewatch.errors import DomainError
from facility_app.accounts.models import User
from facility_app.accounts.permissions import Perm
from facility_app.children.service import enrolled_children
from facility_app.facility.models import ClassRoom
from facility_app.facility.service import at_local, today, visible_classes
from facility_app.hygiene import service as hygiene
from facility_app.kitchen import allergens as vocab
from facility_app.kitchen import export
from facility_app.kitchen import service as kitchen
from facility_app.kitchen.models import Eaten, Meal

from .auth import current_actor, facility, now, require
from .extensions import db
from .kitchen_labels import allergen_list, klabel

log = logging.getLogger(__name__)

bp = Blueprint("kitchen", __name__, url_prefix="/kitchen")
public_bp = Blueprint("public", __name__, url_prefix="/public")

MAX_TEXT = 500
_INT_MAX = 2**31 - 1


# ---------------------------------------------------------------- form input


def form_int(name: str, *, required: bool = True, low: int = 1) -> int | None:
    """An integer form field; refused with a clear message when missing or not a number."""
    raw = (request.form.get(name) or "").strip()
    if not raw and not required:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= _INT_MAX:
        raise DomainError("invalid_number", "Enter a whole number.", field=name)
    return value


def form_text(name: str, limit: int = MAX_TEXT) -> str:
    """A stripped text field of bounded length."""
    value = (request.form.get(name) or "").strip()
    if len(value) > limit:
        raise DomainError("too_long", "At most %(n)s characters are allowed.", field=name, n=limit)
    return value


def form_at(name: str = "at") -> datetime | None:
    """An optional earlier local date and time (YYYY-MM-DDTHH:MM or HH:MM today)."""
    raw = form_text(name, 20)
    if not raw:
        return None
    fac = facility()
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%H:%M"):
        try:
            parsed = datetime.strptime(raw, pattern)
        except ValueError:
            continue
        day = today(fac, now()) if pattern == "%H:%M" else parsed.date()
        return at_local(fac, day, parsed.time())
    raise DomainError("invalid_time", "Enter a time as HH:MM.", field=name)


def arg_day(name: str = "day") -> date:
    """A date from the query string (default today)."""
    raw = request.args.get(name, "")
    if not raw:
        return today(facility(), now())
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(404)


def _back(default: str) -> Response:
    target = form_text("next", 300)
    if not target.startswith("/") or target.startswith("//"):
        target = default
    return redirect(target, code=303)


def _pick(rooms: list[ClassRoom], class_id: int | None) -> ClassRoom | None:
    if class_id is None:
        return rooms[0] if rooms else None
    for room in rooms:
        if room.id == class_id:
            return room
    abort(404)


# ---------------------------------------------------------------- the meal page (tablet)


@bp.get("/")
@require(Perm.KITCHEN_VIEW)
def meal():  # type: ignore[no-untyped-def]
    """One meal today: dishes to serve and sample, and what each child of a class ate."""
    actor, fac, at = current_actor(), facility(), now()
    day = today(fac, at)
    rooms = [r for r in visible_classes(db.session, fac, actor) if r.active]
    room = _pick(rooms, request.args.get("class_id", type=int))
    blocks = kitchen.day_meals(db.session, fac, day)
    planned = [b.meal for b in blocks]
    raw_meal = request.args.get("meal")
    try:
        chosen = Meal(raw_meal) if raw_meal else (planned[0] if planned else Meal.LUNCH)
    except ValueError:
        abort(404)
    block = next((b for b in blocks if b.meal == chosen), None)
    members = []
    allergic: dict[int, list[kitchen.Affected]] = {}
    eaten: dict[tuple[int, Meal], Eaten] = {}
    if room is not None:
        members = [c for c, _e in enrolled_children(db.session, [room.id], day)]
        eaten = kitchen.intakes(db.session, room.id, day)
        if block is not None:
            for item in block.items:
                for a in block.affected[item.id]:
                    if a.class_id == room.id:
                        allergic.setdefault(a.child.id, []).append(a)
    return render_template(
        "kitchen/meal.html",
        day=day,
        rooms=rooms,
        room=room,
        meals=list(Meal),
        planned=planned,
        meal=chosen,
        block=block,
        members=members,
        allergic=allergic,
        eaten=eaten,
        amounts=list(Eaten),
        in_fridge=kitchen.samples_due_out(db.session, fac, at),
        keep_until=lambda s: kitchen.keep_until(fac, s),
        now=at,
        kp=fac.policy().kitchen,
        can_write=actor.can(Perm.KITCHEN_WRITE),
    )


@bp.post("/serve")
@require(Perm.KITCHEN_WRITE)
def serve():  # type: ignore[no-untyped-def]
    """Mark one dish served (blocked while an allergic child has no substitute)."""
    actor, fac = current_actor(), facility()
    item = kitchen.serve_item(
        db.session, actor, fac, now=now(), item_id=form_int("item_id"), at=form_at(),
        reason=form_text("reason"),
    )  # fmt: skip
    db.session.commit()
    flash(_("Served: %(dish)s", dish=item.dish.name), "success")
    return _back(url_for("kitchen.meal"))


@bp.post("/sample")
@require(Perm.KITCHEN_WRITE)
def sample():  # type: ignore[no-untyped-def]
    """Log one dish's food sample."""
    actor, fac = current_actor(), facility()
    raw = form_text("weight_g", 12)
    try:
        weight = int(raw)
    except ValueError:
        raise DomainError(
            "invalid_weight", "Enter the sample's weight in grams.", field="weight_g"
        ) from None
    row = kitchen.log_sample(
        db.session, actor, fac, now=now(), item_id=form_int("item_id"), weight_g=weight,
        fridge=form_text("fridge", 40), stored_at=form_at(), reason=form_text("reason"),
    )  # fmt: skip
    db.session.commit()
    min_g = fac.policy().kitchen.sample_min_grams
    if row.weight_g < min_g:
        flash(
            _("Sample of %(dish)s is %(g)s g, less than %(min)s g: take a larger sample.",
              dish=row.item.dish.name, g=row.weight_g, min=min_g),
            "error",
        )  # fmt: skip
    else:
        flash(
            _("Sample logged: %(dish)s, %(g)s g", dish=row.item.dish.name, g=row.weight_g),
            "success",
        )
    return _back(url_for("kitchen.meal"))


@bp.post("/sample/discard")
@require(Perm.KITCHEN_WRITE)
def discard():  # type: ignore[no-untyped-def]
    """A sample left the fridge."""
    actor, fac = current_actor(), facility()
    row = kitchen.discard_sample(
        db.session, actor, fac, now=now(), sample_id=form_int("sample_id"), at=form_at(),
        reason=form_text("reason"),
    )  # fmt: skip
    db.session.commit()
    flash(_("Sample discarded: %(dish)s", dish=row.item.dish.name), "success")
    return _back(url_for("kitchen.meal"))


@bp.post("/intake")
@require(Perm.KITCHEN_WRITE)
def intake():  # type: ignore[no-untyped-def]
    """How much each child of the class ate (only the children given an amount)."""
    actor, fac = current_actor(), facility()
    class_id = form_int("class_id")
    meal_value = form_text("meal", 20)
    amounts: dict[int, str] = {}
    for key, value in request.form.items():
        if key.startswith("eaten_") and value:
            try:
                child_id = int(key.removeprefix("eaten_"))
            except ValueError:
                continue
            amounts[child_id] = value
    rows = kitchen.record_intake(
        db.session, actor, fac, now=now(), class_id=class_id, meal=meal_value, amounts=amounts
    )
    db.session.commit()
    flash(_("Saved for %(n)s children.", n=len(rows)), "success")
    return redirect(url_for("kitchen.meal", class_id=class_id, meal=meal_value), code=303)


# ---------------------------------------------------------------- menu and dishes


@bp.get("/menu")
@require(Perm.KITCHEN_VIEW)
def menu():  # type: ignore[no-untyped-def]
    """A week's menu with the children each dish affects and their substitutes."""
    actor, fac = current_actor(), facility()
    start = arg_day("week")
    monday = start - timedelta(days=start.weekday())
    days = [monday + timedelta(days=i) for i in range(7)]
    items = kitchen.menu(db.session, monday, days[-1])
    by_day: dict[date, list[kitchen.MealBlock]] = {}
    for d in days:
        if any(i.day == d for i in items):
            by_day[d] = kitchen.day_meals(db.session, fac, d)
    reach = None if not actor.class_scoped else actor.class_ids
    return render_template(
        "kitchen/menu.html",
        monday=monday,
        days=days,
        by_day=by_day,
        meals=list(Meal),
        dishes=kitchen.dishes(db.session, fac),
        today=today(fac, now()),
        can_plan=actor.can(Perm.KITCHEN_PLAN),
        visible=lambda a: reach is None or a.class_id in reach,
    )


@bp.post("/menu/plan")
@require(Perm.KITCHEN_PLAN)
def plan():  # type: ignore[no-untyped-def]
    """Put a dish on a meal."""
    raw = form_text("day", 10)
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise DomainError("invalid_day", "Enter a date as YYYY-MM-DD.", field="day") from None
    item = kitchen.plan_item(
        db.session, current_actor(), facility(), now=now(), day=day, meal=form_text("meal", 20),
        dish_id=form_int("dish_id"), reason=form_text("reason"),
    )  # fmt: skip
    db.session.commit()
    flash(_("Planned: %(dish)s", dish=item.dish.name), "success")
    return redirect(url_for("kitchen.menu", week=day.isoformat()), code=303)


@bp.post("/menu/remove")
@require(Perm.KITCHEN_PLAN)
def remove():  # type: ignore[no-untyped-def]
    """Take a dish off a meal."""
    kitchen.remove_item(
        db.session, current_actor(), facility(), form_int("item_id"), now=now(),
        reason=form_text("reason"),
    )  # fmt: skip
    db.session.commit()
    flash(_("Removed from the menu."), "success")
    return _back(url_for("kitchen.menu"))


@bp.post("/menu/substitute")
@require(Perm.KITCHEN_PLAN)
def substitute():  # type: ignore[no-untyped-def]
    """What an allergic child gets instead of a dish."""
    kitchen.set_substitute(
        db.session, current_actor(), facility(), now=now(), item_id=form_int("item_id"),
        child_id=form_int("child_id"), substitute=form_text("substitute", 120),
        reason=form_text("reason"),
    )  # fmt: skip
    db.session.commit()
    flash(_("Substitute saved."), "success")
    return _back(url_for("kitchen.menu"))


@bp.get("/dishes")
@require(Perm.KITCHEN_VIEW)
def dishes():  # type: ignore[no-untyped-def]
    """Dishes with ingredients and allergens."""
    return render_template(
        "kitchen/dishes.html",
        dishes=kitchen.dishes(db.session, facility(), active_only=False),
        codes=vocab.CODES,
        can_plan=current_actor().can(Perm.KITCHEN_PLAN),
    )


@bp.post("/dishes")
@require(Perm.KITCHEN_PLAN)
def save_dish():  # type: ignore[no-untyped-def]
    """Create or change a dish."""
    dish = kitchen.save_dish(
        db.session, current_actor(), facility(), now=now(), name=form_text("name", 60),
        ingredients=form_text("ingredients"), allergen_codes=request.form.getlist("allergen"),
        dish_id=form_int("dish_id", required=False),
    )  # fmt: skip
    db.session.commit()
    flash(_("Dish saved: %(dish)s", dish=dish.name), "success")
    return redirect(url_for("kitchen.dishes"), code=303)


@bp.get("/allergies")
@require(Perm.KITCHEN_VIEW)
def allergies():  # type: ignore[no-untyped-def]
    """How each child's allergy note maps onto the allergen list."""
    actor, fac = current_actor(), facility()
    day = today(fac, now())
    rows = [
        ca
        for ca in kitchen.allergic_children(db.session, day)
        if actor.can_reach_class(ca.class_id)
    ]
    return render_template("kitchen/allergies.html", rows=rows, day=day)


# ---------------------------------------------------------------- sheet, export, fees


@bp.get("/sheet")
@require(Perm.KITCHEN_VIEW)
def sheet():  # type: ignore[no-untyped-def]
    """The day's kitchen and hygiene sheet, for printing."""
    actor, fac = current_actor(), facility()
    day = arg_day()
    rooms = visible_classes(db.session, fac, actor)
    class_id = request.args.get("class_id", type=int)
    if class_id is not None:
        # One class's sheet: its intake and its own tasks beside the facility-wide ones.
        rooms = [_pick(rooms, class_id)]
    scope = [r.id for r in rooms] if class_id is not None or actor.class_scoped else None
    counts = kitchen.intake_counts(db.session, day)
    end_of_day = min(now(), kitchen.day_bounds(fac, day)[1])
    return render_template(
        "kitchen/sheet.html",
        day=day,
        facility=fac,
        blocks=kitchen.day_meals(db.session, fac, day),
        rooms=rooms,
        counts=counts,
        amounts=list(Eaten),
        room=rooms[0] if class_id is not None else None,
        all_rooms=visible_classes(db.session, fac, actor),
        people={u.id: u.display_name for u in db.session.scalars(select(User))},
        logs=[
            entry
            for entry in hygiene.logs_between(db.session, day, day)
            if entry.task.class_id is None or scope is None or entry.task.class_id in scope
        ],
        tasks=hygiene.task_rows(db.session, fac, end_of_day, scope),
        kp=fac.policy().kitchen,
        one_day=timedelta(days=1),
    )


@bp.get("/export")
@require(Perm.KITCHEN_VIEW)
def export_month():  # type: ignore[no-untyped-def]
    """A month's meals, samples and disinfection logs as an XLSX workbook."""
    fac = facility()
    month = request.args.get("month") or today(fac, now()).strftime("%Y-%m")
    try:
        first, last = kitchen.month_bounds(month)
    except DomainError:
        abort(404)
    data = export.month_workbook(db.session, fac, first, last, klabel)
    return send_file(
        BytesIO(data),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"kitchen-hygiene-{month}.xlsx",
    )


@bp.get("/fees")
@require(Perm.KITCHEN_PLAN)
def fees():  # type: ignore[no-untyped-def]
    """The monthly meal-fee accounts."""
    return render_template(
        "kitchen/fees.html",
        accounts=kitchen.fee_accounts(db.session, published_only=False),
        month=today(facility(), now()).strftime("%Y-%m"),
    )


def _yuan(name: str) -> int:
    raw = form_text(name, 16) or "0"
    try:
        value = round(float(raw) * 100)
    except (ValueError, OverflowError):
        raise DomainError("invalid_amount", "Enter an amount of at least 0.", field=name) from None
    if value < 0:
        raise DomainError("invalid_amount", "Enter an amount of at least 0.", field=name)
    return int(value)


@bp.post("/fees")
@require(Perm.KITCHEN_PLAN)
def save_fees():  # type: ignore[no-untyped-def]
    """Enter one month's account, and whether it is published."""
    kitchen.save_fee_account(
        db.session, current_actor(), facility(), now=now(), month=form_text("month", 7),
        income_fen=_yuan("income"), food_cost_fen=_yuan("food_cost"),
        other_cost_fen=_yuan("other_cost"), note=form_text("note"),
        published=request.form.get("published") == "1",
    )  # fmt: skip
    db.session.commit()
    flash(_("Meal-fee account saved."), "success")
    return redirect(url_for("kitchen.fees"), code=303)


# ---------------------------------------------------------------- public notice


@public_bp.get("/notice")
def notice():  # type: ignore[no-untyped-def]
    """The public information page: this week's menu and published meal-fee accounts."""
    fac = facility()
    day = today(fac, now())
    monday = day - timedelta(days=day.weekday())
    return render_template(
        "kitchen/notice.html",
        facility=fac,
        monday=monday,
        week=kitchen.public_week(db.session, monday),
        meals=list(Meal),
        accounts=kitchen.fee_accounts(db.session, published_only=True),
    )


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"klabel": klabel, "allergen_list": allergen_list, "fen": lambda v: f"{v / 100:.2f}"}
