"""Meals and hygiene: the day's menu, serving, samples, intake, disinfection, findings."""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated, Any

from pydantic import AwareDatetime, Field

from carewatch.policy import DisinfectionMethod
from facility_app.accounts.permissions import Perm
from facility_app.hygiene import service as hygiene
from facility_app.hygiene.models import Target
from facility_app.kitchen import service as kitchen
from facility_app.kitchen.models import Eaten, Meal

from ..auth import current_actor, facility, now
from ..extensions import db
from .registry import operation
from .schemas import Id, In, LocalDateTime, Out, Query, Reason, text

log = logging.getLogger(__name__)


class DayQuery(Query):
    """Which day (default today)."""

    day: date | None = None


class SampleOut(Out):
    """A food sample."""

    id: int
    weight_g: int
    fridge: str
    stored_at: LocalDateTime
    discarded_at: LocalDateTime | None


class MenuItemOut(Out):
    """A dish on a meal, whether it was served and its sample."""

    id: int
    day: date
    meal: Meal
    dish_id: int
    dish: str
    allergens: list[str]
    served_at: LocalDateTime | None
    sample: SampleOut | None
    affected_children: int
    without_substitute: int


class MenuDay(Out):
    """A day's menu."""

    day: date
    items: list[MenuItemOut]


def _item_out(item: Any, affected: list[kitchen.Affected]) -> MenuItemOut:
    return MenuItemOut(
        id=item.id,
        day=item.day,
        meal=item.meal,
        dish_id=item.dish_id,
        dish=item.dish.name,
        allergens=item.dish.allergen_codes,
        served_at=item.served_at,
        sample=SampleOut.model_validate(item.sample) if item.sample else None,
        affected_children=len(affected),
        without_substitute=sum(1 for a in affected if a.substitute is None),
    )


@operation(
    "GET",
    "/kitchen/menu",
    summary="A day's menu",
    tag="kitchen",
    perm=Perm.KITCHEN_VIEW,
    query=DayQuery,
    response=MenuDay,
)
def menu_day(query: DayQuery) -> MenuDay:
    """Dishes per meal with served time, sample and how many children each affects."""
    fac = facility()
    day = query.day or kitchen.today(fac, now())
    items = []
    for block in kitchen.day_meals(db.session, fac, day):
        items += [_item_out(i, block.affected[i.id]) for i in block.items]
    return MenuDay(day=day, items=items)


class PlanIn(In):
    """A dish for a meal; a past day needs ``reason``."""

    day: date
    meal: Meal
    dish_id: Id
    reason: Reason = ""


@operation(
    "POST",
    "/kitchen/menu",
    summary="Plan a dish",
    tag="kitchen",
    perm=Perm.KITCHEN_PLAN,
    body=PlanIn,
    response=MenuItemOut,
    status=201,
    description="A past day without a reason gives 422 reason_required; twice 409 already_planned.",
)
def plan(body: PlanIn) -> MenuItemOut:
    """Put a dish on a meal."""
    fac = facility()
    item = kitchen.plan_item(
        db.session, current_actor(), fac, now=now(), day=body.day, meal=body.meal,
        dish_id=body.dish_id, reason=body.reason,
    )  # fmt: skip
    db.session.refresh(item)
    return _item_out(item, kitchen.affected(item, kitchen.allergic_children(db.session, item.day)))


class ServeIn(In):
    """The dish served; ``at`` for an earlier time (with ``reason``)."""

    item_id: Id
    at: AwareDatetime | None = None
    reason: Reason = ""


@operation(
    "POST",
    "/kitchen/serve",
    summary="Serve a dish",
    tag="kitchen",
    perm=Perm.KITCHEN_WRITE,
    body=ServeIn,
    response=MenuItemOut,
    description="Refused with 409 allergen_no_substitute while an allergic child has none.",
)
def serve(body: ServeIn) -> MenuItemOut:
    """Mark a dish served."""
    item = kitchen.serve_item(
        db.session, current_actor(), facility(), now=now(), item_id=body.item_id, at=body.at,
        reason=body.reason,
    )  # fmt: skip
    return _item_out(item, kitchen.affected(item, kitchen.allergic_children(db.session, item.day)))


class SubstituteIn(In):
    """What an affected child gets instead of a dish."""

    item_id: Id
    child_id: Id
    substitute: text(120, 1)  # type: ignore[valid-type]
    reason: Reason = ""


class SubstituteOut(Out):
    """A substitute."""

    id: int
    menu_item_id: int
    child_id: int
    substitute: str


@operation(
    "POST",
    "/kitchen/substitutes",
    summary="Give a substitute",
    tag="kitchen",
    perm=Perm.KITCHEN_PLAN,
    body=SubstituteIn,
    response=SubstituteOut,
    status=201,
)
def substitute(body: SubstituteIn) -> SubstituteOut:
    """Record a substitute (422 not_affected for a child the dish does not harm)."""
    row = kitchen.set_substitute(
        db.session, current_actor(), facility(), now=now(), item_id=body.item_id,
        child_id=body.child_id, substitute=body.substitute, reason=body.reason,
    )  # fmt: skip
    return SubstituteOut.model_validate(row)


class SampleIn(In):
    """One dish's sample."""

    item_id: Id
    weight_g: int
    fridge: text(40, 1)  # type: ignore[valid-type]
    stored_at: AwareDatetime | None = None
    reason: Reason = ""


@operation(
    "POST",
    "/kitchen/samples",
    summary="Log a food sample",
    tag="kitchen",
    perm=Perm.KITCHEN_WRITE,
    body=SampleIn,
    response=SampleOut,
    status=201,
    description=(
        "A weight of 0 or less gives 422 invalid_weight, above the plausible maximum 422 "
        "weight_absurd; a second sample of a dish 409 sample_exists. An underweight sample is "
        "stored (and fails food.sample_retention)."
    ),
)
def add_sample(body: SampleIn) -> SampleOut:
    """Put a dish's sample in the fridge."""
    row = kitchen.log_sample(
        db.session, current_actor(), facility(), now=now(), item_id=body.item_id,
        weight_g=body.weight_g, fridge=body.fridge, stored_at=body.stored_at, reason=body.reason,
    )  # fmt: skip
    return SampleOut.model_validate(row)


class DiscardIn(In):
    """A sample taken out of the fridge."""

    sample_id: Id
    at: AwareDatetime | None = None
    reason: Reason = ""


@operation(
    "POST",
    "/kitchen/samples/discard",
    summary="Discard a food sample",
    tag="kitchen",
    perm=Perm.KITCHEN_WRITE,
    body=DiscardIn,
    response=SampleOut,
    description=(
        "Before intake: 422 discard_before_intake; before the keeping time without a reason: "
        "422 kept_too_short."
    ),
)
def discard_sample(body: DiscardIn) -> SampleOut:
    """A sample left the fridge."""
    row = kitchen.discard_sample(
        db.session, current_actor(), facility(), now=now(), sample_id=body.sample_id, at=body.at,
        reason=body.reason,
    )  # fmt: skip
    return SampleOut.model_validate(row)


class AmountIn(In):
    """How much one child ate."""

    child_id: Id
    eaten: Eaten


class IntakeIn(In):
    """How much the listed children of a class ate of a meal today."""

    class_id: Id
    meal: Meal
    amounts: Annotated[list[AmountIn], Field(min_length=1, max_length=60)]


class IntakeOut(Out):
    """Amounts stored."""

    saved: int


@operation(
    "POST",
    "/kitchen/intake",
    summary="Record what children ate",
    tag="kitchen",
    perm=Perm.KITCHEN_WRITE,
    body=IntakeIn,
    response=IntakeOut,
    description="An allergic child without a substitute: 409 allergen_no_substitute.",
)
def intake(body: IntakeIn) -> IntakeOut:
    """All or nothing for the listed children."""
    rows = kitchen.record_intake(
        db.session, current_actor(), facility(), now=now(), class_id=body.class_id,
        meal=body.meal, amounts={a.child_id: a.eaten for a in body.amounts},
    )  # fmt: skip
    return IntakeOut(saved=len(rows))


class FindingOut(Out):
    """One rule's result."""

    rule: str
    status: str
    value: Any
    threshold: Any
    evidence: dict[str, Any]
    message: str


class FindingList(Out):
    """Rule results."""

    items: list[FindingOut]


@operation(
    "GET",
    "/kitchen/findings",
    summary="Food and hygiene compliance",
    tag="kitchen",
    perm=Perm.HYGIENE_VIEW,
    response=FindingList,
    description="food.sample_retention and food.allergen over 7 days, hygiene.disinfection now.",
)
def findings() -> FindingList:
    """The three rules' findings (counts and names of dishes and areas, no children)."""
    fac, at = facility(), now()
    out = dict(kitchen.findings(db.session, fac, at))
    out["hygiene.disinfection"] = hygiene.findings(db.session, fac, at)
    return FindingList(
        items=[
            FindingOut(
                rule=k,
                status=f.status,
                value=f.value,
                threshold=f.threshold,
                evidence=f.evidence,
                message=f.message,
            )
            for k, f in out.items()
        ]
    )


class TaskOut(Out):
    """A disinfection task and whether it is overdue."""

    id: int
    area: str
    class_id: int | None
    target: Target
    method: DisinfectionMethod
    duration_minutes: int
    concentration_mg_l: int | None
    times_per_day: int
    every_days: int
    due_day: date | None
    due_at: LocalDateTime | None
    overdue: bool
    done_today: int


class TaskList(Out):
    """Disinfection tasks."""

    items: list[TaskOut]


@operation(
    "GET",
    "/hygiene/tasks",
    summary="Disinfection tasks",
    tag="hygiene",
    perm=Perm.HYGIENE_VIEW,
    response=TaskList,
)
def hygiene_tasks() -> TaskList:
    """Every active task with its due day and whether it is overdue now."""
    actor = current_actor()
    scope = sorted(actor.class_ids) if actor.class_scoped else None
    rows = hygiene.task_rows(db.session, facility(), now(), scope)
    return TaskList(
        items=[
            TaskOut(
                id=r.task.id,
                area=r.task.area,
                class_id=r.task.class_id,
                target=r.task.target,
                method=r.task.method,
                duration_minutes=r.task.duration_minutes,
                concentration_mg_l=r.task.concentration_mg_l,
                times_per_day=r.task.times_per_day,
                every_days=r.task.every_days,
                due_day=r.due.due_day,
                due_at=r.due.due_at,
                overdue=r.due.overdue,
                done_today=r.due.done_today,
            )
            for r in rows
        ]
    )


class LogIn(In):
    """One disinfection done, with the measured values."""

    task_id: Id
    duration_minutes: int
    concentration_mg_l: int | None = None
    at: AwareDatetime | None = None
    note: text(500) = ""  # type: ignore[valid-type]
    reason: Reason = ""


class LogOut(Out):
    """A disinfection log."""

    id: int
    task_id: int
    day: date
    done_at: LocalDateTime
    duration_minutes: int
    concentration_mg_l: int | None
    within_limits: bool


@operation(
    "POST",
    "/hygiene/logs",
    summary="Log a disinfection",
    tag="hygiene",
    perm=Perm.HYGIENE_WRITE,
    body=LogIn,
    response=LogOut,
    status=201,
    description=(
        "Unknown task: 404 task_not_found; future time: 422 in_future; values outside sane "
        "bounds: 422 invalid_duration / invalid_concentration; outside the method's limits: "
        "422 duration_out_of_range / concentration_out_of_range (or stored flagged, by policy)."
    ),
)
def add_log(body: LogIn) -> LogOut:
    """Record a disinfection."""
    entry = hygiene.log_task(
        db.session, current_actor(), facility(), now=now(), task_id=body.task_id,
        duration_minutes=body.duration_minutes, concentration_mg_l=body.concentration_mg_l,
        at=body.at, note=body.note, reason=body.reason,
    )  # fmt: skip
    return LogOut.model_validate(entry)
