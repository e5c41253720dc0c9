"""Menus, allergen safety, serving, what children ate, food samples and the fee account.

Times in the future are refused; a log more than the policy's
``backdate_without_reason_minutes`` in the past, and any change to a past day's menu, is
a correction that needs a reason (kept in the audit log with the change).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from carewatch import validate
from carewatch.clock import local_day_bounds
from carewatch.errors import Conflict, DomainError, NotFound
from facility_app.accounts.permissions import Actor, Perm
from facility_app.audit import service as audit
from facility_app.children.models import Child, Enrolment
from facility_app.children.service import enrolled_children
from facility_app.facility.models import Facility
from facility_app.facility.service import get_class, today
from facility_app.kitchen import allergens as vocab
from facility_app.kitchen import compliance
from facility_app.kitchen.models import (
    Dish,
    Eaten,
    FoodSample,
    Meal,
    MealFeeAccount,
    MealIntake,
    MealSubstitute,
    MenuItem,
)

log = logging.getLogger(__name__)

MAX_TEXT = 500


def _fmt(facility: Facility, at: datetime) -> str:
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo(facility.timezone)).strftime("%Y-%m-%d %H:%M")


def _when(
    facility: Facility, now: datetime, at: datetime | None, reason: str, field: str = "at"
) -> tuple[datetime, str]:
    """A log's time (default now) and reason; future refused, older ones need a reason."""
    reason = validate.text(reason, field="reason", limit=MAX_TEXT)
    if at is None:
        return now, reason
    if at.tzinfo is None:
        raise DomainError("invalid_time", "The time is not valid.", field=field)
    if at > now:
        raise DomainError("in_future", "Times cannot be in the future.", field=field)
    limit = timedelta(minutes=facility.policy().kitchen.backdate_without_reason_minutes)
    if at < now - limit and not reason:
        raise DomainError(
            "reason_required", "An entry for an earlier time needs a reason.", field="reason"
        )
    return at, reason


def _past_day_reason(facility: Facility, day: date, now: datetime, reason: str) -> str:
    reason = validate.text(reason, field="reason", limit=MAX_TEXT)
    if day < today(facility, now) and not reason:
        raise DomainError(
            "reason_required", "A change to a past day's menu needs a reason.", field="reason"
        )
    return reason


def _meal(value: Meal | str) -> Meal:
    try:
        return Meal(value)
    except ValueError:
        raise DomainError("invalid_meal", "Choose a meal.", field="meal") from None


# ---------------------------------------------------------------- dishes


def dishes(session: Session, facility: Facility, *, active_only: bool = True) -> list[Dish]:
    """The facility's dishes by name."""
    stmt = select(Dish).where(Dish.facility_id == facility.id).order_by(Dish.name)
    if active_only:
        stmt = stmt.where(Dish.active.is_(True))
    return list(session.scalars(stmt))


def get_dish(session: Session, facility: Facility, dish_id: int) -> Dish:
    """One dish of the facility."""
    dish = session.get(Dish, dish_id)
    if dish is None or dish.facility_id != facility.id:
        raise NotFound("dish_not_found", "This dish does not exist.")
    return dish


def save_dish(
    session: Session,
    actor: Actor,
    facility: Facility,
    *,
    now: datetime,
    name: str,
    ingredients: str = "",
    allergen_codes: list[str] | str = (),  # type: ignore[assignment]
    dish_id: int | None = None,
) -> Dish:
    """Create or change a dish; its allergens come from the fixed vocabulary."""
    actor.require(Perm.KITCHEN_PLAN)
    name = validate.text(name, field="name", limit=60, required=True)
    ingredients = validate.text(ingredients, field="ingredients", limit=MAX_TEXT)
    try:
        codes = vocab.normalise(allergen_codes)
    except ValueError:
        raise DomainError(
            "invalid_allergen", "Choose allergens from the list.", field="allergens"
        ) from None
    clash = session.scalar(
        select(Dish.id).where(Dish.facility_id == facility.id, Dish.name == name)
    )
    if clash is not None and clash != dish_id:
        raise Conflict(
            "dish_exists", "A dish named %(name)s exists already.", field="name", name=name
        )
    if dish_id is None:
        dish = Dish(facility_id=facility.id)
        before = None
        session.add(dish)
    else:
        dish = get_dish(session, facility, dish_id)
        before = audit.snapshot(dish)
    dish.name, dish.ingredients, dish.allergens = name, ingredients, ",".join(codes)
    audit.log_change(session, actor, now, "dish_save", "dish", dish, before=before)
    return dish


# ---------------------------------------------------------------- allergies


@dataclass(frozen=True)
class ChildAllergy:
    """A child with the allergens recognised in their enrolment note."""

    child: Child
    class_id: int
    parsed: vocab.ParsedAllergies


def allergic_children_between(
    session: Session, start: date, end: date
) -> dict[date, list[ChildAllergy]]:
    """Per day in [start, end], the children enrolled whose allergy note names something."""
    rows = session.execute(
        select(Child, Enrolment.class_id, Enrolment.start_date, Enrolment.end_date)
        .join(Enrolment, Enrolment.child_id == Child.id)
        .where(
            Child.allergies != "",
            Enrolment.start_date <= end,
            (Enrolment.end_date.is_(None)) | (Enrolment.end_date >= start),
        )
        .order_by(Enrolment.class_id, Child.name)
    ).all()
    out: dict[date, list[ChildAllergy]] = {}
    day = start
    while day <= end:
        out[day] = []
        day += timedelta(days=1)
    for child, class_id, first, last in rows:
        parsed = _parse_cached(child.allergies)
        if not (parsed.codes or parsed.unrecognised):
            continue
        for day, found in out.items():
            if first <= day and (last is None or day <= last):
                found.append(ChildAllergy(child, class_id, parsed))
    return out


def allergic_children(session: Session, day: date) -> list[ChildAllergy]:
    """Children enrolled on a day whose allergy note names something (recognised or not)."""
    return allergic_children_between(session, day, day)[day]


@lru_cache(maxsize=1024)
def _parse_cached(text: str) -> vocab.ParsedAllergies:
    return vocab.parse(text)


@dataclass(frozen=True)
class Affected:
    """One child affected by one planned dish, and their substitute if given."""

    child: Child
    class_id: int
    allergens: list[str]
    substitute: str | None


def affected(item: MenuItem, children: list[ChildAllergy]) -> list[Affected]:
    """The children a menu item's dish would harm, with their substitutes."""
    codes = item.dish.allergen_codes
    if not codes:
        return []
    subs = {s.child_id: s.substitute for s in item.substitutes}
    out = []
    for ca in children:
        hit = vocab.conflicts(ca.parsed.codes, codes)
        if hit:
            out.append(Affected(ca.child, ca.class_id, hit, subs.get(ca.child.id)))
    return out


# ---------------------------------------------------------------- the menu


def menu(session: Session, start: date, end: date) -> list[MenuItem]:
    """Menu items in [start, end] by day, meal order and dish name."""
    items = session.scalars(
        select(MenuItem)
        .where(MenuItem.day.between(start, end))
        .options(
            selectinload(MenuItem.dish),
            selectinload(MenuItem.substitutes),
            selectinload(MenuItem.sample),
        )
    ).all()
    order = {m: i for i, m in enumerate(Meal)}
    return sorted(items, key=lambda i: (i.day, order[i.meal], i.dish.name, i.id))


def get_item(session: Session, item_id: int) -> MenuItem:
    """One menu item."""
    item = session.get(MenuItem, item_id)
    if item is None:
        raise NotFound("menu_item_not_found", "This menu item does not exist.")
    return item


def plan_item(
    session: Session,
    actor: Actor,
    facility: Facility,
    *,
    now: datetime,
    day: date,
    meal: Meal | str,
    dish_id: int,
    reason: str = "",
) -> MenuItem:
    """Put a dish on a day's meal; a past day needs a correction reason."""
    actor.require(Perm.KITCHEN_PLAN)
    meal = _meal(meal)
    reason = _past_day_reason(facility, day, now, reason)
    dish = get_dish(session, facility, dish_id)
    exists = session.scalar(
        select(MenuItem.id).where(
            MenuItem.day == day, MenuItem.meal == meal, MenuItem.dish_id == dish.id
        )
    )
    if exists is not None:
        raise Conflict("already_planned", "%(dish)s is already on this meal.", dish=dish.name)
    item = MenuItem(day=day, meal=meal, dish=dish, planned_at=now, planned_by_id=actor.user_id)
    session.add(item)
    audit.log_change(session, actor, now, "menu_plan", "menu_item", item, reason=reason)
    return item


def remove_item(
    session: Session,
    actor: Actor,
    facility: Facility,
    item_id: int,
    *,
    now: datetime,
    reason: str = "",
) -> None:
    """Take a dish off a meal before it was served and sampled."""
    actor.require(Perm.KITCHEN_PLAN)
    item = get_item(session, item_id)
    reason = _past_day_reason(facility, item.day, now, reason)
    if item.served_at is not None or item.sample is not None:
        raise Conflict("already_served", "A served or sampled dish stays on the record.")
    audit.record(
        session, at=now, user_id=actor.user_id, action="menu_remove", entity="menu_item",
        entity_id=item.id, before=audit.snapshot(item), reason=reason,
    )  # fmt: skip
    session.delete(item)
    session.flush()


def set_substitute(
    session: Session,
    actor: Actor,
    facility: Facility,
    *,
    now: datetime,
    item_id: int,
    child_id: int,
    substitute: str,
    reason: str = "",
) -> MealSubstitute:
    """Record what an affected child gets instead of a dish."""
    actor.require(Perm.KITCHEN_PLAN)
    item = get_item(session, item_id)
    reason = _past_day_reason(facility, item.day, now, reason)
    substitute = validate.text(substitute, field="substitute", limit=120, required=True)
    hit = [
        a for a in affected(item, allergic_children(session, item.day)) if a.child.id == child_id
    ]
    if not hit:
        raise DomainError(
            "not_affected", "This child is not affected by this dish.", field="child_id"
        )
    row = session.scalar(
        select(MealSubstitute).where(
            MealSubstitute.menu_item_id == item.id, MealSubstitute.child_id == child_id
        )
    )
    before = audit.snapshot(row) if row is not None else None
    if row is None:
        row = MealSubstitute(menu_item_id=item.id, child_id=child_id, substitute=substitute)
        session.add(row)
    row.substitute, row.recorded_at, row.recorded_by_id = substitute, now, actor.user_id
    audit.log_change(
        session, actor, now, "meal_substitute", "meal_substitute", row, before=before, reason=reason
    )
    session.refresh(item, ["substitutes"])
    return row


def _refuse_uncovered(facility: Facility, item: MenuItem, rows: list[Affected]) -> None:
    missing = [a for a in rows if a.substitute is None]
    if missing:
        raise Conflict(
            "allergen_no_substitute",
            "%(dish)s contains %(allergens)s: give %(children)s a substitute before serving.",
            field="substitute",
            dish=item.dish.name,
            allergens="、".join(sorted({c for a in missing for c in a.allergens})),
            children="、".join(a.child.name for a in missing),
        )


def serve_item(
    session: Session,
    actor: Actor,
    facility: Facility,
    *,
    now: datetime,
    item_id: int,
    at: datetime | None = None,
    reason: str = "",
) -> MenuItem:
    """Mark a dish served; refused while an allergic child has no substitute."""
    actor.require(Perm.KITCHEN_WRITE)
    item = get_item(session, item_id)
    at, reason = _when(facility, now, at, reason)
    if item.served_at is not None:
        raise Conflict("already_served", "%(dish)s was served already.", dish=item.dish.name)
    if today(facility, at) != item.day:
        raise DomainError(
            "wrong_day", "%(dish)s is on the menu of %(day)s, not of that day.", field="at",
            dish=item.dish.name, day=item.day.isoformat(),
        )  # fmt: skip
    _refuse_uncovered(facility, item, affected(item, allergic_children(session, item.day)))
    before = audit.snapshot(item)
    item.served_at, item.served_by_id = at, actor.user_id
    audit.log_change(
        session, actor, now, "menu_serve", "menu_item", item, before=before, reason=reason
    )
    return item


# ---------------------------------------------------------------- what children ate


def record_intake(
    session: Session,
    actor: Actor,
    facility: Facility,
    *,
    now: datetime,
    class_id: int,
    meal: Meal | str,
    amounts: Mapping[int, Eaten | str],
    day: date | None = None,
    reason: str = "",
) -> list[MealIntake]:
    """How much each listed child of a class ate of a meal (all or nothing)."""
    actor.require(Perm.KITCHEN_WRITE)
    room = get_class(session, class_id)
    actor.require_class(room.id)
    meal = _meal(meal)
    day = day or today(facility, now)
    if day > today(facility, now):
        raise DomainError("in_future", "Times cannot be in the future.", field="day")
    reason = _past_day_reason(facility, day, now, reason)
    if not amounts:
        raise DomainError("no_children", "Choose at least one child.", field="child_id")
    items = [i for i in menu(session, day, day) if i.meal == meal]
    if not items:
        raise DomainError(
            "meal_not_planned", "This meal is not on the menu of that day.", field="meal"
        )
    members = {c.id: c for c, _ in enrolled_children(session, [room.id], day)}
    allergic = {ca.child.id: ca for ca in allergic_children(session, day)}
    out = []
    for child_id, value in amounts.items():
        child = members.get(child_id)
        if child is None:
            raise DomainError(
                "wrong_class", "This child is not in this class today.", field="child_id"
            )
        try:
            eaten = Eaten(value)
        except ValueError:
            raise DomainError(
                "invalid_amount", "Choose how much was eaten.", field="eaten"
            ) from None
        if child_id in allergic:
            for item in items:
                _refuse_uncovered(facility, item, affected(item, [allergic[child_id]]))
        row = session.scalar(
            select(MealIntake).where(
                MealIntake.day == day, MealIntake.meal == meal, MealIntake.child_id == child_id
            )
        )
        before = audit.snapshot(row) if row is not None else None
        if row is None:
            row = MealIntake(day=day, meal=meal, child_id=child_id, class_id=room.id)
            session.add(row)
        row.eaten, row.recorded_at, row.recorded_by_id = eaten, now, actor.user_id
        audit.log_change(
            session, actor, now, "meal_intake", "meal_intake", row, before=before, reason=reason
        )
        out.append(row)
    return out


def intakes(session: Session, class_id: int, day: date) -> dict[tuple[int, Meal], Eaten]:
    """(child id, meal) -> amount eaten for one class on one day."""
    rows = session.scalars(
        select(MealIntake).where(MealIntake.class_id == class_id, MealIntake.day == day)
    )
    return {(r.child_id, r.meal): r.eaten for r in rows}


# ---------------------------------------------------------------- food samples


def log_sample(
    session: Session,
    actor: Actor,
    facility: Facility,
    *,
    now: datetime,
    item_id: int,
    weight_g: int,
    fridge: str,
    stored_at: datetime | None = None,
    reason: str = "",
) -> FoodSample:
    """Put one dish's sample in the fridge (one per dish per meal)."""
    actor.require(Perm.KITCHEN_WRITE)
    kp = facility.policy().kitchen
    item = get_item(session, item_id)
    if not isinstance(weight_g, int) or isinstance(weight_g, bool) or weight_g <= 0:
        raise DomainError("invalid_weight", "Enter the sample's weight in grams.", field="weight_g")
    if weight_g > kp.sample_max_grams:
        raise DomainError(
            "weight_absurd", "%(g)s g is not a plausible sample (at most %(max)s g).",
            field="weight_g", g=weight_g, max=kp.sample_max_grams,
        )  # fmt: skip
    fridge = validate.text(fridge, field="fridge", limit=40, required=True)
    stored_at, reason = _when(facility, now, stored_at, reason, field="stored_at")
    if today(facility, stored_at) < item.day:
        raise DomainError(
            "before_meal", "A sample cannot go in before the day of its meal.", field="stored_at"
        )
    if item.sample is not None:
        raise Conflict("sample_exists", "%(dish)s already has a sample.", dish=item.dish.name)
    sample = FoodSample(
        item=item, weight_g=weight_g, fridge=fridge, stored_at=stored_at,
        stored_by_id=actor.user_id, recorded_at=now,
    )  # fmt: skip
    session.add(sample)
    audit.log_change(session, actor, now, "food_sample", "food_sample", sample, reason=reason)
    return sample


def keep_until(facility: Facility, sample: FoodSample) -> datetime:
    """The earliest time the sample may be discarded."""
    return sample.stored_at + timedelta(hours=facility.policy().kitchen.sample_keep_hours)


def discard_sample(
    session: Session,
    actor: Actor,
    facility: Facility,
    *,
    now: datetime,
    sample_id: int,
    at: datetime | None = None,
    reason: str = "",
) -> FoodSample:
    """The sample left the fridge; before the keeping time only with a written reason."""
    actor.require(Perm.KITCHEN_WRITE)
    sample = session.get(FoodSample, sample_id)
    if sample is None:
        raise NotFound("sample_not_found", "This sample does not exist.")
    if sample.discarded_at is not None:
        raise Conflict("already_discarded", "This sample was discarded already.")
    at, reason = _when(facility, now, at, reason)
    if at < sample.stored_at:
        raise DomainError(
            "discard_before_intake",
            "A sample cannot leave the fridge before it went in at %(time)s.",
            field="at", time=_fmt(facility, sample.stored_at),
        )  # fmt: skip
    until = keep_until(facility, sample)
    if at < until and not reason:
        raise DomainError(
            "kept_too_short",
            "Samples are kept %(hours)s hours: not before %(time)s. "
            "An early discard needs a reason.",
            field="at", hours=facility.policy().kitchen.sample_keep_hours,
            time=_fmt(facility, until),
        )  # fmt: skip
    before = audit.snapshot(sample)
    sample.discarded_at, sample.discarded_by_id = at, actor.user_id
    audit.log_change(
        session, actor, now, "food_sample_discard", "food_sample", sample, before=before,
        reason=reason,
    )  # fmt: skip
    return sample


def samples_due_out(session: Session, facility: Facility, now: datetime) -> list[FoodSample]:
    """Samples still in the fridge, oldest first (the ones past their keeping time may go)."""
    return list(
        session.scalars(
            select(FoodSample)
            .where(FoodSample.discarded_at.is_(None))
            .options(selectinload(FoodSample.item).selectinload(MenuItem.dish))
            .order_by(FoodSample.stored_at)
        )
    )


# ---------------------------------------------------------------- compliance


def findings(
    session: Session, facility: Facility, now: datetime, days: int = 7
) -> dict[str, compliance.Finding]:
    """``food.sample_retention`` and ``food.allergen`` over the last ``days`` days."""
    kp = facility.policy().kitchen
    end = today(facility, now)
    start = end - timedelta(days=days - 1)
    items = menu(session, start, end)
    served = [
        compliance.ServedDish(
            day=i.day, meal=i.meal.value, dish=i.dish.name,
            sample_weight_g=i.sample.weight_g if i.sample else None,
            sample_stored_at=i.sample.stored_at if i.sample else None,
            sample_discarded_at=i.sample.discarded_at if i.sample else None,
        )
        for i in items
        if i.served_at is not None
    ]  # fmt: skip
    exposures = []
    by_day = allergic_children_between(session, start, end)
    for i in items:
        for a in affected(i, by_day[i.day]):
            exposures.append(
                compliance.Exposure(
                    day=i.day, meal=i.meal.value, dish=i.dish.name,
                    allergens=tuple(a.allergens), served=i.served_at is not None,
                    substitute=a.substitute is not None,
                )
            )  # fmt: skip
    review = sum(1 for ca in by_day[end] if ca.parsed.needs_review)
    return {
        "food.sample_retention": compliance.sample_retention(
            served, min_grams=kp.sample_min_grams, keep_hours=kp.sample_keep_hours
        ),
        "food.allergen": compliance.allergen(exposures, unreviewed_children=review),
    }


# ---------------------------------------------------------------- sheets and notices


@dataclass
class MealBlock:
    """One meal of a day on the sheet."""

    meal: Meal
    items: list[MenuItem] = field(default_factory=list)
    affected: dict[int, list[Affected]] = field(default_factory=dict)


def day_meals(session: Session, facility: Facility, day: date) -> list[MealBlock]:
    """The day's meals with their dishes, samples and affected children."""
    children = allergic_children(session, day)
    blocks: dict[Meal, MealBlock] = {}
    for item in menu(session, day, day):
        block = blocks.setdefault(item.meal, MealBlock(item.meal))
        block.items.append(item)
        block.affected[item.id] = affected(item, children)
    return [blocks[m] for m in Meal if m in blocks]


def intake_counts(session: Session, day: date) -> dict[tuple[int, Meal], dict[str, int]]:
    """(class id, meal) -> counts of children per amount eaten."""
    out: dict[tuple[int, Meal], dict[str, int]] = defaultdict(lambda: {e.value: 0 for e in Eaten})
    for row in session.scalars(select(MealIntake).where(MealIntake.day == day)):
        out[(row.class_id, row.meal)][row.eaten.value] += 1
    return dict(out)


def public_week(session: Session, monday: date) -> dict[date, dict[Meal, list[Dish]]]:
    """The week's menu for the public notice: days, meals and dishes only."""
    out: dict[date, dict[Meal, list[Dish]]] = {}
    for item in menu(session, monday, monday + timedelta(days=6)):
        out.setdefault(item.day, {}).setdefault(item.meal, []).append(item.dish)
    return out


def month_bounds(month: str) -> tuple[date, date]:
    """The first and last day of a month given as YYYY-MM."""
    try:
        first = date.fromisoformat(month + "-01")
    except ValueError:
        raise DomainError("invalid_month", "Enter a month as YYYY-MM.", field="month") from None
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def save_fee_account(
    session: Session,
    actor: Actor,
    facility: Facility,
    *,
    now: datetime,
    month: str,
    income_fen: int,
    food_cost_fen: int,
    other_cost_fen: int = 0,
    note: str = "",
    published: bool = False,
) -> MealFeeAccount:
    """Enter or correct one month's meal-fee account."""
    actor.require(Perm.KITCHEN_PLAN)
    first, _last = month_bounds(month)
    if first > today(facility, now):
        raise DomainError("in_future", "This month has not begun.", field="month")
    for name, value in (
        ("income", income_fen), ("food_cost", food_cost_fen), ("other_cost", other_cost_fen)
    ):  # fmt: skip
        if not 0 <= value <= 10**11:
            raise DomainError("invalid_amount", "Enter an amount of at least 0.", field=name)
    note = validate.text(note, field="note", limit=MAX_TEXT)
    row = session.scalar(select(MealFeeAccount).where(MealFeeAccount.month == month))
    before = audit.snapshot(row) if row is not None else None
    if row is None:
        row = MealFeeAccount(month=month)
        session.add(row)
    row.income_fen, row.food_cost_fen, row.other_cost_fen = (
        income_fen,
        food_cost_fen,
        other_cost_fen,
    )
    row.note, row.published = note, published
    row.updated_at, row.updated_by_id = now, actor.user_id
    audit.log_change(
        session, actor, now, "meal_fee_account", "meal_fee_account", row, before=before
    )
    return row


def fee_accounts(session: Session, *, published_only: bool) -> list[MealFeeAccount]:
    """Monthly meal-fee accounts, newest first."""
    stmt = select(MealFeeAccount).order_by(MealFeeAccount.month.desc())
    if published_only:
        stmt = stmt.where(MealFeeAccount.published.is_(True))
    return list(session.scalars(stmt))


def day_bounds(facility: Facility, day: date) -> tuple[datetime, datetime]:
    """The UTC instants of a local day."""
    return local_day_bounds(day, facility.timezone)
