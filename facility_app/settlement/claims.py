"""A month's claim lines computed from enrolments and attendance rows."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from carewatch.policy import SubsidyRule
from facility_app.attendance.models import AttendanceRecord, AttendanceStatus
from facility_app.children.models import Child, Enrolment
from facility_app.facility.models import ClassRoom, Facility
from facility_app.facility.service import service_days
from facility_app.fees.rules import to_fen
from facility_app.settlement import rules
from facility_app.settlement.models import (
    LineKind,
    Settlement,
)
from facility_app.settlement.rules import ZERO

log = logging.getLogger(__name__)


@dataclass
class ClaimLine:
    """One child's line, or an adjustment of an earlier settled month."""

    kind: LineKind
    child_id: int
    pseudonym: str
    name: str
    class_id: int | None
    class_name: str
    service_days: int
    days_enrolled: int
    days_attended: int
    units: Decimal
    rate: Decimal
    amount: Decimal
    rule_text: str
    days: list[dict[str, Any]] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    adjusts_month: str | None = None
    reason: str = ""


@dataclass
class ClassTotal:
    """A class's children and amount on a claim."""

    class_id: int | None
    class_name: str
    children: int
    amount: Decimal


@dataclass
class Claim:
    """A month's claim: live (draft) or read back from its settled snapshot."""

    month: str
    first: date
    last: date
    service_days: int
    version_id: int | None
    rule: SubsidyRule
    facility_details: dict[str, Any]
    lines: list[ClaimLine]
    adjustments: list[ClaimLine]
    settlement: Settlement | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def settled(self) -> bool:
        """Whether this is a locked snapshot."""
        return self.settlement is not None

    @property
    def claim_total(self) -> Decimal:
        """The month's lines, without adjustments."""
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def adjustment_total(self) -> Decimal:
        """Adjustments of earlier months carried by this claim."""
        return sum((line.amount for line in self.adjustments), ZERO)

    @property
    def total(self) -> Decimal:
        """What this claim asks for."""
        return self.claim_total + self.adjustment_total

    @property
    def flagged(self) -> list[ClaimLine]:
        """Lines whose rows need a look (a check-in without a check-out)."""
        return [line for line in self.lines if line.flags]

    def class_totals(self) -> list[ClassTotal]:
        """Children and amounts per class, in class order."""
        out: dict[int | None, ClassTotal] = {}
        for line in self.lines:
            t = out.setdefault(line.class_id, ClassTotal(line.class_id, line.class_name, 0, ZERO))
            t.children += 1
            t.amount += line.amount
        return sorted(out.values(), key=lambda t: (t.class_id is None, t.class_id or 0))

    def line_for(self, child_id: int) -> ClaimLine | None:
        """The claim line of one child."""
        return next((line for line in self.lines if line.child_id == child_id), None)


def facility_details(facility: Facility) -> dict[str, Any]:
    """What an export prints about the facility, kept with a settled month."""
    return {
        "name": facility.name,
        "registration_no": facility.registration_no,
        "filing_no": facility.filing_no,
        "address": facility.address,
        "grade": facility.grade.value,
        "puhui_certified": facility.puhui_certified,
        "ownership": facility.ownership.value,
    }


def _hhmm(tz: ZoneInfo, at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(tz).strftime("%H:%M")


@dataclass
class _Month:
    """What a month's claim is computed from, loaded in four queries."""

    days: list[date]
    children: dict[int, Any]
    enrolments: dict[int, list[Any]]
    records: dict[tuple[int, date], Any]
    class_names: dict[int, str]


def _load(session: Session, facility: Facility, first: date, last: date) -> _Month:
    # Plain rows, not ORM objects: a 200-child month is thousands of records.
    pairs = session.execute(
        select(
            Child.id,
            Child.pseudonym,
            Child.name,
            Child.birth_date,
            Enrolment.class_id,
            Enrolment.care_type,
            Enrolment.puhui_place,
            Enrolment.start_date,
            Enrolment.end_date,
        )
        .join(Child, Child.id == Enrolment.child_id)
        .where(
            Child.facility_id == facility.id,
            Enrolment.start_date <= last,
            or_(Enrolment.end_date.is_(None), Enrolment.end_date >= first),
        )
        .order_by(Child.id, Enrolment.start_date)
    ).all()
    enrolments: dict[int, list[Any]] = defaultdict(list)
    children: dict[int, Any] = {}
    for row in pairs:
        enrolments[row.id].append(row)
        children[row.id] = row
    records = {
        (r.child_id, r.day): r
        for r in session.execute(
            select(
                AttendanceRecord.id,
                AttendanceRecord.child_id,
                AttendanceRecord.day,
                AttendanceRecord.status,
                AttendanceRecord.check_in_at,
                AttendanceRecord.check_out_at,
            )
            .join(Child, Child.id == AttendanceRecord.child_id)
            .where(Child.facility_id == facility.id, AttendanceRecord.day.between(first, last))
        )
    }
    class_names = dict(
        session.execute(
            select(ClassRoom.id, ClassRoom.name).where(ClassRoom.facility_id == facility.id)
        ).all()
    )
    return _Month(
        service_days(session, facility, first, last), children, enrolments, records, class_names
    )


def _day_rows(
    month: _Month, child_id: int, rule: SubsidyRule, tz: ZoneInfo, upto: date | None
) -> list[rules.DayRow]:
    """The child's enrolled service days; attendance after ``upto`` is not looked at."""
    rows = []
    for day in month.days:
        enr = next(
            (
                e
                for e in month.enrolments[child_id]
                if e.start_date <= day and (e.end_date is None or day <= e.end_date)
            ),
            None,
        )
        if enr is None:
            continue
        care = enr.care_type.value
        eligible = rules.is_eligible(rule, care, enr.puhui_place)
        rec = month.records.get((child_id, day)) if upto is None or day <= upto else None
        present = rec is not None and rec.status == AttendanceStatus.PRESENT
        rows.append(
            rules.DayRow(
                day=day,
                class_id=enr.class_id,
                care_type=care,
                eligible=eligible,
                record_id=rec.id if rec else None,
                status=rec.status.value if rec else None,
                check_in=_hhmm(tz, rec.check_in_at) if rec else None,
                check_out=_hhmm(tz, rec.check_out_at) if rec else None,
                weight=rules.day_weight(rule, care, present=present, eligible=eligible),
            )
        )
    return rows


def compute_lines(
    session: Session,
    facility: Facility,
    first: date,
    last: date,
    rule: SubsidyRule,
    *,
    grade: str,
    puhui_certified: bool,
    upto: date | None = None,
) -> tuple[int, list[ClaimLine], dict[int, list[rules.DayRow]]]:
    """Service days of the month and one line per eligible child.

    With ``upto`` only days up to it count (the forecast); the rows of all enrolled
    service days are returned per child so the forecast can see what remains.
    """
    if rule.puhui_facility_only and not puhui_certified:
        return len(service_days(session, facility, first, last)), [], {}
    month = _load(session, facility, first, last)
    n_days, tz = len(month.days), ZoneInfo(facility.timezone)
    lines, all_rows = [], {}
    for child_id, child in month.children.items():  # rows: id, pseudonym, name, birth date
        rows = _day_rows(month, child_id, rule, tz, upto)
        eligible_classes = [r.class_id for r in rows if r.eligible]
        if not eligible_classes:
            continue
        all_rows[child_id] = rows
        counted = [r for r in rows if upto is None or r.day <= upto]
        done = rules.add_up(counted)
        age = rules.age_months(child.birth_date, first)
        rate, basis = rules.rate_for(rule, grade=grade, age=age)
        pro = rules.prorate(
            rule, rate=rate, service_days=n_days, attended_days=done.days_attended,
            units=done.units,
        )  # fmt: skip
        # The class of the last eligible day carries the line in the per-class totals.
        class_id = eligible_classes[-1]
        lines.append(
            ClaimLine(
                kind=LineKind.CLAIM,
                child_id=child_id,
                pseudonym=child.pseudonym,
                name=child.name,
                class_id=class_id,
                class_name=month.class_names.get(class_id, ""),
                service_days=n_days,
                days_enrolled=done.days_enrolled,
                days_attended=done.days_attended,
                units=done.units,
                rate=to_fen(rate),
                amount=pro.amount,
                rule_text=f"{basis}: {pro.text}",
                days=[r.as_json() for r in counted],
                flags=[f"missing_checkout:{d.isoformat()}" for d in done.open_days],
            )
        )
    return n_days, lines, all_rows
