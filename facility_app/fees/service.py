"""Reading and setting the fee schedule; a 普惠 facility's fees must stay within the caps."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carewatch.errors import DomainError
from carewatch.policy import ClassType
from facility_app.accounts.permissions import Actor, Perm
from facility_app.audit import service as audit
from facility_app.children.models import CareType
from facility_app.facility.models import Facility, Ownership
from facility_app.fees import rules
from facility_app.fees.models import FeeItem, yuan_to_fen

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScheduleRow:
    """One class type and care type: the fee set (if any) and its cap (if any)."""

    class_type: ClassType
    care_type: CareType
    item: FeeItem | None
    cap: rules.Cap | None


def _state_collective(facility: Facility) -> bool:
    return facility.ownership == Ownership.STATE_COLLECTIVE


def fee_items(session: Session, facility: Facility) -> dict[tuple[str, str], FeeItem]:
    """The facility's fees by (class type, care type)."""
    items = session.scalars(select(FeeItem).where(FeeItem.facility_id == facility.id))
    return {(i.class_type.value, i.care_type.value): i for i in items}


def cap_for(
    facility: Facility,
    class_type: ClassType,
    care_type: CareType,
    full_day_fee: Decimal | None,
) -> rules.Cap | None:
    """The cap that applies to one fee; None when the facility is not 普惠 or no figure is set.

    Half-day, hourly and temporary caps derive from the facility's own full-day fee for
    the class type, or from the full-day cap while no full-day fee is set.
    """
    if not facility.puhui_certified:
        return None
    fees = facility.policy().fees
    full_cap = rules.full_day_cap(fees, class_type, _state_collective(facility))
    if care_type == CareType.FULL_DAY:
        return full_cap
    base = full_day_fee if full_day_fee is not None else (full_cap.limit if full_cap else None)
    return None if base is None else rules.dependent_cap(fees, care_type.value, base)


def schedule(session: Session, actor: Actor, facility: Facility) -> list[ScheduleRow]:
    """Every class type and care type with its fee and cap, for the schedule page."""
    actor.require(Perm.FINANCE_VIEW)
    items = fee_items(session, facility)
    out = []
    for ctype in ClassType:
        full = items.get((ctype.value, CareType.FULL_DAY.value))
        for care in CareType:
            cap = cap_for(facility, ctype, care, full.amount if full else None)
            out.append(ScheduleRow(ctype, care, items.get((ctype.value, care.value)), cap))
    return out


def set_fee(
    session: Session,
    actor: Actor,
    facility: Facility,
    *,
    now: datetime,
    class_type: ClassType | str,
    care_type: CareType | str,
    amount: Any,
    billing_months: int = 1,
) -> FeeItem:
    """Set one fee; over its cap (or pushing a dependent fee over its cap) it is refused."""
    actor.require(Perm.FINANCE_WRITE)
    try:
        ctype = ClassType(class_type)
    except ValueError:
        raise DomainError("invalid_class_type", "Unknown class type.", field="class_type") from None
    try:
        care = CareType(care_type)
    except ValueError:
        raise DomainError("invalid_care_type", "Unknown care type.", field="care_type") from None
    value = rules.parse_amount(amount)
    fees = facility.policy().fees
    rules.check_billing_months(fees, billing_months)
    if care.value not in rules.MONTHLY_CARE_TYPES and billing_months != 1:
        raise DomainError(
            "charge_per_use",
            "Hourly and temporary care are charged per use, one month at most.",
            field="billing_months",
        )
    items = fee_items(session, facility)
    full = items.get((ctype.value, CareType.FULL_DAY.value))
    if care == CareType.FULL_DAY:
        rules.check_cap(cap_for(facility, ctype, care, None), value)
        if facility.puhui_certified:
            # A lower full-day fee lowers the caps of the fees derived from it.
            for other in (CareType.HALF_DAY, CareType.HOURLY, CareType.TEMPORARY):
                dep = items.get((ctype.value, other.value))
                if dep is not None:
                    cap = rules.dependent_cap(fees, other.value, value)
                    rules.check_cap(cap, dep.amount, field_name="amount")
    else:
        rules.check_cap(cap_for(facility, ctype, care, full.amount if full else None), value)
    item = items.get((ctype.value, care.value))
    before = audit.snapshot(item) if item is not None else None
    if item is None:
        item = FeeItem(facility_id=facility.id, class_type=ctype, care_type=care)
        session.add(item)
    item.amount_fen = yuan_to_fen(value)
    item.billing_months = billing_months
    item.updated_at = now
    audit.log_change(
        session, actor, now, "update" if before else "create", "fee", item, before=before
    )
    log.info("fee %s/%s set to %s", ctype.value, care.value, value)
    return item


def over_cap(session: Session, facility: Facility) -> list[ScheduleRow]:
    """Fees now above their caps (say after the locality lowered its income figure).

    The compliance check ``fees.cap`` reads this; setting a fee never leaves one over.
    """
    items = fee_items(session, facility)
    out = []
    for (ctype, care), item in sorted(items.items()):
        full = items.get((ctype, CareType.FULL_DAY.value))
        cap = cap_for(facility, ClassType(ctype), CareType(care), full.amount if full else None)
        if cap is not None and item.amount > cap.limit:
            out.append(ScheduleRow(ClassType(ctype), CareType(care), item, cap))
    return out
