"""A child's medication (instructions and doses) and incident reports; reads are audited."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

from pydantic import AwareDatetime, Field

from facility_app.accounts.permissions import Perm
from facility_app.children.service import get_child
from facility_app.health import incidents as inc
from facility_app.health import medication as med
from health_records.incidents import AckMethod, IncidentReport, InjurySeverity, NotifyMethod
from health_records.medication import DoseUnit, MedicationInstruction

from ..auth import current_actor, facility, now
from ..extensions import db
from ..health_audit import audit_health_read
from .registry import id_rule, operation
from .schemas import Id, In, LocalDateTime, Out, text

log = logging.getLogger(__name__)

TAG = "health"
CHILD = f"/children/{id_rule('child_id')}"


class DoseOut(Out):
    """A dose given."""

    id: int
    instruction_id: int
    slot: str | None = Field(description="The scheduled time HH:MM it was for; null if as needed")
    given_at: LocalDateTime
    dose_amount: Decimal
    dose_unit: DoseUnit
    deviation_reason: str
    given_by_staff_id: int
    witness_staff_id: int
    note: str


class InstructionOut(Out):
    """A guardian's medication instruction (the scan itself is not sent)."""

    id: int
    guardian_id: int
    medicine: str
    form_strength: str
    dose_amount: Decimal
    dose_unit: DoseUnit
    times: list[str]
    as_needed: bool
    as_needed_condition: str
    first_day: date
    last_day: date
    reason: str
    paper_received: bool
    has_scan: bool
    received_at: LocalDateTime
    received_by_staff_id: int | None
    doses: list[DoseOut]


class MedicationList(Out):
    """A child's medication instructions, newest first, with every dose given."""

    items: list[InstructionOut]


class InstructionIn(In):
    """A guardian's signed instruction; through the API the paper form must be on file."""

    guardian_id: Id
    medicine: text(120, 1)  # type: ignore[valid-type]
    form_strength: text(120) = ""  # type: ignore[valid-type]
    dose_amount: Decimal = Field(gt=0)
    dose_unit: DoseUnit
    times: list[str] = Field(default_factory=list, max_length=12)
    as_needed: bool = False
    as_needed_condition: text(200) = ""  # type: ignore[valid-type]
    first_day: date
    last_day: date
    reason: text(200) = ""  # type: ignore[valid-type]
    paper_received: bool
    received_by_staff_id: Id | None = None


class DoseIn(In):
    """A dose given; the giver is the caller's own staff record unless named."""

    instruction_id: Id
    given_at: AwareDatetime
    dose_amount: Decimal = Field(gt=0)
    witness_staff_id: Id
    given_by_staff_id: Id | None = None
    slot: str | None = None
    deviation_reason: text(200) = ""  # type: ignore[valid-type]
    note: text(500) = ""  # type: ignore[valid-type]


class IncidentOut(Out):
    """An incident or injury report; open until a guardian acknowledges it."""

    id: int
    occurred_at: LocalDateTime
    location: str
    what_happened: str
    injury_type: str
    body_part: str
    severity: InjurySeverity
    first_aid: str
    first_aid_by_staff_id: int | None
    sent_to_hospital: bool
    witness_staff_ids: list[int]
    notified_at: LocalDateTime | None
    notified_how: NotifyMethod | None
    notified_by_staff_id: int | None
    acknowledged_at: LocalDateTime | None
    acknowledged_by_guardian_id: int | None
    acknowledged_how: AckMethod | None
    follow_up: str
    overdue: bool = False


class IncidentList(Out):
    """A child's incident reports, newest first."""

    items: list[IncidentOut]


class IncidentIn(In):
    """A new incident report."""

    occurred_at: AwareDatetime
    location: text(120, 1)  # type: ignore[valid-type]
    what_happened: text(1000, 1)  # type: ignore[valid-type]
    severity: InjurySeverity
    injury_type: text(60) = ""  # type: ignore[valid-type]
    body_part: text(60) = ""  # type: ignore[valid-type]
    first_aid: text(500) = ""  # type: ignore[valid-type]
    first_aid_by_staff_id: Id | None = None
    sent_to_hospital: bool = False
    witness_staff_ids: list[Id] = Field(default_factory=list, max_length=20)


class NotifyIn(In):
    """The guardian was told."""

    incident_id: Id
    notified_at: AwareDatetime
    how: NotifyMethod
    by_staff_id: Id | None = None


class AcknowledgeIn(In):
    """A guardian acknowledged the report."""

    incident_id: Id
    acknowledged_at: AwareDatetime
    guardian_id: Id
    how: AckMethod


def _instruction_out(ins: MedicationInstruction) -> InstructionOut:
    fields = {k: getattr(ins, k) for k in InstructionOut.model_fields if hasattr(ins, k)}
    fields["has_scan"] = ins.scan is not None
    fields["doses"] = [DoseOut.model_validate(d) for d in ins.doses]
    return InstructionOut.model_validate(fields)


def _incident_out(report: IncidentReport) -> IncidentOut:
    out = IncidentOut.model_validate(report)
    return out.model_copy(update={"overdue": inc.is_overdue(facility(), report, now())})


@operation(
    "GET", f"{CHILD}/medication", summary="A child's medication instructions and doses",
    tag=TAG, perm=Perm.HEALTH_VIEW, response=MedicationList,
)  # fmt: skip
def list_medication(child_id: int) -> MedicationList:
    """Every instruction of the child with the doses given; the read is audited."""
    child = get_child(db.session, current_actor(), child_id)
    audit_health_read(child.id, "medication")
    return MedicationList(
        items=[_instruction_out(i) for i in med.instructions_of(db.session, child.id)]
    )


@operation(
    "POST", f"{CHILD}/medication/instructions", summary="Record a guardian's instruction",
    tag=TAG, perm=Perm.HEALTH_WRITE, body=InstructionIn, response=InstructionOut, status=201,
)  # fmt: skip
def create_instruction(child_id: int, body: InstructionIn) -> InstructionOut:
    """The signed paper form must be on file; scans are uploaded on the record page."""
    actor = current_actor()
    child = get_child(db.session, actor, child_id)
    ins = med.add_instruction(db.session, actor, facility(), child, now=now(), **body.model_dump())
    db.session.flush()
    return _instruction_out(ins)


@operation(
    "POST", f"{CHILD}/medication/doses", summary="Log a dose given, with a witness",
    tag=TAG, perm=Perm.HEALTH_CHECK, body=DoseIn, response=DoseOut, status=201,
)  # fmt: skip
def create_dose(child_id: int, body: DoseIn) -> DoseOut:
    """Refused without an instruction in force, for a second dose of a time, or a future time."""
    actor = current_actor()
    child = get_child(db.session, actor, child_id)
    fields = body.model_dump()
    fields["given_by_staff_id"] = fields["given_by_staff_id"] or actor.staff_id
    dose = med.record_dose(db.session, actor, facility(), child, now=now(), **fields)
    return DoseOut.model_validate(dose)


@operation(
    "GET", f"{CHILD}/incidents", summary="A child's incident and injury reports",
    tag=TAG, perm=Perm.HEALTH_VIEW, response=IncidentList,
)  # fmt: skip
def list_incidents(child_id: int) -> IncidentList:
    """Every report of the child, newest first; the read is audited."""
    child = get_child(db.session, current_actor(), child_id)
    audit_health_read(child.id, "incidents")
    return IncidentList(items=[_incident_out(r) for r in inc.incidents_of(db.session, child.id)])


@operation(
    "POST", f"{CHILD}/incidents", summary="Report an incident or injury",
    tag=TAG, perm=Perm.HEALTH_WRITE, body=IncidentIn, response=IncidentOut, status=201,
)  # fmt: skip
def create_incident(child_id: int, body: IncidentIn) -> IncidentOut:
    """A serious injury raises an alert for the director."""
    actor = current_actor()
    child = get_child(db.session, actor, child_id)
    report = inc.create_incident(
        db.session, actor, facility(), child, now=now(), **body.model_dump()
    )
    return _incident_out(report)


@operation(
    "POST", f"{CHILD}/incidents/notify", summary="Record that the guardian was told",
    tag=TAG, perm=Perm.HEALTH_WRITE, body=NotifyIn, response=IncidentOut,
)  # fmt: skip
def notify_incident(child_id: int, body: NotifyIn) -> IncidentOut:
    """When, how and by whom (the caller's staff record unless named)."""
    actor = current_actor()
    child = get_child(db.session, actor, child_id)
    report = inc.get_incident(db.session, child, body.incident_id)
    inc.record_notification(
        db.session, actor, facility(), report, now=now(), notified_at=body.notified_at,
        how=body.how, by_staff_id=body.by_staff_id or actor.staff_id,
    )  # fmt: skip
    return _incident_out(report)


@operation(
    "POST", f"{CHILD}/incidents/acknowledge", summary="Record the guardian's acknowledgement",
    tag=TAG, perm=Perm.HEALTH_WRITE, body=AcknowledgeIn, response=IncidentOut,
)  # fmt: skip
def acknowledge_incident(child_id: int, body: AcknowledgeIn) -> IncidentOut:
    """Only one of the child's guardians can acknowledge; it closes the report."""
    actor = current_actor()
    child = get_child(db.session, actor, child_id)
    report = inc.get_incident(db.session, child, body.incident_id)
    inc.record_acknowledgement(
        db.session, actor, facility(), child, report, now=now(),
        acknowledged_at=body.acknowledged_at, guardian_id=body.guardian_id, how=body.how,
    )  # fmt: skip
    return _incident_out(report)
