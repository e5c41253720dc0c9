"""Read-only views of claims: the rows behind an amount, the forecast, the hub's body."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from carewatch.errors import NotFound
from facility_app.accounts.permissions import Actor, Perm
from facility_app.children.models import Child
from facility_app.facility.models import Facility
from facility_app.facility.service import service_days, today
from facility_app.fees.rules import to_fen
from facility_app.settlement import rules
from facility_app.settlement.adjustments import get_settlement
from facility_app.settlement.claims import ClaimLine, compute_lines
from facility_app.settlement.months import require_not_future
from facility_app.settlement.rules import ZERO
from facility_app.settlement.service import claim, claim_from_settlement, compute_claim
from facility_app.settlement.versions import rule_for_month

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- drill-down and forecast


@dataclass
class DrillDown:
    """One child's amount and the attendance rows behind it."""

    child: Child
    month: str
    line: ClaimLine | None
    adjustments: list[ClaimLine]
    settled: bool


def drill_down(
    session: Session, actor: Actor, facility: Facility, child_id: int, month: str, *, now: datetime
) -> DrillDown:
    """The rows behind one child's amount in a month (the snapshot's rows once settled)."""
    actor.require(Perm.FINANCE_VIEW)
    child = session.get(Child, child_id)
    if child is None or child.facility_id != facility.id:
        raise NotFound("child_not_found", "This child does not exist.")
    found = claim(session, actor, facility, month, now=now)
    return DrillDown(
        child=child,
        month=month,
        line=found.line_for(child_id),
        adjustments=[a for a in found.adjustments if a.child_id == child_id],
        settled=found.settled,
    )


@dataclass
class ForecastLine:
    """A child's claim so far and at month end if attendance goes on as so far."""

    line: ClaimLine
    remaining_days: int
    projected_days: int
    projected_units: Decimal
    projected_amount: Decimal
    low: bool


@dataclass
class Forecast:
    """The month so far and its projection."""

    month: str
    as_of: date
    service_days: int
    service_days_so_far: int
    lines: list[ForecastLine]

    @property
    def total_so_far(self) -> Decimal:
        """What the month would pay if it ended today."""
        return sum((f.line.amount for f in self.lines), ZERO)

    @property
    def projected_total(self) -> Decimal:
        """What the month will pay if attendance goes on as so far."""
        return sum((f.projected_amount for f in self.lines), ZERO)

    @property
    def full_total(self) -> Decimal:
        """What the month would pay at full attendance."""
        return sum((f.line.rate for f in self.lines), ZERO)

    @property
    def low_count(self) -> int:
        """Children projected below the policy's share of the full rate."""
        return sum(1 for f in self.lines if f.low)


def forecast(
    session: Session, actor: Actor, facility: Facility, month: str, *, now: datetime
) -> Forecast:
    """The claim so far and the month-end projection, child by child."""
    actor.require(Perm.FINANCE_VIEW)
    first, last = require_not_future(facility, month, now)
    as_of = min(today(facility, now), last)
    _version, rule = rule_for_month(session, facility, first)
    n_days, lines, rows = compute_lines(
        session,
        facility,
        first,
        last,
        rule,
        grade=facility.grade.value,
        puhui_certified=facility.puhui_certified,
        upto=as_of,
    )
    low_share = facility.policy().settlement.low_attendance_share
    out = []
    for line in lines:
        done = rules.add_up([r for r in rows[line.child_id] if r.day <= as_of])
        remaining = sum(1 for r in rows[line.child_id] if r.day > as_of and r.eligible)
        days, units = rules.project(done, remaining)
        pro = rules.prorate(
            rule, rate=line.rate, service_days=n_days, attended_days=days, units=units
        )
        out.append(
            ForecastLine(
                line=line,
                remaining_days=remaining,
                projected_days=days,
                projected_units=units,
                projected_amount=pro.amount,
                low=pro.amount < line.rate * low_share,
            )
        )
    so_far = len(service_days(session, facility, first, as_of))
    return Forecast(month, as_of, n_days, so_far, out)


# ---------------------------------------------------------------- report to the hub


def settlement_body(session: Session, facility: Facility, month: str) -> dict[str, Any]:
    """The month's totals for the hub's ``settlement`` report: counts, amounts, pseudonyms.

    No names and no free text (correction reasons may name people) leave the facility.
    """
    settled = get_settlement(session, facility, month)
    found = claim_from_settlement(settled) if settled else compute_claim(session, facility, month)
    return {
        "month": month,
        "settled": found.settled,
        "settled_at": settled.settled_at.isoformat() if settled else None,
        "grade": found.facility_details["grade"],
        "puhui_certified": found.facility_details["puhui_certified"],
        "policy_version_id": found.version_id,
        "basis": found.rule.basis.value,
        "service_days": found.service_days,
        "children": len(found.lines),
        "claim_total": str(found.claim_total),
        "adjustment_total": str(found.adjustment_total),
        "total": str(found.total),
        "classes": [
            {"class_id": t.class_id, "children": t.children, "amount": str(t.amount)}
            for t in found.class_totals()
        ],
        "lines": [
            {
                "child": line.pseudonym,
                "class_id": line.class_id,
                "days_enrolled": line.days_enrolled,
                "service_days": line.service_days,
                "days_attended": line.days_attended,
                "attended_units": rules.units_text(line.units),
                "rate": str(to_fen(line.rate)),
                "amount": str(line.amount),
            }
            for line in found.lines
        ],
        "adjustments": [
            {"child": a.pseudonym, "adjusts_month": a.adjusts_month, "amount": str(a.amount)}
            for a in found.adjustments
        ],
    }
