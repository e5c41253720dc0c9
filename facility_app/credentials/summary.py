"""Where every staff member stands on a day, and the staff rules of the compliance status."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carewatch.findings import Finding
from facility_app.credentials.models import (
    BackgroundCheck,
    BanListImport,
    StaffCertificate,
    TrainingRecord,
)
from facility_app.credentials.service import banned_staff_ids
from facility_app.facility.models import Facility
from facility_app.staff.models import Staff, StaffRole
from health_records.models import ExamResult, StaffHealthExam
from health_records.rules import Standing, TrainingProgress, share, standing, training_progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StaffStanding:
    """One staff member's credentials on a day."""

    staff_id: int
    name: str
    role: StaffRole
    certificate: Standing | None  # the best caregiver certificate (caregivers only)
    certificate_kind: str | None
    exam: Standing | None  # the latest fit exam
    background_check: bool
    training: TrainingProgress | None  # for roles with a yearly minimum
    banned: bool
    id_checked: bool  # an ID number is on file, so the ban list can be compared

    @property
    def counts_toward_ratio(self) -> bool:
        """A caregiver with a certificate and a health exam in force."""
        return (
            self.role == StaffRole.CAREGIVER
            and self.certificate is not None
            and self.certificate.counts
            and self.exam is not None
            and self.exam.counts
        )


@dataclass(frozen=True)
class StaffSummary:
    """Every employed staff member's standing and the facility's totals."""

    day: date
    staff: list[StaffStanding]
    caregivers: int
    certified: int
    certified_share: Decimal | None
    target: Decimal
    ban_list_loaded: bool
    warnings: list[dict[str, Any]] = field(default_factory=list)


def _best(standings: list[tuple[Standing, str]]) -> tuple[Standing | None, str | None]:
    # The one that lasts longest among those in force, else the latest expired one.
    in_force = [s for s in standings if s[0].counts]
    pool = in_force or standings
    if not pool:
        return None, None
    best = max(pool, key=lambda s: s[0].days_left if s[0].days_left is not None else 10**9)
    return best


def staff_summary(session: Session, facility: Facility, day: date) -> StaffSummary:
    """Credentials of every staff member employed on ``day`` (five queries in all)."""
    policy = facility.policy().staff
    warn = policy.expiry_warning_days
    people = [
        s
        for s in session.scalars(select(Staff).where(Staff.facility_id == facility.id))
        if s.employed_on(day)
    ]
    ids = [s.id for s in people]
    certs: dict[int, list[StaffCertificate]] = defaultdict(list)
    for c in session.scalars(select(StaffCertificate).where(StaffCertificate.staff_id.in_(ids))):
        certs[c.staff_id].append(c)
    exams: dict[int, list[StaffHealthExam]] = defaultdict(list)
    for e in session.scalars(
        select(StaffHealthExam).where(
            StaffHealthExam.staff_id.in_(ids), StaffHealthExam.result == ExamResult.FIT
        )
    ):
        exams[e.staff_id].append(e)
    checked = set(
        session.scalars(select(BackgroundCheck.staff_id).where(BackgroundCheck.staff_id.in_(ids)))
    )
    year_start, year_end = date(day.year, 1, 1), date(day.year, 12, 31)
    hours = dict(
        session.execute(
            select(TrainingRecord.staff_id, func.sum(TrainingRecord.hours))
            .where(
                TrainingRecord.staff_id.in_(ids),
                TrainingRecord.done_on >= year_start,
                TrainingRecord.done_on <= min(day, year_end),
            )
            .group_by(TrainingRecord.staff_id)
        ).all()
    )
    # Compared in the database: the list may hold thousands of hashes.
    banned_ids = banned_staff_ids(session, ids)
    loaded = session.scalar(select(func.count()).where(BanListImport.current.is_(True))) or 0
    kinds = set(policy.caregiver_certificate_kinds)
    required = {
        StaffRole.DIRECTOR: policy.training_hours_head,
        StaffRole.CAREGIVER: policy.training_hours_caregiver,
    }
    out: list[StaffStanding] = []
    warnings: list[dict[str, Any]] = []
    for person in people:
        cert, kind = (None, None)
        if person.role == StaffRole.CAREGIVER:
            cert, kind = _best(
                [
                    (standing(c.valid_from, c.expires_on, day, warn), c.kind.value)
                    for c in certs[person.id]
                    if c.kind.value in kinds
                ]
            )
        exam, _ = _best(
            [(standing(e.exam_date, e.expires_on, day, warn), "") for e in exams[person.id]]
        )
        need = required.get(person.role)
        row = StaffStanding(
            staff_id=person.id,
            name=person.name,
            role=person.role,
            certificate=cert,
            certificate_kind=kind,
            exam=exam,
            background_check=person.id in checked,
            training=(
                training_progress(Decimal(hours.get(person.id) or 0), need, day)
                if need is not None
                else None
            ),
            banned=person.id in banned_ids,
            id_checked=person.id_number_hash is not None,
        )
        out.append(row)
        for what, st in (("certificate", cert), ("health_exam", exam)):
            if st is not None and st.warning_at is not None:
                warnings.append(
                    {
                        "staff_id": person.id,
                        "what": what,
                        "days_left": st.days_left,
                        "threshold": st.warning_at,
                    }
                )
    caregivers = [s for s in out if s.role == StaffRole.CAREGIVER]
    certified = sum(1 for s in caregivers if s.certificate is not None and s.certificate.counts)
    return StaffSummary(
        day=day,
        staff=out,
        caregivers=len(caregivers),
        certified=certified,
        certified_share=share(certified, len(caregivers)),
        target=Decimal(str(policy.certified_share_target)),
        ban_list_loaded=loaded > 0,
        warnings=warnings,
    )


def findings(summary: StaffSummary) -> dict[str, Finding]:
    """``staff.certified``, ``staff.health_exam``, ``staff.training_hours``, ``staff.ban_list``.

    Evidence names staff by id only: reports leave the facility.
    """
    out: dict[str, Finding] = {}
    if not summary.staff:
        # Nobody recorded is not everybody in order.
        return {
            rule: Finding("unknown", None, None, {}, "no staff recorded")
            for rule in (
                "staff.certified",
                "staff.health_exam",
                "staff.training_hours",
                "staff.ban_list",
            )
        }
    expiring = [w for w in summary.warnings if w["what"] == "certificate"]
    if summary.certified_share is None:
        out["staff.certified"] = Finding(
            "unknown", None, str(summary.target), {}, "no caregivers employed"
        )
    else:
        uncertified = [
            s.staff_id
            for s in summary.staff
            if s.role == StaffRole.CAREGIVER and not (s.certificate and s.certificate.counts)
        ]
        status = (
            "fail"
            if summary.certified_share < summary.target
            else "warn"
            if uncertified or expiring
            else "pass"
        )
        out["staff.certified"] = Finding(
            status,
            str(summary.certified_share),
            str(summary.target),
            {
                "uncertified_staff_ids": uncertified,
                "expiring": expiring,
                "caregivers": summary.caregivers,
                "certified": summary.certified,
            },
            f"{summary.certified} of {summary.caregivers} caregivers certified",
        )
    missing = [s.staff_id for s in summary.staff if not (s.exam and s.exam.counts)]
    exam_warn = [w for w in summary.warnings if w["what"] == "health_exam"]
    out["staff.health_exam"] = Finding(
        "fail" if missing else "warn" if exam_warn else "pass",
        len(summary.staff) - len(missing),
        len(summary.staff),
        {"without_valid_exam_staff_ids": missing, "expiring": exam_warn},
        f"{len(missing)} staff without a valid health exam",
    )
    behind = [
        {
            "staff_id": s.staff_id,
            "hours": str(s.training.hours),
            "expected_by_now": str(s.training.expected_by_now),
            "required": str(s.training.required),
        }
        for s in summary.staff
        if s.training is not None and s.training.behind
    ]
    out["staff.training_hours"] = Finding(
        "warn" if behind else "pass",
        len(behind),
        0,
        {"behind": behind},
        f"{len(behind)} staff behind the year's training pace",
    )
    if not summary.ban_list_loaded:
        out["staff.ban_list"] = Finding("unknown", None, 0, {}, "no ban list has been imported")
    else:
        hits = [s.staff_id for s in summary.staff if s.banned]
        unchecked = [s.staff_id for s in summary.staff if not s.id_checked]
        # Staff without an ID number on file cannot be compared: not a pass for them.
        out["staff.ban_list"] = Finding(
            "fail" if hits else "warn" if unchecked else "pass",
            len(hits),
            0,
            {"matched_staff_ids": hits, "unchecked_staff_ids": unchecked},
            f"{len(hits)} staff on the ban list, {len(unchecked)} without an ID number on file",
        )
    return out
