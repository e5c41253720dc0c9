"""The director's picture of today: per class attendance, ratio, breaches and alerts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from facility_app.accounts.permissions import Actor, Perm
from facility_app.alerts.models import Alert
from facility_app.alerts.service import open_alerts
from facility_app.attendance.service import DoorRow, door_rows
from facility_app.care.service import CareWarnings
from facility_app.care.service import warnings as care_warnings
from facility_app.children.models import Child, Enrolment
from facility_app.children.service import misfits
from facility_app.facility.models import ClassRoom, Facility
from facility_app.facility.service import at_local, is_service_day, today, visible_classes
from facility_app.hygiene.service import TaskRow
from facility_app.hygiene.service import overdue as hygiene_overdue
from facility_app.ratio.models import ClassBreach
from facility_app.ratio.rules import RatioStatus
from facility_app.ratio.service import breaches, live_status
from monitoring.service import Coverage, coverage


@dataclass
class ClassOverview:
    """One class's line on the director's page."""

    room: ClassRoom
    status: RatioStatus
    counts: Counter[str]
    enrolled: int
    breaches_today: list[ClassBreach] = field(default_factory=list)

    @property
    def expected(self) -> int:
        """Children enrolled today and not reported absent."""
        return self.enrolled - self.counts["absent"]


@dataclass
class Overview:
    """Everything the director's page shows for one day."""

    day: date
    service_day: bool
    after_closing: bool
    classes: list[ClassOverview]
    open_checkins: list[DoorRow]
    alerts: list[Alert]
    age_flags: list[tuple[Child, Enrolment, int]]
    care: CareWarnings = field(default_factory=CareWarnings)
    hygiene_overdue: list[TaskRow] = field(default_factory=list)
    cctv: Coverage | None = None  # zone coverage and camera health, for those who may see it

    @property
    def totals(self) -> Counter[str]:
        """Counts summed over classes."""
        total: Counter[str] = Counter()
        for c in self.classes:
            total.update(c.counts)
            total["enrolled"] += c.enrolled
        return total


def build(session: Session, actor: Actor, facility: Facility, now: datetime) -> Overview:
    """Assemble today's overview for the actor's classes."""
    actor.require(Perm.ATTENDANCE_VIEW)
    day = today(facility, now)
    rooms = visible_classes(session, facility, actor)
    ids = [r.id for r in rooms]
    rows = door_rows(session, actor, facility, day, ids)
    statuses = live_status(session, facility, rooms, now)
    todays = breaches(session, ids, day, day)
    by_class: dict[int, list[DoorRow]] = {r.id: [] for r in rooms}
    for row in rows:
        by_class.setdefault(row.enrolment.class_id, []).append(row)
    classes = []
    for room in rooms:
        counts = Counter(r.state for r in by_class[room.id])
        classes.append(
            ClassOverview(
                room=room,
                status=statuses[room.id],
                counts=counts,
                enrolled=len(by_class[room.id]),
                breaches_today=[b for b in todays if b.class_id == room.id],
            )
        )
    return Overview(
        day=day,
        service_day=is_service_day(session, facility, day),
        after_closing=now >= at_local(facility, day, facility.closing_time),
        classes=classes,
        open_checkins=[r for r in rows if r.state == "present"],
        alerts=open_alerts(session, facility.id, actor, limit=50)
        if actor.can(Perm.ALERTS_VIEW)
        else [],
        age_flags=misfits(
            facility,
            ((r.child, r.enrolment) for r in rows),
            {r.id: r.class_type for r in rooms},
            day,
        ),
        care=care_warnings(session, actor, facility, now),
        hygiene_overdue=hygiene_overdue(session, actor, facility, now),
        cctv=coverage(session, now) if actor.can(Perm.CCTV_VIEW) else None,
    )
