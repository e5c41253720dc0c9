"""The care log: the room's state, entries, naps, sleep checks, outdoor time, a child's day."""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, Field

from facility_app.accounts.permissions import Perm
from facility_app.care import service as care
from facility_app.care.models import CareKind, Mood, SleepPosition, SleepState
from facility_app.children.service import get_child

from ..auth import current_actor, facility, now
from ..extensions import db
from .registry import id_rule, operation
from .schemas import Id, In, LocalDateTime, Out, Query, Reason, text

log = logging.getLogger(__name__)

Ml = Annotated[int, Field(ge=1, le=100_000)]


class When(In):
    """An earlier time (with its offset) and why; leave out for now."""

    at: AwareDatetime | None = None
    reason: Reason = ""


class EntryIn(When):
    """One care entry for a present child; bottles need ``amount_ml``, moods ``mood``."""

    child_id: Id
    kind: CareKind
    amount_ml: Ml | None = None
    mood: Mood | None = None
    note: text(500) = ""  # type: ignore[valid-type]


class EntryOut(Out):
    """A logged care entry."""

    id: int
    child_id: int
    class_id: int
    day: date
    at: LocalDateTime
    kind: CareKind
    amount_ml: int | None
    mood: Mood | None
    note: str
    recorded_at: LocalDateTime
    recorded_by_id: int | None


class NapStart(When):
    """The child who fell asleep."""

    child_id: Id


class NapOut(Out):
    """A nap; ``ended_at`` is empty while the child sleeps."""

    id: int
    child_id: int
    class_id: int
    day: date
    started_at: LocalDateTime
    ended_at: LocalDateTime | None


class ObservationIn(In):
    """What the check found for one sleeping child (a position when breathing normally)."""

    nap_id: Id
    state: SleepState
    position: SleepPosition | None = None


class SleepCheckIn(When):
    """One patrol over the sleeping children."""

    observations: Annotated[list[ObservationIn], Field(min_length=1, max_length=60)]


class SleepCheckOut(Out):
    """One child's state at a check."""

    id: int
    nap_id: int
    at: LocalDateTime
    state: SleepState
    position: SleepPosition | None


class SleepCheckList(Out):
    """The checks recorded."""

    items: list[SleepCheckOut]


class OutdoorIn(When):
    """The class going outside (or only the listed children of it)."""

    class_id: Id
    child_ids: Annotated[list[Id], Field(max_length=60)] | None = None


class OutdoorEnd(When):
    """The class coming back in."""

    class_id: Id


class OutdoorOut(Out):
    """A period outdoors."""

    id: int
    class_id: int
    child_id: int | None
    day: date
    started_at: LocalDateTime
    ended_at: LocalDateTime | None


class OutdoorList(Out):
    """Outdoor periods started or ended."""

    items: list[OutdoorOut]


class SleepingOut(Out):
    """A sleeping child and their next check."""

    nap_id: int
    child_id: int
    started_at: LocalDateTime
    due: LocalDateTime
    overdue: bool


class RoomOut(Out):
    """The room now: present children, sleeping children, outdoor time."""

    class_id: int
    day: date
    present_child_ids: list[int]
    sleeping: list[SleepingOut]
    next_check_due: LocalDateTime | None
    overdue: bool
    outdoors: bool
    outdoor_minutes: int


class DayQuery(Query):
    """Which day (default today)."""

    day: date | None = None


class TimelineOut(Out):
    """One line of a child's day."""

    at: LocalDateTime
    kind: str
    end: LocalDateTime | None
    amount_ml: int | None
    detail: str


class DayOut(Out):
    """A child's day in time order."""

    child_id: int
    day: date
    items: list[TimelineOut]


@operation(
    "GET",
    f"/care/classes/{id_rule('class_id')}/room",
    summary="A class's room now",
    tag="care",
    perm=Perm.CARE_VIEW,
    response=RoomOut,
    description="Present and sleeping children with the next sleep check; outdoor minutes today.",
)
def room(class_id: int) -> RoomOut:
    """Present children, sleeping children with their next check, outdoor time."""
    state = care.room_state(db.session, current_actor(), facility(), class_id, now())
    return RoomOut(
        class_id=state.room.id,
        day=state.day,
        present_child_ids=[c.id for c in state.present],
        sleeping=[
            SleepingOut(
                nap_id=s.nap.id,
                child_id=s.child.id,
                started_at=s.nap.started_at,
                due=s.due,
                overdue=s.overdue,
            )
            for s in state.sleeping
        ],
        next_check_due=state.next_due,
        overdue=state.overdue,
        outdoors=state.outdoors,
        outdoor_minutes=state.outdoor_minutes,
    )


@operation(
    "POST",
    "/care/entries",
    summary="Log a care entry",
    tag="care",
    perm=Perm.CARE_WRITE,
    body=EntryIn,
    response=EntryOut,
    status=201,
    description=(
        "The child must be present at the time (422 not_present); a bottle over the policy's "
        "largest is refused (422 amount_too_large); a future time gives 422 in_future; an "
        "earlier time needs ``reason`` (422 reason_required)."
    ),
)
def add_entry(body: EntryIn) -> EntryOut:
    """Log a nappy, toilet, bottle, water, mood or note."""
    actor, fac = current_actor(), facility()
    child = get_child(db.session, actor, body.child_id)
    entry = care.log_entry(
        db.session,
        actor,
        fac,
        child,
        now=now(),
        kind=body.kind,
        at=body.at,
        amount_ml=body.amount_ml,
        mood=body.mood,
        note=body.note,
        reason=body.reason,
    )
    return EntryOut.model_validate(entry)


@operation(
    "POST",
    "/care/naps",
    summary="A child fell asleep",
    tag="care",
    perm=Perm.CARE_WRITE,
    body=NapStart,
    response=NapOut,
    status=201,
)
def start_nap(body: NapStart) -> NapOut:
    """Start a nap; a child already asleep gives 409 already_asleep."""
    actor, fac = current_actor(), facility()
    child = get_child(db.session, actor, body.child_id)
    nap = care.start_nap(db.session, actor, fac, child, now=now(), at=body.at, reason=body.reason)
    return NapOut.model_validate(nap)


@operation(
    "POST",
    f"/care/naps/{id_rule('nap_id')}/end",
    summary="A sleeping child woke",
    tag="care",
    perm=Perm.CARE_WRITE,
    body=When,
    response=NapOut,
    description="An end before the start is refused (422 nap_end_before_start).",
)
def end_nap(nap_id: int, body: When) -> NapOut:
    """End a nap; late and missed checks are stored."""
    nap = care.end_nap(
        db.session, current_actor(), facility(), nap_id, now=now(), at=body.at, reason=body.reason
    )
    return NapOut.model_validate(nap)


@operation(
    "POST",
    "/care/sleep-checks",
    summary="Record a sleep check",
    tag="care",
    perm=Perm.CARE_WRITE,
    body=SleepCheckIn,
    response=SleepCheckList,
    status=201,
    description=(
        "Each listed child must be asleep at the time (422 not_asleep); breathing normally "
        "needs a position (422 position_required); woke ends the nap."
    ),
)
def sleep_check(body: SleepCheckIn) -> SleepCheckList:
    """One patrol over the sleeping children."""
    checks = care.record_sleep_check(
        db.session,
        current_actor(),
        facility(),
        now=now(),
        observations=[care.Observation(o.nap_id, o.state, o.position) for o in body.observations],
        at=body.at,
        reason=body.reason,
    )
    return SleepCheckList(items=[SleepCheckOut.model_validate(c) for c in checks])


@operation(
    "POST",
    "/care/outdoor/start",
    summary="Going outside",
    tag="care",
    perm=Perm.CARE_WRITE,
    body=OutdoorIn,
    response=OutdoorList,
    status=201,
)
def outdoor_start(body: OutdoorIn) -> OutdoorList:
    """The whole class, or the listed children, went outside (409 already_outdoors)."""
    periods = care.start_outdoor(
        db.session,
        current_actor(),
        facility(),
        body.class_id,
        now=now(),
        at=body.at,
        child_ids=body.child_ids,
        reason=body.reason,
    )
    return OutdoorList(items=[OutdoorOut.model_validate(p) for p in periods])


@operation(
    "POST",
    "/care/outdoor/end",
    summary="Coming back in",
    tag="care",
    perm=Perm.CARE_WRITE,
    body=OutdoorEnd,
    response=OutdoorList,
)
def outdoor_end(body: OutdoorEnd) -> OutdoorList:
    """Everyone of the class outdoors came back in (409 not_outdoors)."""
    periods = care.end_outdoor(
        db.session, current_actor(), facility(), body.class_id, now=now(), at=body.at,
        reason=body.reason,
    )  # fmt: skip
    return OutdoorList(items=[OutdoorOut.model_validate(p) for p in periods])


@operation(
    "GET",
    f"/care/children/{id_rule('child_id')}/day",
    summary="A child's day",
    tag="care",
    perm=Perm.CARE_VIEW,
    query=DayQuery,
    response=DayOut,
)
def child_day(child_id: int, query: DayQuery) -> DayOut:
    """Arrival, care entries, naps and checks, outdoor time and departure, in time order."""
    actor, fac = current_actor(), facility()
    day = query.day or care.today(fac, now())
    child = get_child(db.session, actor, child_id)
    items = care.day_record(db.session, actor, fac, child, day)
    return DayOut(
        child_id=child.id,
        day=day,
        items=[
            TimelineOut(at=i.at, kind=i.kind, end=i.end, amount_ml=i.amount_ml, detail=i.detail)
            for i in items
        ],
    )
