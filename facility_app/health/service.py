"""Children's daily checks, illness cases and their follow-up, and cluster alerts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from carewatch.errors import DomainError
from carewatch.validate import text
from facility_app.accounts.permissions import Actor, Perm
from facility_app.alerts.models import Alert, AlertKind, Severity
from facility_app.alerts.service import raise_alert
from facility_app.attendance.models import AbsenceReason, AttendanceRecord, AttendanceStatus
from facility_app.audit import service as audit
from facility_app.care.service import presence
from facility_app.children.models import Child
from facility_app.facility.models import Facility
from facility_app.facility.service import at_local, today
from health_records.illness import NOTIFIABLE, SYMPTOMS, Case, Cluster, find_clusters, syndrome
from health_records.models import CheckAction, CheckKind, HealthCheck, IllnessCase

log = logging.getLogger(__name__)

ITEMS = ("mouth", "hands", "skin", "eyes", "spirit")  # 一摸二看三问四查: the look-and-ask items


def _temperature(value: Decimal | str | float, facility: Facility) -> Decimal:
    hp = facility.policy().health
    try:
        temp = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise DomainError(
            "invalid_temperature", "The temperature must be a number.", field="temperature_c"
        ) from None
    if not hp.min_temperature_c <= float(temp) <= hp.max_temperature_c:
        raise DomainError(
            "temperature_out_of_range",
            "A temperature of %(t)s °C is not possible; measure again (%(lo)s–%(hi)s °C).",
            field="temperature_c",
            t=str(temp),
            lo=hp.min_temperature_c,
            hi=hp.max_temperature_c,
        )
    return temp


def record_check(
    session: Session,
    actor: Actor,
    facility: Facility,
    child: Child,
    *,
    now: datetime,
    kind: CheckKind | str,
    temperature_c: Decimal | str | float,
    abnormal: list[str] | None = None,
    action: CheckAction | str = CheckAction.NONE,
    note: str = "",
) -> HealthCheck:
    """Record (or redo) today's morning or midday check of a present child.

    A fever or an abnormal item needs an action; sending home or informing the guardian is
    recorded with the time, and sending home opens an illness case so clusters see it.
    """
    actor.require(Perm.HEALTH_CHECK)
    rec = presence(session, facility, child, now)
    actor.require_class(rec.class_id)
    try:
        kind = CheckKind(kind)
        action = CheckAction(action)
    except ValueError:
        raise DomainError("invalid_choice", "Choose one of the offered options.") from None
    temp = _temperature(temperature_c, facility)
    items = sorted(set(abnormal or []))
    unknown = [i for i in items if i not in ITEMS]
    if unknown:
        raise DomainError("invalid_item", "Unknown check item.", field="abnormal")
    fever = float(temp) >= facility.policy().health.fever_c
    if (fever or items) and action is CheckAction.NONE:
        raise DomainError(
            "action_required",
            "A fever or an abnormal finding needs what was done: observe, inform the guardian "
            "or send home.",
            field="action",
        )
    day = today(facility, now)
    check = session.scalar(
        select(HealthCheck).where(
            HealthCheck.child_id == child.id, HealthCheck.day == day, HealthCheck.kind == kind
        )
    )
    before = audit.snapshot(check) if check is not None else None
    if check is None:
        check = HealthCheck(child_id=child.id, class_id=rec.class_id, day=day, kind=kind)
        session.add(check)
    check.at, check.temperature_c, check.abnormal, check.action = now, temp, items, action
    check.note = text(note, field="note", limit=500)
    check.checked_by_id = actor.user_id
    if action in (CheckAction.SENT_HOME, CheckAction.GUARDIAN_INFORMED):
        check.guardian_informed_at = check.guardian_informed_at or now
    session.flush()
    audit.log_change(
        session, actor, now, f"{kind.value}_check", "health_check", check, before=before
    )
    if action is CheckAction.SENT_HOME:
        symptoms = (["fever"] if fever else []) + (["rash"] if "skin" in items else [])
        symptoms += ["mouth_ulcers"] if "mouth" in items else []
        symptoms += ["red_eyes"] if "eyes" in items else []
        _open_case(
            session, actor, facility, child, rec.class_id, now=now, onset_day=day,
            symptoms=symptoms or ["other"], max_temperature_c=temp, source="health_check",
        )  # fmt: skip
    return check


def _open_case(
    session: Session,
    actor: Actor,
    facility: Facility,
    child: Child,
    class_id: int,
    *,
    now: datetime,
    onset_day: date,
    symptoms: list[str],
    max_temperature_c: Decimal | None,
    diagnosis: str = "",
    disease: str = "",
    notifiable: bool = False,
    expected_return: date | None = None,
    source: str = "absence",
) -> IllnessCase:
    hp = facility.policy().health
    case = IllnessCase(
        child_id=child.id,
        class_id=class_id,
        onset_day=onset_day,
        symptoms=sorted(set(symptoms)),
        max_temperature_c=max_temperature_c,
        syndrome=syndrome(symptoms, max_temperature_c, disease, hp),
        diagnosis=diagnosis,
        disease=disease,
        notifiable=notifiable or disease in NOTIFIABLE,
        expected_return=expected_return,
        source=source,
        recorded_at=now,
        recorded_by_id=actor.user_id,
    )
    session.add(case)
    session.flush()
    audit.log_change(session, actor, now, "create", "illness_case", case)
    detect_clusters(session, facility, now)
    return case


def record_case(
    session: Session,
    actor: Actor,
    facility: Facility,
    child: Child,
    *,
    now: datetime,
    onset_day: date,
    symptoms: list[str],
    max_temperature_c: Decimal | str | float | None = None,
    diagnosis: str = "",
    disease: str = "",
    notifiable: bool = False,
    expected_return: date | None = None,
) -> IllnessCase:
    """Follow up an illness (absence): symptoms, diagnosis when known, expected return."""
    actor.require(Perm.HEALTH_WRITE)
    day = today(facility, now)
    if onset_day > day:
        raise DomainError("date_in_future", "This date is in the future.", field="onset_day")
    if expected_return is not None and expected_return < onset_day:
        raise DomainError(
            "return_before_onset", "The return date is before the illness began.",
            field="expected_return",
        )  # fmt: skip
    bad = [s for s in symptoms if s not in SYMPTOMS]
    if bad or not symptoms:
        raise DomainError(
            "invalid_symptoms", "Choose at least one listed symptom.", field="symptoms"
        )
    enrolment = next(
        (
            e
            for e in child.enrolments
            if e.start_date <= onset_day and (e.end_date is None or onset_day <= e.end_date)
        ),
        None,
    )
    if enrolment is None:
        raise DomainError(
            "not_enrolled", "The child was not enrolled on that day.", field="onset_day"
        )
    actor.require_class(enrolment.class_id)
    temp = (
        _temperature(max_temperature_c, facility) if max_temperature_c not in (None, "") else None
    )
    return _open_case(
        session, actor, facility, child, enrolment.class_id, now=now, onset_day=onset_day,
        symptoms=symptoms, max_temperature_c=temp,
        diagnosis=text(diagnosis, field="diagnosis", limit=200),
        disease=text(disease, field="disease", limit=40), notifiable=notifiable,
        expected_return=expected_return,
    )  # fmt: skip


@dataclass(frozen=True)
class CheckStatus:
    """Present children of a day and which of them still lack a check."""

    day: date
    present: list[int]
    checked: dict[int, HealthCheck]

    @property
    def missing(self) -> list[int]:
        """Present children without the check."""
        return [c for c in self.present if c not in self.checked]


def check_status(
    session: Session, facility: Facility, day: date, kind: CheckKind = CheckKind.MORNING,
    class_ids: list[int] | None = None,
) -> CheckStatus:  # fmt: skip
    """Who was present (checked in) on ``day`` and who has had the check."""
    stmt = select(AttendanceRecord.child_id).where(
        AttendanceRecord.day == day,
        AttendanceRecord.status == AttendanceStatus.PRESENT,
        AttendanceRecord.check_in_at.is_not(None),
    )
    checks = select(HealthCheck).where(HealthCheck.day == day, HealthCheck.kind == kind)
    if class_ids is not None:
        stmt = stmt.where(AttendanceRecord.class_id.in_(class_ids))
        checks = checks.where(HealthCheck.class_id.in_(class_ids))
    present = list(session.scalars(stmt))
    return CheckStatus(day, present, {c.child_id: c for c in session.scalars(checks)})


def pending_followups(
    session: Session, facility: Facility, start: date, end: date
) -> list[AttendanceRecord]:
    """Illness absences in [start, end] with no illness case covering their day."""
    absences = list(
        session.scalars(
            select(AttendanceRecord).where(
                AttendanceRecord.day.between(start, end),
                AttendanceRecord.status == AttendanceStatus.ABSENT,
                AttendanceRecord.absence_reason == AbsenceReason.ILLNESS,
            )
        )
    )
    if not absences:
        return []
    cases = session.scalars(
        select(IllnessCase).where(
            IllnessCase.child_id.in_({a.child_id for a in absences}),
            IllnessCase.onset_day <= end,
        )
    ).all()

    def covered(a: AttendanceRecord) -> bool:
        # A case covers the days from its onset to the return (expected or actual), or two
        # weeks when neither is known.
        for c in cases:
            last = c.returned_on or c.expected_return or c.onset_day + timedelta(days=14)
            if c.child_id == a.child_id and c.onset_day <= a.day <= last:
                return True
        return False

    return [a for a in absences if not covered(a)]


def current_clusters(session: Session, facility: Facility, now: datetime) -> list[Cluster]:
    """Clusters among the cases of the policy's look-back window."""
    hp = facility.policy().health
    start = today(facility, now) - timedelta(days=hp.case_lookback_days - 1)
    rows = session.scalars(select(IllnessCase).where(IllnessCase.onset_day >= start))
    cases = [Case(r.id, r.class_id, r.onset_day, r.syndrome, r.notifiable, r.disease) for r in rows]
    return find_clusters(cases, hp, now)


def detect_clusters(session: Session, facility: Facility, now: datetime) -> list[Cluster]:
    """Find clusters and alert once for each, with its rule, class, cases and deadline."""
    found = current_clusters(session, facility, now)
    for cluster in found:
        raise_alert(
            session,
            facility_id=facility.id,
            kind=AlertKind.ILLNESS_CLUSTER,
            severity=Severity.CRITICAL,
            now=now,
            class_id=cluster.class_id,
            params={
                "rule": cluster.rule,
                "syndrome": cluster.syndrome,
                "cases": len(cluster.case_ids),
                "case_ids": list(cluster.case_ids),
                "first_day": cluster.first_day.isoformat(),
                "report_by": cluster.report_by.isoformat(),
            },
            dedup_key=f"cluster:{cluster.key}",
        )
    return found


def unreported_clusters(session: Session, facility: Facility) -> list[Alert]:
    """Cluster alerts nobody has acknowledged (acknowledging records the report)."""
    return list(
        session.scalars(
            select(Alert).where(
                Alert.facility_id == facility.id,
                Alert.kind == AlertKind.ILLNESS_CLUSTER,
                Alert.acknowledged_at.is_(None),
            )
        )
    )


def due_time(facility: Facility, day: date) -> datetime:
    """When the day's morning checks must be done."""
    return at_local(facility, day, facility.policy().health.morning_check_due)
