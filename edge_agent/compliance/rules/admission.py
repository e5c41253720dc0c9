"""Admission rule: present children have a valid admission (and return) exam and the
vaccinations due for their age. Evidence is counts only: it goes to the regulator."""

from __future__ import annotations

from sqlalchemy import select

from edge_agent.compliance.base import Context, Status, Verdict
from facility_app.attendance.models import AttendanceRecord, AttendanceStatus
from facility_app.children.models import Child
from facility_app.health import admission as admission_service
from health_records.admission import ExamState


def admission(ctx: Context) -> Verdict:
    """No valid admission or return exam fails; vaccinations missing for the age warn."""
    present = list(
        ctx.session.scalars(
            select(Child)
            .join(AttendanceRecord, AttendanceRecord.child_id == Child.id)
            .where(
                AttendanceRecord.day == ctx.day,
                AttendanceRecord.status == AttendanceStatus.PRESENT,
                Child.facility_id == ctx.facility.id,
            )
        )
    )
    if not present:
        return Verdict(Status.UNKNOWN, "no child present", None, None, {"present": 0})
    found = admission_service.statuses(ctx.session, ctx.facility, present, ctx.day).values()
    no_exam = sum(1 for s in found if s.exam is not ExamState.OK)
    no_return = sum(1 for s in found if s.return_exam_missing)
    no_vaccines = sum(1 for s in found if s.missing_doses)
    evidence = {
        "present": len(present),
        "without_admission_exam": no_exam,
        "without_return_exam": no_return,
        "missing_vaccinations": no_vaccines,
    }
    if no_exam or no_return:
        return Verdict(
            Status.FAIL,
            f"{no_exam} present child(ren) without a valid admission exam, "
            f"{no_return} back from a long absence without a new exam",
            no_exam + no_return, 0, evidence,
        )  # fmt: skip
    if no_vaccines:
        return Verdict(
            Status.WARN, f"{no_vaccines} present child(ren) with vaccinations missing",
            no_vaccines, 0, evidence,
        )  # fmt: skip
    return Verdict(Status.PASS, "every present child's admission file is complete", 0, 0, evidence)
