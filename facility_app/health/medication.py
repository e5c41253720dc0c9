"""Medication given at the facility: guardians' written instructions and doses given.

Medicine is given only under a guardian's signed instruction in force that day, one dose
per scheduled time, by one staff member with a second one watching. Everything is
refused that the paper procedure would refuse, so the log is the proof.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from carewatch.errors import DomainError, NotFound
from carewatch.validate import text
from facility_app.accounts.permissions import Actor, Perm
from facility_app.audit import service as audit
from facility_app.children.models import Child, Enrolment, Guardian
from facility_app.credentials.service import MAX_SCAN_BYTES, SCAN_TYPES
from facility_app.facility.models import Facility
from facility_app.facility.service import at_local, today
from facility_app.staff.models import Staff
from health_records.medication import DoseUnit, MedicationDose, MedicationInstruction

log = logging.getLogger(__name__)


def active_staff(
    session: Session, facility: Facility, staff_id: int | None, day: date, *, field: str
) -> Staff:
    """A staff member of this facility employed on ``day``, or a DomainError on ``field``."""
    person = session.get(Staff, staff_id) if staff_id else None
    if person is None or person.facility_id != facility.id:
        raise DomainError("staff_required", "Choose a staff member.", field=field)
    if not person.employed_on(day):
        raise DomainError(
            "staff_not_active", "%(name)s does not work here on that day.", field=field,
            name=person.name,
        )  # fmt: skip
    return person


def audit_event(
    session: Session, actor: Actor, now: datetime, action: str, entity: str, obj: object,
    fields: tuple[str, ...],
) -> None:  # fmt: skip
    """Audit a change with only the listed columns.

    The audit log is open to roles without health access (the regulator), so medicines,
    doses and what happened to a child stay out of it: ids, times and states only.
    """
    session.flush()
    snap = audit.snapshot(obj)
    audit.record(
        session, at=now, user_id=actor.user_id, action=action, entity=entity,
        entity_id=obj.id, after={k: snap[k] for k in fields},  # type: ignore[attr-defined]
    )  # fmt: skip


def child_guardian(child: Child, guardian_id: int | None, *, field: str) -> Guardian:
    """One of the child's active guardians (not only someone allowed to pick up)."""
    for g in child.guardians:
        if g.id == guardian_id and g.is_guardian and g.active:
            return g
    raise DomainError(
        "not_a_guardian", "Only one of the child's guardians can do this.", field=field
    )


def class_on(child: Child, day: date) -> int:
    """The class the child is enrolled in on ``day``; refused if none."""
    enrolment: Enrolment | None = child.enrolment_on(day)
    if enrolment is None:
        raise DomainError("not_enrolled", "The child was not enrolled on that day.")
    return enrolment.class_id


def _amount(value: Decimal | str | float | None, *, field: str) -> Decimal:
    try:
        amount = Decimal(str(value).strip()).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise DomainError("invalid_dose", "The dose must be a number.", field=field) from None
    if amount <= 0 or amount >= Decimal("1000000"):
        raise DomainError("invalid_dose", "The dose must be a number.", field=field)
    return amount


def _times(values: list[str]) -> list[str]:
    out = set()
    for raw in values:
        raw = (raw or "").strip()
        if not raw:
            continue
        try:
            out.add(time.fromisoformat(raw).strftime("%H:%M"))
        except ValueError:
            raise DomainError(
                "invalid_time", "Give times of day as HH:MM.", field="times"
            ) from None
    return sorted(out)


def add_instruction(
    session: Session,
    actor: Actor,
    facility: Facility,
    child: Child,
    *,
    now: datetime,
    guardian_id: int | None,
    medicine: str,
    dose_amount: Decimal | str | float | None,
    dose_unit: DoseUnit | str,
    first_day: date,
    last_day: date,
    times: list[str] | None = None,
    as_needed: bool = False,
    as_needed_condition: str = "",
    form_strength: str = "",
    reason: str = "",
    scan: bytes | None = None,
    scan_type: str = "",
    paper_received: bool = False,
    received_by_staff_id: int | None = None,
) -> MedicationInstruction:
    """Record a guardian's signed instruction (委托喂药单), with its scan or the paper form."""
    actor.require(Perm.HEALTH_WRITE)
    day = today(facility, now)
    actor.require_class(class_on(child, max(first_day, day)))
    guardian = child_guardian(child, guardian_id, field="guardian_id")
    try:
        unit = DoseUnit(dose_unit)
    except ValueError:
        raise DomainError("invalid_choice", "Choose one of the offered options.") from None
    slots = _times(times or [])
    condition = text(as_needed_condition, field="as_needed_condition", limit=200)
    if as_needed and slots:
        raise DomainError(
            "times_or_as_needed", "Give either times of day or “as needed”, not both.",
            field="times",
        )  # fmt: skip
    if as_needed and not condition:
        raise DomainError(
            "condition_required", "Say when the medicine is needed (for example a fever).",
            field="as_needed_condition",
        )  # fmt: skip
    if not as_needed and not slots:
        raise DomainError("times_required", "Give at least one time of day.", field="times")
    if last_day < first_day:
        raise DomainError(
            "period_reversed", "The last day is before the first day.", field="last_day"
        )
    if last_day < day:
        raise DomainError("period_over", "This instruction has already ended.", field="last_day")
    if scan is not None:
        if len(scan) > MAX_SCAN_BYTES:
            raise DomainError("scan_too_large", "The scan is larger than 5 MB.", field="scan")
        if scan_type not in SCAN_TYPES:
            raise DomainError(
                "scan_type", "The scan must be a JPEG, PNG or PDF file.", field="scan"
            )
    elif not paper_received:
        raise DomainError(
            "signed_form_required",
            "Medicine is given only with the guardian's signed instruction: upload a scan or "
            "confirm the paper form was received.",
            field="scan",
        )
    received_by = received_by_staff_id or actor.staff_id
    if paper_received or received_by is not None:
        received_by = active_staff(
            session, facility, received_by, day, field="received_by_staff_id"
        ).id
    instruction = MedicationInstruction(
        child_id=child.id,
        guardian_id=guardian.id,
        medicine=text(medicine, field="medicine", limit=120, required=True),
        form_strength=text(form_strength, field="form_strength", limit=120),
        dose_amount=_amount(dose_amount, field="dose_amount"),
        dose_unit=unit,
        times=slots,
        as_needed=as_needed,
        as_needed_condition=condition,
        first_day=first_day,
        last_day=last_day,
        reason=text(reason, field="reason", limit=200),
        scan=scan,
        scan_type=scan_type if scan is not None else "",
        paper_received=paper_received,
        received_at=now,
        received_by_staff_id=received_by,
        recorded_by_id=actor.user_id,
    )
    session.add(instruction)
    audit_event(
        session, actor, now, "create", "medication_instruction", instruction,
        ("child_id", "guardian_id", "first_day", "last_day", "paper_received",
         "received_by_staff_id"),
    )  # fmt: skip
    return instruction


def _slot_for(
    facility: Facility, instruction: MedicationInstruction, day: date, given_at: datetime,
    slot: str | None,
) -> str | None:  # fmt: skip
    """The scheduled time a dose is for: the one asked for, else the nearest in tolerance."""
    if instruction.as_needed:
        return None
    tolerance = timedelta(minutes=facility.policy().medication.dose_tolerance_minutes)
    candidates = [slot] if slot else instruction.times
    gaps = sorted(
        (abs(given_at - at_local(facility, day, time.fromisoformat(s))), s)
        for s in candidates
        if s in instruction.times
    )
    if gaps and gaps[0][0] <= tolerance:
        return gaps[0][1]  # the nearest scheduled time; on a tie the earlier one
    raise DomainError(
        "not_scheduled_time",
        "%(at)s is not within %(m)s minutes of a time in the instruction (%(times)s).",
        field="given_at",
        at=given_at.astimezone(ZoneInfo(facility.timezone)).strftime("%H:%M"),
        m=tolerance.seconds // 60,
        times="、".join(instruction.times),
    )


def record_dose(
    session: Session,
    actor: Actor,
    facility: Facility,
    child: Child,
    *,
    now: datetime,
    instruction_id: int | None,
    given_at: datetime,
    dose_amount: Decimal | str | float | None,
    given_by_staff_id: int | None,
    witness_staff_id: int | None,
    slot: str | None = None,
    deviation_reason: str = "",
    note: str = "",
) -> MedicationDose:
    """Log one dose given under an instruction in force, by one staff member, witnessed."""
    actor.require(Perm.HEALTH_CHECK)
    if given_at > now:
        raise DomainError("time_in_future", "This time is in the future.", field="given_at")
    day = today(facility, given_at)
    actor.require_class(class_on(child, day))
    instruction = session.get(MedicationInstruction, instruction_id) if instruction_id else None
    if instruction is None or instruction.child_id != child.id:
        raise DomainError(
            "no_instruction",
            "There is no guardian's instruction for this medicine; medicine is given only "
            "with one.",
            field="instruction_id",
        )
    if not instruction.in_force(day):
        raise DomainError(
            "instruction_not_in_force",
            "The guardian's instruction covers %(first)s to %(last)s, not %(day)s.",
            field="given_at",
            first=instruction.first_day.isoformat(),
            last=instruction.last_day.isoformat(),
            day=day.isoformat(),
        )
    giver = active_staff(session, facility, given_by_staff_id, day, field="given_by_staff_id")
    witness = active_staff(session, facility, witness_staff_id, day, field="witness_staff_id")
    if giver.id == witness.id:
        raise DomainError(
            "witness_is_giver", "The witness must be a second staff member.",
            field="witness_staff_id",
        )  # fmt: skip
    amount = _amount(dose_amount, field="dose_amount")
    reason = text(deviation_reason, field="deviation_reason", limit=200)
    if amount > instruction.dose_amount:
        raise DomainError(
            "dose_too_large",
            "%(given)s is more than the %(dose)s the guardian's instruction allows.",
            field="dose_amount",
            given=str(amount),
            dose=str(instruction.dose_amount),
        )
    if amount != instruction.dose_amount and not reason:
        raise DomainError(
            "dose_mismatch",
            "The instruction says %(dose)s; give the reason for a different dose.",
            field="deviation_reason",
            dose=str(instruction.dose_amount),
        )
    chosen = _slot_for(facility, instruction, day, given_at, slot)
    if chosen:
        taken = session.scalar(
            select(MedicationDose.id).where(
                MedicationDose.instruction_id == instruction.id,
                MedicationDose.day == day,
                MedicationDose.slot == chosen,
            )
        )
        if taken is not None:
            raise DomainError(
                "dose_already_given", "The %(slot)s dose of this medicine was already given.",
                field="given_at", slot=chosen,
            )  # fmt: skip
    dose = MedicationDose(
        instruction_id=instruction.id,
        child_id=child.id,
        day=day,
        slot=chosen,
        given_at=given_at,
        dose_amount=amount,
        dose_unit=instruction.dose_unit,
        deviation_reason=reason,
        given_by_staff_id=giver.id,
        witness_staff_id=witness.id,
        note=text(note, field="note", limit=500),
        recorded_by_id=actor.user_id,
    )
    session.add(dose)
    audit_event(
        session, actor, now, "give", "medication_dose", dose,
        ("instruction_id", "child_id", "day", "slot", "given_at", "given_by_staff_id",
         "witness_staff_id"),
    )  # fmt: skip
    log.info("medication dose %s of instruction %s given", chosen or "as needed", instruction.id)
    return dose


def instructions_of(session: Session, child_id: int) -> list[MedicationInstruction]:
    """A child's instructions, newest period first."""
    return list(
        session.scalars(
            select(MedicationInstruction)
            .where(MedicationInstruction.child_id == child_id)
            .order_by(MedicationInstruction.last_day.desc(), MedicationInstruction.id.desc())
        )
    )


def in_force(
    session: Session, day: date, child_ids: list[int] | None = None
) -> list[MedicationInstruction]:
    """Instructions covering ``day``, optionally for some children."""
    stmt = select(MedicationInstruction).where(
        MedicationInstruction.first_day <= day, MedicationInstruction.last_day >= day
    )
    if child_ids is not None:
        stmt = stmt.where(MedicationInstruction.child_id.in_(child_ids))
    return list(session.scalars(stmt.order_by(MedicationInstruction.id)))


@dataclass
class SlotState:
    """One scheduled time of one instruction today: given, due now, missed or later."""

    slot: str
    at: datetime
    state: str  # given / due / missed / later
    dose: MedicationDose | None = None


@dataclass
class DayPlan:
    """An instruction in force on a day, its scheduled times and the doses given."""

    instruction: MedicationInstruction
    slots: list[SlotState] = field(default_factory=list)
    doses: list[MedicationDose] = field(default_factory=list)


def day_plan(
    session: Session, facility: Facility, now: datetime, child_ids: list[int] | None = None
) -> list[DayPlan]:
    """Today's doses of the instructions in force: which are given, due now, missed, later."""
    day = today(facility, now)
    tolerance = timedelta(minutes=facility.policy().medication.dose_tolerance_minutes)
    plans = []
    for ins in in_force(session, day, child_ids):
        doses = [d for d in ins.doses if d.day == day]
        plan = DayPlan(ins, doses=doses)
        by_slot = {d.slot: d for d in doses if d.slot}
        for s in ins.times:
            at = at_local(facility, day, time.fromisoformat(s))
            if s in by_slot:
                state = "given"
            elif now > at + tolerance:
                state = "missed"
            elif now >= at - tolerance:
                state = "due"
            else:
                state = "later"
            plan.slots.append(SlotState(s, at, state, by_slot.get(s)))
        plans.append(plan)
    return plans


def get_instruction(session: Session, instruction_id: int) -> MedicationInstruction:
    """An instruction by id (the caller checks the child is reachable)."""
    found = session.get(MedicationInstruction, instruction_id)
    if found is None:
        raise NotFound("instruction_not_found", "This instruction does not exist.")
    return found
