"""Corrections of settled months: adjustment lines of a later claim, with their reasons.

Each settled month that changed since it was locked is recomputed under the rule and
grade it was settled with; what was already paid (its lines and the adjustments since)
is subtracted, and the reasons come from the audit log.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from carewatch.policy import SubsidyRule
from facility_app.attendance.models import AttendanceRecord
from facility_app.audit.models import AuditEntry
from facility_app.children.models import Enrolment
from facility_app.facility.models import Facility
from facility_app.fees.models import fen_to_yuan
from facility_app.fees.rules import to_fen
from facility_app.settlement.claims import (
    ClaimLine,
    compute_lines,
)
from facility_app.settlement.models import (
    LineKind,
    Settlement,
    SettlementLine,
)
from facility_app.settlement.months import parse_month
from facility_app.settlement.rules import ZERO

log = logging.getLogger(__name__)


def _settlements(session: Session, facility: Facility) -> list[Settlement]:
    return list(
        session.scalars(
            select(Settlement)
            .where(Settlement.facility_id == facility.id)
            .order_by(Settlement.month)
        )
    )


def get_settlement(session: Session, facility: Facility, month: str) -> Settlement | None:
    """The settled snapshot of a month, if it was settled."""
    return session.scalar(
        select(Settlement).where(Settlement.facility_id == facility.id, Settlement.month == month)
    )


def _settled_entry_id(session: Session, settlement: Settlement) -> int:
    """The audit entry of the settling; what was logged after it came after the lock."""
    found = session.scalar(
        select(AuditEntry.id).where(
            AuditEntry.entity == "settlement", AuditEntry.entity_id == settlement.id
        )
    )
    return found or 0


def _changed_since(session: Session, after_id: int, first: date, last: date) -> bool:
    """Whether anything a settled month is computed from was logged after its settling.

    That is a change to one of the month's attendance rows, or to an enrolment or a
    child (the rule and grade are frozen with the month). Months without one are not
    recomputed, so settling stays fast with a long history of settled months.
    """
    month_rows = select(AttendanceRecord.id).where(AttendanceRecord.day.between(first, last))
    found = session.scalar(
        select(AuditEntry.id)
        .where(
            AuditEntry.id > after_id,
            or_(
                (AuditEntry.entity == "attendance") & AuditEntry.entity_id.in_(month_rows),
                AuditEntry.entity.in_(("enrolment", "child")),
            ),
        )
        .limit(1)
    )
    return found is not None


def _corrections(
    session: Session, child_id: int, record_ids: set[int], after_id: int
) -> list[AuditEntry]:
    """Audit entries after the settling on the child's attendance rows and enrolments."""
    enrolment_ids = set(session.scalars(select(Enrolment.id).where(Enrolment.child_id == child_id)))
    return list(
        session.scalars(
            select(AuditEntry)
            .where(
                or_(
                    (AuditEntry.entity == "attendance") & AuditEntry.entity_id.in_(record_ids),
                    (AuditEntry.entity == "enrolment") & AuditEntry.entity_id.in_(enrolment_ids),
                ),
                AuditEntry.id > after_id,
            )
            .order_by(AuditEntry.id)
        )
    )


def _reason(entries: list[AuditEntry]) -> str:
    """The reasons people gave, else what changed and when."""
    reasons = [e.reason for e in entries if e.reason]
    if not reasons:
        reasons = [f"{e.entity} #{e.entity_id} {e.action} {e.at:%Y-%m-%d}" for e in entries]
    return "; ".join(dict.fromkeys(reasons)) or "no correction recorded"


@dataclass
class _Paid:
    """What was paid for one child and settled month, and the corrections reported."""

    amount: Decimal = ZERO
    line: SettlementLine | None = None
    reported: set[str] = field(default_factory=set)


def pending_adjustments(session: Session, facility: Facility, month: str) -> list[ClaimLine]:
    """Corrections of earlier settled months not yet carried by a claim.

    Each settled month is recomputed under the rule and grade it was settled with; what
    was already paid (its lines and the adjustments since) is subtracted. A correction
    that leaves the amount unchanged still gets a line (of 0), so nothing changes silently.
    """
    settled = [s for s in _settlements(session, facility) if s.month < month]
    paid: dict[tuple[str, int], _Paid] = defaultdict(_Paid)
    for s in settled:
        for row in s.lines:
            got = paid[(row.adjusts_month or s.month, row.child_id)]
            got.amount += fen_to_yuan(row.amount_fen)
            got.line = got.line or row
            got.reported |= {f for f in row.flags if f.startswith("audit:")}
    out = []
    for s in settled:
        after_id = _settled_entry_id(session, s)
        first, last = parse_month(s.month)
        if not _changed_since(session, after_id, first, last):
            continue
        _, lines, _rows = compute_lines(
            session,
            facility,
            first,
            last,
            SubsidyRule.model_validate(s.rule),
            grade=s.facility_details["grade"],
            puhui_certified=bool(s.facility_details["puhui_certified"]),
        )
        current = {line.child_id: line for line in lines}
        for child_id in sorted({c for (m, c) in paid if m == s.month} | set(current)):
            new, got = current.get(child_id), paid[(s.month, child_id)]
            old_days = got.line.days if got.line else []
            ids = {d["record_id"] for d in [*(new.days if new else []), *old_days]}
            entries = _corrections(session, child_id, ids - {None}, after_id)
            fresh = [e for e in entries if f"audit:{e.id}" not in got.reported]
            diff = (new.amount if new else ZERO) - got.amount
            if diff == 0 and not fresh:
                continue
            out.append(_adjustment(s.month, child_id, new, got, diff, fresh))
    return out


def _adjustment(
    month: str,
    child_id: int,
    new: ClaimLine | None,
    got: _Paid,
    diff: Decimal,
    entries: list[AuditEntry],
) -> ClaimLine:
    old = got.line
    return ClaimLine(
        kind=LineKind.ADJUSTMENT,
        child_id=child_id,
        pseudonym=new.pseudonym if new else old.pseudonym,  # type: ignore[union-attr]
        name=new.name if new else old.child_name,  # type: ignore[union-attr]
        class_id=new.class_id if new else old.class_id,  # type: ignore[union-attr]
        class_name=new.class_name if new else old.class_name,  # type: ignore[union-attr]
        service_days=new.service_days if new else 0,
        days_enrolled=new.days_enrolled if new else 0,
        days_attended=new.days_attended if new else 0,
        units=new.units if new else ZERO,
        rate=new.rate if new else ZERO,
        amount=diff,
        rule_text=f"{new.amount if new else ZERO} − {to_fen(got.amount)} paid",
        days=new.days if new else [],
        flags=[f"audit:{e.id}" for e in entries],
        adjusts_month=month,
        reason=_reason(entries),
    )
