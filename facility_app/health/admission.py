"""Recording children's health exams and vaccinations, and their admission standing."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carewatch.errors import Conflict, DomainError
from carewatch.validate import text
from facility_app.accounts.permissions import Actor, Perm
from facility_app.attendance.models import AttendanceRecord, AttendanceStatus
from facility_app.audit import service as audit
from facility_app.children.models import Child, Enrolment
from facility_app.facility.models import Facility
from facility_app.facility.service import today
from health_records.admission import AdmissionStatus, ExamFact, admission_status
from health_records.child_exams import (
    ChildExamKind,
    ChildExamResult,
    ChildHealthExam,
    Vaccination,
)

log = logging.getLogger(__name__)

MAX_SCAN_BYTES = 5 * 1024 * 1024
SCAN_TYPES = frozenset({"image/jpeg", "image/png", "application/pdf"})


def _reach(actor: Actor, child: Child, day: date) -> None:
    """A class-scoped actor may only write for a child of one of their classes."""
    if not actor.class_scoped:
        return
    enrolment = child.enrolment_on(day)
    if enrolment is None:
        enrolment = max(child.enrolments, key=lambda e: e.start_date, default=None)
    if enrolment is None:
        raise DomainError("not_enrolled", "The child is not enrolled.")
    actor.require_class(enrolment.class_id)


def _check_date(value: date, child: Child, facility: Facility, now: datetime, field: str) -> None:
    if value > today(facility, now):
        raise DomainError("date_in_future", "This date is in the future.", field=field)
    if value < child.birth_date:
        raise DomainError(
            "date_before_birth",
            "This date is before the child's birth (%(birth)s).",
            field=field,
            birth=child.birth_date.isoformat(),
        )


def record_exam(
    session: Session,
    actor: Actor,
    facility: Facility,
    child: Child,
    *,
    now: datetime,
    kind: ChildExamKind | str,
    exam_date: date,
    result: ChildExamResult | str,
    institution: str = "",
    notes: str = "",
    scan: bytes | None = None,
    scan_type: str = "",
) -> ChildHealthExam:
    """Record one exam of a child (admission, routine or return), with its form's scan."""
    actor.require(Perm.HEALTH_WRITE)
    _reach(actor, child, today(facility, now))
    try:
        kind, result = ChildExamKind(kind), ChildExamResult(result)
    except ValueError:
        raise DomainError("invalid_choice", "Choose one of the offered options.") from None
    _check_date(exam_date, child, facility, now, "exam_date")
    if scan is not None:
        if len(scan) > MAX_SCAN_BYTES:
            raise DomainError("scan_too_large", "The scan is larger than 5 MB.", field="scan")
        if scan_type not in SCAN_TYPES:
            raise DomainError(
                "scan_type", "The scan must be a JPEG, PNG or PDF file.", field="scan"
            )
    exam = ChildHealthExam(
        child_id=child.id,
        kind=kind,
        exam_date=exam_date,
        result=result,
        institution=text(institution, field="institution", limit=120),
        notes=text(notes, field="notes", limit=500),
        scan=scan,
        scan_type=scan_type if scan is not None else "",
        recorded_at=now,
        recorded_by_id=actor.user_id,
    )
    session.add(exam)
    session.flush()
    # The audit snapshot shows a scan as its size only.
    audit.log_change(session, actor, now, "create", "child_health_exam", exam)
    return exam


def record_vaccination(
    session: Session,
    actor: Actor,
    facility: Facility,
    child: Child,
    *,
    now: datetime,
    vaccine: str,
    dose: int,
    given_on: date,
    place: str = "",
    verified: bool = False,
) -> Vaccination:
    """Record one dose from the vaccination certificate; a dose already recorded is refused."""
    actor.require(Perm.HEALTH_WRITE)
    _reach(actor, child, today(facility, now))
    schedule = facility.policy().admission.vaccine_schedule
    doses = {d.dose for d in schedule if d.vaccine == vaccine}
    if not doses:
        raise DomainError(
            "unknown_vaccine", "This vaccine is not in the schedule.", field="vaccine"
        )
    if dose not in doses:
        raise DomainError(
            "dose_out_of_schedule",
            "The schedule has doses %(first)s to %(last)s of this vaccine.",
            field="dose",
            first=min(doses),
            last=max(doses),
        )
    _check_date(given_on, child, facility, now, "given_on")
    recorded = dict(
        session.execute(
            select(Vaccination.dose, Vaccination.given_on).where(
                Vaccination.child_id == child.id, Vaccination.vaccine == vaccine
            )
        ).all()
    )
    if dose in recorded:
        raise Conflict(
            "duplicate_dose",
            "Dose %(dose)s of this vaccine is already recorded.",
            field="dose",
            dose=dose,
        )
    # Doses of one vaccine are given in order: an earlier dose cannot come later.
    for other, on in recorded.items():
        if (other < dose and on >= given_on) or (other > dose and on <= given_on):
            raise DomainError(
                "dose_order",
                "Dose %(other)s of this vaccine was given on %(on)s; dose %(dose)s cannot be "
                "given on %(day)s.",
                field="given_on",
                other=other,
                on=on.isoformat(),
                dose=dose,
                day=given_on.isoformat(),
            )
    vac = Vaccination(
        child_id=child.id,
        vaccine=vaccine,
        dose=dose,
        given_on=given_on,
        place=text(place, field="place", limit=120),
        verified=verified,
        verified_by_id=actor.user_id if verified else None,
        recorded_at=now,
        recorded_by_id=actor.user_id,
    )
    session.add(vac)
    session.flush()
    audit.log_change(session, actor, now, "create", "child_vaccination", vac)
    return vac


def statuses(
    session: Session, facility: Facility, children: Sequence[Child], day: date
) -> dict[int, AdmissionStatus]:
    """Each child's admission standing on ``day``, read in three queries for any number."""
    ids = [c.id for c in children]
    if not ids:
        return {}
    first_day = (
        select(func.min(Enrolment.start_date))
        .where(Enrolment.child_id == Child.id)
        .scalar_subquery()
    )
    last_present = (
        select(func.max(AttendanceRecord.day))
        .where(
            AttendanceRecord.child_id == Child.id,
            AttendanceRecord.day < day,
            AttendanceRecord.status == AttendanceStatus.PRESENT,
        )
        .scalar_subquery()
    )
    facts = {
        cid: (first, last)
        for cid, first, last in session.execute(
            select(Child.id, first_day, last_present).where(Child.id.in_(ids))
        )
    }
    exams: dict[int, list[ExamFact]] = {cid: [] for cid in ids}
    for cid, kind, exam_date, result in session.execute(
        select(
            ChildHealthExam.child_id,
            ChildHealthExam.kind,
            ChildHealthExam.exam_date,
            ChildHealthExam.result,
        ).where(ChildHealthExam.child_id.in_(ids))
    ):
        exams[cid].append(ExamFact(kind.value, exam_date, result.value))
    given: dict[int, dict[tuple[str, int], date]] = {cid: {} for cid in ids}
    for cid, vaccine, dose, given_on in session.execute(
        select(
            Vaccination.child_id, Vaccination.vaccine, Vaccination.dose, Vaccination.given_on
        ).where(Vaccination.child_id.in_(ids))
    ):
        given[cid][(vaccine, dose)] = given_on
    policy = facility.policy().admission
    out = {}
    for child in children:
        first, last = facts.get(child.id, (None, None))
        out[child.id] = admission_status(
            birth=child.birth_date,
            first_day=first or day,
            exams=exams[child.id],
            given=given[child.id],
            last_present=last,
            day=day,
            policy=policy,
        )
    return out


def status(session: Session, facility: Facility, child: Child, day: date) -> AdmissionStatus:
    """One child's admission standing on ``day``."""
    return statuses(session, facility, [child], day)[child.id]
