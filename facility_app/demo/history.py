"""Simulated days at the door and on duty, written in bulk.

The rows are what the services would have written (drop-off and pick-up persons from the
child's own authorised adults, late pick-up and missing check-out flags, duty sessions),
but they go in with multi-row INSERTs because replaying a year through ``check_in`` one
request at a time would take minutes.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.orm import Session

from facility_app.attendance.models import AbsenceReason, AttendanceRecord, AttendanceStatus
from facility_app.children.models import CareType
from facility_app.demo.people import ChildPlan, ClassPlan, Roster
from facility_app.staff.models import DutySession

log = logging.getLogger(__name__)

ILLNESS_START = 0.022  # chance a healthy child falls ill on a service day
OUTBREAK_START = 0.004  # chance per class and day that an outbreak begins
OUTBREAK_ILLNESS_START = 0.12
OUTBREAK_DAYS = 5
PERSONAL_ABSENCE = 0.03
LATE_PICKUP = 0.02
MISSING_CHECKOUT = 0.0015
INCIDENT_SHARE = 0.03  # class-days on which a caregiver arrives late or leaves early

_ILLNESS_DAYS = ([1, 2, 3, 4, 5], [25, 30, 22, 13, 10])
_SYMPTOMS = ["发热", "咳嗽、流涕", "腹泻", "呕吐", "皮疹", "感冒"]
_OUTBREAK_SYMPTOMS = ["发热、咳嗽（流感样症状）", "手足口病（疑似）", "腹泻、呕吐（疑似诺如病毒）"]
_PERSONAL = ["家中有事", "随家长外出", "回老家", "接种疫苗", "家长休假"]


@dataclass
class DayRows:
    """The rows simulated for one day, not yet written."""

    attendance: list[dict[str, Any]] = field(default_factory=list)
    duty: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class HistoryStats:
    """What was written, for the seed's report."""

    days: int = 0
    present: int = 0
    illness: int = 0
    personal: int = 0
    late_pickups: int = 0
    missing_checkouts: int = 0
    incidents: int = 0
    duty_sessions: int = 0


def _weighted(rng: random.Random, options: list[tuple[int, float]]) -> int:
    ids = [o[0] for o in options]
    weights = [o[1] for o in options]
    return rng.choices(ids, weights=weights)[0]


class DaySimulator:
    """Simulates the facility's service days one at a time, with illness that carries over."""

    def __init__(self, roster: Roster, rng: random.Random) -> None:
        self.roster = roster
        self.rng = rng
        fac = roster.facility
        self.zone = ZoneInfo(fac.timezone)
        self.opening, self.closing = fac.opening_time, fac.closing_time
        self.grace = timedelta(minutes=fac.policy().attendance.late_pickup_grace_minutes)
        self._ill: dict[int, tuple[int, str]] = {}  # child id -> (days left, symptom)
        self._outbreak: dict[int, tuple[int, str]] = {}  # class id -> (days left, symptom)
        self._incidents: set[tuple[int, date]] = set()
        self.stats = HistoryStats()

    def plan_incidents(self, days: list[date]) -> None:
        """Pick the class-days on which one caregiver is late or leaves early (≥ 1 per class)."""
        if not days:
            return
        for plan in self.roster.classes:
            if len(plan.caregivers) < 1:
                continue
            k = min(len(days), max(1, round(INCIDENT_SHARE * len(days))))
            for day in self.rng.sample(days, k):
                self._incidents.add((plan.room.id, day))

    def _at(self, day: date, t: Any, minutes: float = 0.0) -> datetime:
        base = datetime.combine(day, t, tzinfo=self.zone).astimezone(UTC)
        return base + timedelta(seconds=round(minutes * 60))

    def simulate(self, day: date, until: datetime | None = None) -> DayRows:
        """One service day; with ``until``, only what has happened by then (today)."""
        rows = DayRows()
        for plan in self.roster.classes:
            self._class_day(plan, day, until, rows)
        self.stats.days += 1
        return rows

    def _outbreak_today(self, class_id: int, live: bool) -> str | None:
        current = self._outbreak.get(class_id)
        if current is None and not live and self.rng.random() < OUTBREAK_START:
            current = (OUTBREAK_DAYS, self.rng.choice(_OUTBREAK_SYMPTOMS))
        if current is None:
            return None
        left, symptom = current
        if left <= 1:
            self._outbreak.pop(class_id, None)
        else:
            self._outbreak[class_id] = (left - 1, symptom)
        return symptom

    def _absence(self, child: ChildPlan, day: date, outbreak: str | None) -> tuple[str, str] | None:
        """(reason, note) when the child stays home today."""
        ill = self._ill.get(child.child_id)
        if ill is not None:
            left, symptom = ill
            if left <= 1:
                del self._ill[child.child_id]
            else:
                self._ill[child.child_id] = (left - 1, symptom)
            return AbsenceReason.ILLNESS.value, symptom
        chance = OUTBREAK_ILLNESS_START if outbreak else ILLNESS_START
        if self.rng.random() < chance:
            days = self.rng.choices(*_ILLNESS_DAYS)[0]
            symptom = outbreak or self.rng.choice(_SYMPTOMS)
            if days > 1:
                self._ill[child.child_id] = (days - 1, symptom)
            return AbsenceReason.ILLNESS.value, symptom
        # Fridays and Mondays see more family trips.
        personal = PERSONAL_ABSENCE * (1.6 if day.weekday() in (0, 4) else 1.0)
        if self.rng.random() < personal:
            return AbsenceReason.PERSONAL.value, self.rng.choice(_PERSONAL)
        return None

    def _times(self, child: ChildPlan, day: date, live: bool) -> tuple[datetime, datetime, str]:
        """Arrival, departure and how the day ended (normal, late or missing)."""
        arrive = self._at(day, self.opening, self.rng.triangular(0, 90, 35))
        if child.care_type == CareType.HALF_DAY:
            leave = self._at(day, self.opening, 240 + self.rng.uniform(0, 60))
            return arrive, leave, "normal"
        roll = self.rng.random()
        if roll < LATE_PICKUP:
            return arrive, self._at(day, self.closing, self.rng.uniform(1, 25)), "late"
        leave = self._at(day, self.closing, -90 + self.rng.triangular(0, 85, 60))
        if not live and roll < LATE_PICKUP + MISSING_CHECKOUT:
            return arrive, leave, "missing"
        return arrive, leave, "normal"

    def _class_day(self, plan: ClassPlan, day: date, until: datetime | None, rows: DayRows) -> None:
        live = until is not None
        outbreak = self._outbreak_today(plan.room.id, live)
        closing = self._at(day, self.closing)
        last_out = closing
        for child in plan.children:
            if child.start > day or (child.end is not None and child.end < day):
                continue
            base = {
                "child_id": child.child_id,
                "class_id": plan.room.id,
                "day": day,
                "check_in_at": None,
                "check_out_at": None,
                "dropped_off_by_id": None,
                "picked_up_by_id": None,
                "absence_reason": None,
                "note": "",
                "late_pickup": False,
                "missing_checkout": False,
                "recorded_by_id": None,
            }
            absence = self._absence(child, day, outbreak)
            if absence is not None:
                # Families phone in before opening; today's calls are only in once it's morning.
                if live and until < self._at(day, self.opening, -60):  # type: ignore[operator]
                    continue
                reason, note = absence
                rows.attendance.append(
                    base
                    | {"status": AttendanceStatus.ABSENT, "absence_reason": reason, "note": note}
                )
                if reason == AbsenceReason.ILLNESS.value:
                    self.stats.illness += 1
                else:
                    self.stats.personal += 1
                continue
            arrive, leave, ending = self._times(child, day, live)
            if live and arrive > until:  # type: ignore[operator]
                continue
            row = base | {
                "status": AttendanceStatus.PRESENT,
                "check_in_at": arrive,
                "dropped_off_by_id": _weighted(self.rng, child.drop_off),
            }
            self.stats.present += 1
            if ending == "missing":
                row["missing_checkout"] = True
                self.stats.missing_checkouts += 1
            elif not live or leave <= until:  # type: ignore[operator]
                row["check_out_at"] = leave
                row["picked_up_by_id"] = _weighted(self.rng, child.pick_up)
                row["late_pickup"] = leave > closing + self.grace
                self.stats.late_pickups += int(row["late_pickup"])
                last_out = max(last_out, leave)
            rows.attendance.append(row)
        self._duty(plan, day, until, last_out, rows)

    def _duty(
        self, plan: ClassPlan, day: date, until: datetime | None, last_out: datetime, rows: DayRows
    ) -> None:
        """Caregivers come before opening and stay until the last child has gone."""
        incident = (plan.room.id, day) in self._incidents and until is None
        late_one = self.rng.randrange(len(plan.caregivers)) if incident else -1
        arrives_late = self.rng.random() < 0.5
        for i, staff_id in enumerate(plan.caregivers):
            start = self._at(day, self.opening, -self.rng.uniform(5, 20))
            end = max(
                self._at(day, self.closing, self.rng.uniform(5, 20)),
                last_out + timedelta(minutes=self.rng.uniform(3, 10)),
            )
            if i == late_one:
                self.stats.incidents += 1
                if arrives_late:
                    start = self._at(day, self.opening, self.rng.uniform(65, 110))
                else:
                    end = self._at(day, self.closing, -self.rng.uniform(90, 180))
            if until is not None:
                if start > until:
                    continue
                if end > until:
                    end = None  # still on duty
            rows.duty.append(
                {"staff_id": staff_id, "class_id": plan.room.id, "start_at": start, "end_at": end}
            )
            self.stats.duty_sessions += 1


def write_rows(session: Session, rows: DayRows) -> None:
    """Insert simulated rows with multi-row INSERTs (no ORM objects, no per-row flush)."""
    if rows.attendance:
        session.execute(insert(AttendanceRecord), rows.attendance)
    if rows.duty:
        session.execute(insert(DutySession), rows.duty)
