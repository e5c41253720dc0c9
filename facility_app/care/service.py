"""Logging care for present children: entries, naps and sleep checks, outdoor time.

Every entry is for a child present at its time (checked in at or before it and not
checked out before it). Entries in the future are refused; an entry more than the
policy's ``backdate_without_reason_minutes`` in the past is a correction and needs a
reason, which goes to the audit log with the change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from carewatch import validate
from carewatch.clock import local_day_bounds
from carewatch.errors import Conflict, DomainError, NotFound
from facility_app.accounts.permissions import Actor, Perm
from facility_app.attendance.models import AttendanceRecord, AttendanceStatus
from facility_app.audit import service as audit
from facility_app.care import rules
from facility_app.care.models import (
    CareEntry,
    CareKind,
    Mood,
    Nap,
    OutdoorPeriod,
    SleepCheck,
    SleepCheckLapse,
    SleepPosition,
    SleepState,
)
from facility_app.children.models import Child
from facility_app.facility.models import ClassRoom, Facility
from facility_app.facility.service import at_local, get_class, today, visible_classes


def _hhmm(facility: Facility, at: datetime) -> str:
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo(facility.timezone)).strftime("%H:%M")


def _when(
    facility: Facility, now: datetime, at: datetime | None, reason: str
) -> tuple[datetime, str]:
    """The entry's time (default now) and its reason; future refused, old needs a reason."""
    reason = validate.text(reason, field="reason", limit=500)
    if at is None:
        return now, reason
    if at.tzinfo is None:
        raise DomainError("invalid_time", "The time is not valid.", field="at")
    if at > now:
        raise DomainError("in_future", "Times cannot be in the future.", field="at")
    limit = timedelta(minutes=facility.policy().care.backdate_without_reason_minutes)
    if at < now - limit and not reason:
        raise DomainError(
            "reason_required", "An entry for an earlier time needs a reason.", field="reason"
        )
    return at, reason


def presence(session: Session, facility: Facility, child: Child, at: datetime) -> AttendanceRecord:
    """The child's attendance record if present at ``at``; otherwise refuse."""
    rec = session.scalar(
        select(AttendanceRecord).where(
            AttendanceRecord.child_id == child.id,
            AttendanceRecord.day == today(facility, at),
        )
    )
    if (
        rec is None
        or rec.status != AttendanceStatus.PRESENT
        or rec.check_in_at is None
        or rec.check_in_at > at
        or (rec.check_out_at is not None and rec.check_out_at < at)
    ):
        raise DomainError(
            "not_present",
            "%(child)s was not present at %(time)s.",
            field="child_id",
            child=child.name,
            time=_hhmm(facility, at),
        )
    return rec


def _child(session: Session, child_id: int) -> Child:
    child = session.get(Child, child_id)
    if child is None:
        raise NotFound("child_not_found", "This child does not exist.")
    return child


def log_entry(
    session: Session,
    actor: Actor,
    facility: Facility,
    child: Child,
    *,
    now: datetime,
    kind: CareKind | str,
    at: datetime | None = None,
    amount_ml: int | None = None,
    mood: Mood | str | None = None,
    note: str = "",
    reason: str = "",
) -> CareEntry:
    """Log a nappy, toilet visit, bottle, drink of water, mood or note for a present child."""
    actor.require(Perm.CARE_WRITE)
    try:
        kind = CareKind(kind)
    except ValueError:
        raise DomainError("invalid_kind", "Choose a kind of entry.", field="kind") from None
    at, reason = _when(facility, now, at, reason)
    rec = presence(session, facility, child, at)
    actor.require_class(rec.class_id)
    note = validate.text(note, field="note", limit=500)
    if kind == CareKind.BOTTLE:
        limit = facility.policy().care.max_bottle_ml
        if amount_ml is None or amount_ml <= 0:
            raise DomainError(
                "amount_required", "Enter how many ml the bottle held.", field="amount_ml"
            )
        if amount_ml > limit:
            raise DomainError(
                "amount_too_large",
                "%(ml)s ml is more than a bottle holds (at most %(limit)s ml).",
                field="amount_ml",
                ml=amount_ml,
                limit=limit,
            )
    elif amount_ml is not None and kind != CareKind.WATER:
        raise DomainError("amount_not_allowed", "Only bottles and water have an amount.")
    elif amount_ml is not None and not 0 < amount_ml <= facility.policy().care.max_bottle_ml:
        raise DomainError(
            "amount_too_large",
            "%(ml)s ml is more than a bottle holds (at most %(limit)s ml).",
            field="amount_ml",
            ml=amount_ml,
            limit=facility.policy().care.max_bottle_ml,
        )
    if kind == CareKind.MOOD:
        try:
            mood = Mood(mood or "")
        except ValueError:
            raise DomainError("invalid_mood", "Choose a mood.", field="mood") from None
    else:
        mood = None
    if kind == CareKind.NOTE and not note:
        raise DomainError("note_required", "Write the note.", field="note")
    entry = CareEntry(
        child_id=child.id,
        class_id=rec.class_id,
        day=rec.day,
        at=at,
        kind=kind,
        amount_ml=amount_ml,
        mood=mood,
        note=note,
        recorded_at=now,
        recorded_by_id=actor.user_id,
    )
    session.add(entry)
    audit.log_change(session, actor, now, "care_" + kind.value, "care_entry", entry, reason=reason)
    return entry


def _open_nap(session: Session, child_id: int) -> Nap | None:
    return session.scalar(select(Nap).where(Nap.child_id == child_id, Nap.ended_at.is_(None)))


def start_nap(
    session: Session,
    actor: Actor,
    facility: Facility,
    child: Child,
    *,
    now: datetime,
    at: datetime | None = None,
    reason: str = "",
) -> Nap:
    """A present child fell asleep."""
    actor.require(Perm.CARE_WRITE)
    at, reason = _when(facility, now, at, reason)
    rec = presence(session, facility, child, at)
    actor.require_class(rec.class_id)
    if _open_nap(session, child.id) is not None:
        raise Conflict("already_asleep", "%(child)s is already asleep.", child=child.name)
    overlap = session.scalar(
        select(Nap.id).where(Nap.child_id == child.id, Nap.started_at <= at, Nap.ended_at > at)
    )
    if overlap is not None:
        raise Conflict(
            "nap_overlap",
            "%(child)s was asleep at %(time)s already.",
            child=child.name,
            time=_hhmm(facility, at),
        )
    nap = Nap(
        child_id=child.id,
        class_id=rec.class_id,
        day=rec.day,
        started_at=at,
        recorded_by_id=actor.user_id,
    )
    session.add(nap)
    audit.log_change(session, actor, now, "nap_start", "nap", nap, reason=reason)
    return nap


def _get_nap(session: Session, actor: Actor, nap_id: int) -> Nap:
    nap = session.get(Nap, nap_id)
    if nap is None or not actor.can_reach_class(nap.class_id):
        raise NotFound("nap_not_found", "This nap does not exist.")
    return nap


def _store_lapses(session: Session, facility: Facility, nap: Nap) -> None:
    """Recompute the nap's late and missed checks from its checks (corrections included)."""
    care = facility.policy().care
    found = rules.lapses(
        nap.started_at,
        [c.at for c in nap.checks],
        nap.ended_at,
        timedelta(minutes=care.sleep_check_interval_minutes),
        timedelta(minutes=care.sleep_check_grace_minutes),
    )
    nap.lapses.clear()
    session.flush()
    for lapse in found:
        nap.lapses.append(
            SleepCheckLapse(
                class_id=nap.class_id,
                day=nap.day,
                due_at=lapse.due_at,
                seen_at=lapse.seen_at,
                missed=lapse.missed,
                late_seconds=lapse.late_seconds,
            )
        )
    session.flush()


def _finish(session: Session, facility: Facility, nap: Nap, at: datetime) -> None:
    child = _child(session, nap.child_id)
    if at < nap.started_at:
        raise DomainError(
            "nap_end_before_start",
            "The nap cannot end at %(end)s, before it started at %(start)s.",
            field="at",
            end=_hhmm(facility, at),
            start=_hhmm(facility, nap.started_at),
        )
    presence(session, facility, child, at)
    nap.ended_at = at


def end_nap(
    session: Session,
    actor: Actor,
    facility: Facility,
    nap_id: int,
    *,
    now: datetime,
    at: datetime | None = None,
    reason: str = "",
) -> Nap:
    """A sleeping child woke up; late and missed checks of the nap are stored."""
    actor.require(Perm.CARE_WRITE)
    nap = _get_nap(session, actor, nap_id)
    if nap.ended_at is not None:
        raise Conflict(
            "nap_already_ended",
            "This nap already ended at %(time)s.",
            time=_hhmm(facility, nap.ended_at),
        )
    at, reason = _when(facility, now, at, reason)
    before = audit.snapshot(nap)
    _finish(session, facility, nap, at)
    _store_lapses(session, facility, nap)
    audit.log_change(session, actor, now, "nap_end", "nap", nap, before=before, reason=reason)
    return nap


@dataclass(frozen=True)
class Observation:
    """What a sleep check found for one sleeping child."""

    nap_id: int
    state: SleepState | str
    position: SleepPosition | str | None = None


def record_sleep_check(
    session: Session,
    actor: Actor,
    facility: Facility,
    *,
    now: datetime,
    observations: Sequence[Observation],
    at: datetime | None = None,
    reason: str = "",
) -> list[SleepCheck]:
    """Record one patrol: each listed sleeping child's state; a woken child's nap ends."""
    actor.require(Perm.CARE_WRITE)
    if not observations:
        raise DomainError("no_children", "Choose at least one sleeping child.")
    at, reason = _when(facility, now, at, reason)
    out = []
    for obs in observations:
        nap = _get_nap(session, actor, obs.nap_id)
        child = _child(session, nap.child_id)
        if nap.started_at > at or (nap.ended_at is not None and nap.ended_at <= at):
            raise DomainError(
                "not_asleep",
                "%(child)s was not asleep at %(time)s.",
                field="nap_id",
                child=child.name,
                time=_hhmm(facility, at),
            )
        try:
            state = SleepState(obs.state)
        except ValueError:
            raise DomainError(
                "invalid_state", "Choose what the check found.", field="state"
            ) from None
        position = None
        if state == SleepState.BREATHING_NORMALLY:
            try:
                position = SleepPosition(obs.position or "")
            except ValueError:
                raise DomainError(
                    "position_required",
                    "Choose how %(child)s is lying.",
                    field="position",
                    child=child.name,
                ) from None
        check = SleepCheck(
            nap=nap,
            at=at,
            state=state,
            position=position,
            recorded_at=now,
            recorded_by_id=actor.user_id,
        )
        session.add(check)
        audit.log_change(session, actor, now, "sleep_check", "sleep_check", check, reason=reason)
        if state == SleepState.WOKE and nap.ended_at is None:
            before = audit.snapshot(nap)
            _finish(session, facility, nap, at)
            audit.log_change(
                session, actor, now, "nap_end", "nap", nap, before=before, reason=reason
            )
        session.refresh(nap, ["checks"])
        _store_lapses(session, facility, nap)
        out.append(check)
    return out


def start_outdoor(
    session: Session,
    actor: Actor,
    facility: Facility,
    class_id: int,
    *,
    now: datetime,
    at: datetime | None = None,
    child_ids: Sequence[int] | None = None,
    reason: str = "",
) -> list[OutdoorPeriod]:
    """The class (or the listed children of it) went outside."""
    actor.require(Perm.CARE_WRITE)
    room = get_class(session, class_id)
    actor.require_class(room.id)
    at, reason = _when(facility, now, at, reason)
    day = today(facility, at)
    targets: list[int | None] = list(child_ids) if child_ids else [None]
    out = []
    for child_id in targets:
        if child_id is not None:
            rec = presence(session, facility, _child(session, child_id), at)
            if rec.class_id != room.id:
                raise DomainError("wrong_class", "This child is not in this class today.")
        open_ = session.scalar(
            select(OutdoorPeriod.id).where(
                OutdoorPeriod.class_id == room.id,
                OutdoorPeriod.ended_at.is_(None),
                OutdoorPeriod.child_id.is_(None)
                if child_id is None
                else OutdoorPeriod.child_id == child_id,
            )
        )
        if open_ is not None:
            raise Conflict("already_outdoors", "Already outdoors.")
        period = OutdoorPeriod(
            class_id=room.id,
            child_id=child_id,
            day=day,
            started_at=at,
            recorded_by_id=actor.user_id,
        )
        session.add(period)
        audit.log_change(
            session, actor, now, "outdoor_start", "outdoor_period", period, reason=reason
        )
        out.append(period)
    return out


def end_outdoor(
    session: Session,
    actor: Actor,
    facility: Facility,
    class_id: int,
    *,
    now: datetime,
    at: datetime | None = None,
    reason: str = "",
) -> list[OutdoorPeriod]:
    """Everyone of the class who is outdoors came back in."""
    actor.require(Perm.CARE_WRITE)
    room = get_class(session, class_id)
    actor.require_class(room.id)
    at, reason = _when(facility, now, at, reason)
    periods = session.scalars(
        select(OutdoorPeriod).where(
            OutdoorPeriod.class_id == room.id, OutdoorPeriod.ended_at.is_(None)
        )
    ).all()
    if not periods:
        raise Conflict("not_outdoors", "Nobody of this class is outdoors.")
    for period in periods:
        if at < period.started_at:
            raise DomainError(
                "outdoor_end_before_start",
                "The time outside cannot end before it started at %(start)s.",
                field="at",
                start=_hhmm(facility, period.started_at),
            )
        before = audit.snapshot(period)
        period.ended_at = at
        audit.log_change(
            session,
            actor,
            now,
            "outdoor_end",
            "outdoor_period",
            period,
            before=before,
            reason=reason,
        )
    return list(periods)


def outdoor_minutes(
    session: Session, facility: Facility, class_id: int, day: date, now: datetime
) -> int:
    """The class's whole-class outdoor minutes on a day, up to ``now`` (union of periods)."""
    periods = session.execute(
        select(OutdoorPeriod.started_at, OutdoorPeriod.ended_at).where(
            OutdoorPeriod.class_id == class_id,
            OutdoorPeriod.day == day,
            OutdoorPeriod.child_id.is_(None),
        )
    ).all()
    start, end = local_day_bounds(day, facility.timezone)
    return rules.union_minutes([(s, e) for s, e in periods], start, min(now, end))


@dataclass
class SleepingChild:
    """A child asleep now, with when the next check falls due."""

    nap: Nap
    child: Child
    due: datetime
    overdue: bool


@dataclass
class RoomState:
    """What the room view shows for one class now."""

    room: ClassRoom
    day: date
    present: list[Child]
    sleeping: list[SleepingChild]
    outdoors: bool
    outdoor_minutes: int

    @property
    def next_due(self) -> datetime | None:
        """The earliest due check among sleeping children."""
        return min((s.due for s in self.sleeping), default=None)

    @property
    def overdue(self) -> bool:
        """Whether any sleeping child's check is overdue."""
        return any(s.overdue for s in self.sleeping)


def sleeping(
    session: Session, facility: Facility, class_ids: list[int], now: datetime
) -> list[SleepingChild]:
    """Children of the classes asleep now, each with their next check."""
    if not class_ids:
        return []
    care = facility.policy().care
    interval = timedelta(minutes=care.sleep_check_interval_minutes)
    grace = timedelta(minutes=care.sleep_check_grace_minutes)
    naps = session.scalars(
        select(Nap)
        .where(Nap.class_id.in_(class_ids), Nap.ended_at.is_(None))
        .options(selectinload(Nap.checks), selectinload(Nap.child))
        .order_by(Nap.started_at)
    ).all()
    out = []
    for nap in naps:
        due = rules.next_check_due(nap.started_at, [c.at for c in nap.checks], interval)
        out.append(SleepingChild(nap, nap.child, due, rules.is_overdue(due, now, grace)))
    return out


def room_state(
    session: Session, actor: Actor, facility: Facility, class_id: int, now: datetime
) -> RoomState:
    """Present children, sleeping children with their checks, and outdoor time of a class."""
    actor.require(Perm.CARE_VIEW)
    room = get_class(session, class_id)
    actor.require_class(room.id)
    day = today(facility, now)
    recs = session.scalars(
        select(AttendanceRecord)
        .where(
            AttendanceRecord.class_id == room.id,
            AttendanceRecord.day == day,
            AttendanceRecord.status == AttendanceStatus.PRESENT,
            AttendanceRecord.check_out_at.is_(None),
        )
        .options(selectinload(AttendanceRecord.child))
    ).all()
    present = sorted((r.child for r in recs), key=lambda c: c.name)
    outdoors = session.scalar(
        select(OutdoorPeriod.id)
        .where(OutdoorPeriod.class_id == room.id, OutdoorPeriod.ended_at.is_(None))
        .limit(1)
    )
    return RoomState(
        room=room,
        day=day,
        present=present,
        sleeping=sleeping(session, facility, [room.id], now),
        outdoors=outdoors is not None,
        outdoor_minutes=outdoor_minutes(session, facility, room.id, day, now),
    )


@dataclass(frozen=True)
class TimelineItem:
    """One line of a child's day."""

    at: datetime
    kind: str
    end: datetime | None = None
    amount_ml: int | None = None
    detail: str = ""
    recorded_by_id: int | None = None


def day_record(
    session: Session, actor: Actor, facility: Facility, child: Child, day: date
) -> list[TimelineItem]:
    """A child's day in time order: arrival, care entries, naps and checks, outdoor, departure."""
    actor.require(Perm.CARE_VIEW)
    items: list[TimelineItem] = []
    rec = session.scalar(
        select(AttendanceRecord).where(
            AttendanceRecord.child_id == child.id, AttendanceRecord.day == day
        )
    )
    if rec is not None:
        actor.require_class(rec.class_id)
        if rec.check_in_at is not None:
            items.append(TimelineItem(rec.check_in_at, "arrival"))
        if rec.check_out_at is not None:
            items.append(TimelineItem(rec.check_out_at, "departure"))
    for e in session.scalars(
        select(CareEntry).where(CareEntry.child_id == child.id, CareEntry.day == day)
    ):
        detail = e.mood.value if e.mood else e.note
        items.append(TimelineItem(e.at, e.kind.value, None, e.amount_ml, detail, e.recorded_by_id))
    naps = session.scalars(
        select(Nap)
        .where(Nap.child_id == child.id, Nap.day == day)
        .options(selectinload(Nap.checks), selectinload(Nap.lapses))
    ).all()
    for nap in naps:
        items.append(TimelineItem(nap.started_at, "nap", nap.ended_at))
        for lapse in nap.lapses:
            # Shown at the time the check fell due; the detail is how many minutes late.
            kind = "sleep_check_missed" if lapse.missed else "sleep_check_late"
            items.append(
                TimelineItem(lapse.due_at, kind, None, None, str(lapse.late_seconds // 60))
            )
        for c in nap.checks:
            detail = c.position.value if c.position else c.state.value
            items.append(TimelineItem(c.at, "sleep_check", None, None, detail, c.recorded_by_id))
    class_id = rec.class_id if rec is not None else None
    outdoor = select(OutdoorPeriod).where(OutdoorPeriod.day == day)
    if class_id is not None:
        outdoor = outdoor.where(
            (OutdoorPeriod.child_id == child.id)
            | ((OutdoorPeriod.class_id == class_id) & OutdoorPeriod.child_id.is_(None))
        )
    else:
        outdoor = outdoor.where(OutdoorPeriod.child_id == child.id)
    for p in session.scalars(outdoor):
        # A class outing counts for the child only while the child was there.
        if (
            rec is not None
            and p.child_id is None
            and rec.check_in_at is not None
            and (
                (p.ended_at is not None and p.ended_at < rec.check_in_at)
                or (rec.check_out_at is not None and p.started_at > rec.check_out_at)
            )
        ):
            continue
        items.append(TimelineItem(p.started_at, "outdoor", p.ended_at))
    items.sort(key=lambda i: (i.at, i.kind))
    return items


@dataclass
class CareWarnings:
    """What the director should see about care right now."""

    outdoor_short: list[tuple[ClassRoom, int]] = field(default_factory=list)
    overdue: list[tuple[ClassRoom, SleepingChild]] = field(default_factory=list)
    lapses_today: int = 0


def warnings(session: Session, actor: Actor, facility: Facility, now: datetime) -> CareWarnings:
    """Classes that cannot reach the outdoor minimum (after the warning time) and overdue checks."""
    out = CareWarnings()
    if not actor.can(Perm.CARE_VIEW):
        return out
    care = facility.policy().care
    day = today(facility, now)
    rooms = [r for r in visible_classes(session, facility, actor) if r.active]
    by_id = {r.id: r for r in rooms}
    for s in sleeping(session, facility, list(by_id), now):
        if s.overdue:
            out.overdue.append((by_id[s.nap.class_id], s))
    if now >= at_local(facility, day, care.outdoor_warning_after):
        closing = at_local(facility, day, facility.closing_time)
        present_classes = set(
            session.scalars(
                select(AttendanceRecord.class_id).where(
                    AttendanceRecord.day == day,
                    AttendanceRecord.status == AttendanceStatus.PRESENT,
                    AttendanceRecord.class_id.in_(list(by_id)),
                )
            )
        )
        for room in rooms:
            if room.id not in present_classes:
                continue
            minutes = outdoor_minutes(session, facility, room.id, day, now)
            if rules.outdoor_unreachable(minutes, now, closing, care.outdoor_minimum_minutes):
                out.outdoor_short.append((room, minutes))
    out.lapses_today = len(
        session.scalars(
            select(SleepCheckLapse.id).where(
                SleepCheckLapse.day == day, SleepCheckLapse.class_id.in_(list(by_id))
            )
        ).all()
    )
    return out


def end_naps_at_departure(
    session: Session, actor: Actor, facility: Facility, child_id: int, *, now: datetime
) -> list[Nap]:
    """A child picked up while asleep has woken: end their open naps at the check-out."""
    open_naps = session.scalars(
        select(Nap).where(Nap.child_id == child_id, Nap.ended_at.is_(None))
    ).all()
    return [end_nap(session, actor, facility, nap.id, now=now) for nap in open_naps]
