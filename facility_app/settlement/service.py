"""Monthly subsidy claims: computed from attendance, settled as locked snapshots.

A claim line per eligible child holds the day rows behind its amount. Settling a month
stores the lines, the rule and the facility's details; a later correction of attendance
in a settled month shows up as an adjustment line of the next claim, carrying the
reasons from the audit log.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from carewatch.errors import Conflict
from carewatch.policy import SubsidyRule
from facility_app.accounts.permissions import Actor, Perm
from facility_app.audit import service as audit
from facility_app.facility.models import Facility
from facility_app.fees.models import fen_to_yuan, yuan_to_fen
from facility_app.fees.rules import to_fen
from facility_app.settlement import rules
from facility_app.settlement.adjustments import get_settlement, pending_adjustments
from facility_app.settlement.claims import (
    Claim,
    ClaimLine,
    compute_lines,
    facility_details,
)
from facility_app.settlement.models import (
    LineKind,
    Settlement,
    SettlementLine,
)
from facility_app.settlement.months import parse_month, require_ended, require_not_future
from facility_app.settlement.versions import rule_for_month

log = logging.getLogger(__name__)


def compute_claim(
    session: Session, facility: Facility, month: str, *, upto: date | None = None
) -> Claim:
    """A month's live claim (not stored), with pending adjustments of settled months."""
    first, last = parse_month(month)
    version, rule = rule_for_month(session, facility, first)
    n_days, lines, _rows = compute_lines(
        session,
        facility,
        first,
        last,
        rule,
        grade=facility.grade.value,
        puhui_certified=facility.puhui_certified,
        upto=upto,
    )
    notes = []
    if rule.puhui_facility_only and not facility.puhui_certified:
        notes.append("not_puhui")
    return Claim(
        month=month,
        first=first,
        last=last,
        service_days=n_days,
        version_id=version.id if version else None,
        rule=rule,
        facility_details=facility_details(facility),
        lines=lines,
        adjustments=pending_adjustments(session, facility, month),
        notes=notes,
    )


def _line_from_row(row: SettlementLine) -> ClaimLine:
    return ClaimLine(
        kind=row.kind,
        child_id=row.child_id,
        pseudonym=row.pseudonym,
        name=row.child_name,
        class_id=row.class_id,
        class_name=row.class_name,
        service_days=row.service_days,
        days_enrolled=row.days_enrolled,
        days_attended=row.days_attended,
        units=Decimal(row.attended_units),
        rate=fen_to_yuan(row.rate_fen),
        amount=fen_to_yuan(row.amount_fen),
        rule_text=row.rule_text,
        days=row.days,
        flags=row.flags,
        adjusts_month=row.adjusts_month,
        reason=row.reason,
    )


def claim_from_settlement(settlement: Settlement) -> Claim:
    """A settled month's claim exactly as it was locked."""
    first, last = parse_month(settlement.month)
    lines = [_line_from_row(r) for r in settlement.lines]
    return Claim(
        month=settlement.month,
        first=first,
        last=last,
        service_days=settlement.service_days,
        version_id=settlement.policy_version_id,
        rule=SubsidyRule.model_validate(settlement.rule),
        facility_details=settlement.facility_details,
        lines=[x for x in lines if x.kind == LineKind.CLAIM],
        adjustments=[x for x in lines if x.kind == LineKind.ADJUSTMENT],
        settlement=settlement,
    )


def claim(
    session: Session, actor: Actor, facility: Facility, month: str, *, now: datetime
) -> Claim:
    """The month's claim: its locked snapshot once settled, else the live draft."""
    actor.require(Perm.FINANCE_VIEW)
    require_not_future(facility, month, now)
    settled = get_settlement(session, facility, month)
    if settled is not None:
        return claim_from_settlement(settled)
    return compute_claim(session, facility, month)


def settle_month(
    session: Session, actor: Actor, facility: Facility, month: str, *, now: datetime
) -> Settlement:
    """Lock a month that has ended: store its lines and adjustments as a snapshot."""
    actor.require(Perm.FINANCE_WRITE)
    require_ended(facility, month, now)
    if get_settlement(session, facility, month) is not None:
        raise Conflict(
            "already_settled",
            "%(month)s is already settled; corrections go into a later claim.",
            field="month",
            month=month,
        )
    draft = compute_claim(session, facility, month)
    settlement = Settlement(
        facility_id=facility.id,
        month=month,
        policy_version_id=draft.version_id,
        rule=draft.rule.model_dump(mode="json"),
        facility_details=draft.facility_details,
        service_days=draft.service_days,
        total_fen=yuan_to_fen(to_fen(draft.total)),
        settled_at=now,
        settled_by_id=actor.user_id,
    )
    for line in [*draft.lines, *draft.adjustments]:
        settlement.lines.append(
            SettlementLine(
                kind=line.kind,
                child_id=line.child_id,
                pseudonym=line.pseudonym,
                child_name=line.name,
                class_id=line.class_id,
                class_name=line.class_name,
                service_days=line.service_days,
                days_enrolled=line.days_enrolled,
                days_attended=line.days_attended,
                attended_units=rules.units_text(line.units),
                rate_fen=yuan_to_fen(line.rate),
                amount_fen=yuan_to_fen(line.amount),
                rule_text=line.rule_text[:300],
                adjusts_month=line.adjusts_month,
                reason=line.reason[:1000],
                days=line.days,
                flags=line.flags,
            )
        )
    session.add(settlement)
    session.flush()
    audit.record(
        session,
        at=now,
        user_id=actor.user_id,
        action="settle",
        entity="settlement",
        entity_id=settlement.id,
        after={
            "month": month,
            "total": str(draft.total),
            "children": len(draft.lines),
            "adjustments": len(draft.adjustments),
            "policy_version_id": draft.version_id,
        },
    )
    log.info("settled %s: %s children, %s yuan", month, len(draft.lines), draft.total)
    return settlement
