"""Incident reports: every guardian acknowledges in time (counts only leave the facility)."""

from __future__ import annotations

from sqlalchemy import exists, select

from edge_agent.compliance.base import Context, Status, Verdict
from facility_app.children.models import Child
from facility_app.facility.models import ClassRoom
from facility_app.health import incidents as inc
from health_records.incidents import IncidentReport, InjurySeverity
from health_records.medication import MedicationInstruction


def _in_use(ctx: Context) -> bool:
    """Whether the facility records incidents or medication here at all."""
    mine = select(Child.id).where(Child.facility_id == ctx.facility.id)
    return bool(
        ctx.session.scalar(select(exists().where(IncidentReport.child_id.in_(mine))))
        or ctx.session.scalar(select(exists().where(MedicationInstruction.child_id.in_(mine))))
    )


def incidents(ctx: Context) -> Verdict:
    """Open reports past the acknowledgement time warn; a serious one among them fails."""
    hours = ctx.policy.medication.incident_ack_within_hours
    rooms = ctx.session.scalars(
        select(ClassRoom.id).where(ClassRoom.facility_id == ctx.facility.id)
    ).all()
    open_ = inc.open_incidents(ctx.session, list(rooms))
    late = [r for r in open_ if inc.is_overdue(ctx.facility, r, ctx.now)]
    serious = [r for r in late if r.severity is InjurySeverity.SERIOUS]
    evidence = {"open": len(open_), "overdue": len(late), "serious_overdue": len(serious)}
    if serious:
        return Verdict(
            Status.FAIL, f"{len(serious)} serious incident(s) not acknowledged by a guardian",
            len(serious), hours, evidence,
        )  # fmt: skip
    if late:
        return Verdict(
            Status.WARN, f"{len(late)} incident report(s) not acknowledged in time", len(late),
            hours, evidence,
        )  # fmt: skip
    if not open_ and not _in_use(ctx):
        return Verdict(Status.UNKNOWN, "no incident or medication records yet", None, hours)
    return Verdict(Status.PASS, "every incident acknowledged in time", 0, hours, evidence)
