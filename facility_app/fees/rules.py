"""Fee caps and hourly billing as pure functions over the policy (no database).

Money is ``Decimal`` throughout. Each cap is computed exactly and rounded once, to the
fen with ROUND_HALF_UP, at the end (:func:`to_fen`); a fee equal to its cap is accepted.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from carewatch.errors import DomainError
from carewatch.policy import ClassType, FeePolicy

log = logging.getLogger(__name__)

FEN = Decimal("0.01")
HUNDRED = Decimal(100)
MAX_FEE = Decimal("1000000")

FULL_DAY, HALF_DAY, HOURLY, TEMPORARY = "full_day", "half_day", "hourly", "temporary"
MONTHLY_CARE_TYPES = (FULL_DAY, HALF_DAY)


def to_fen(value: Decimal) -> Decimal:
    """Round an amount of yuan to the fen, half up (the one rounding rule for money)."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def percent(share: Decimal) -> str:
    """A share as a percentage for messages (0.45 → "45")."""
    return format((share * HUNDRED).normalize(), "f")


def parse_amount(raw: Any, *, field_name: str = "amount") -> Decimal:
    """A fee in yuan from a form or JSON value; text, negatives and sub-fen parts refused."""
    if isinstance(raw, bool):
        raw = None
    try:
        value = Decimal(str(raw).strip()) if raw is not None else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise DomainError(
            "invalid_amount",
            "Enter the fee as a number of yuan, such as 1800 or 1800.50.",
            field=field_name,
        )
    if value < 0:
        raise DomainError("negative_amount", "A fee cannot be negative.", field=field_name)
    if value != value.quantize(FEN) or value > MAX_FEE:
        raise DomainError(
            "invalid_amount",
            "Enter the fee as a number of yuan, such as 1800 or 1800.50.",
            field=field_name,
        )
    return value.quantize(FEN)


@dataclass(frozen=True)
class Cap:
    """A cap, the code of the message that explains it and the figures it came from."""

    limit: Decimal
    code: str
    params: dict[str, str] = field(default_factory=dict)


def full_day_cap(fees: FeePolicy, class_type: ClassType, state_collective: bool) -> Cap | None:
    """Monthly full-day cap: a share of last year's per-capita disposable income ÷ 12."""
    income = fees.per_capita_disposable_income
    if income is None:
        return None
    shares = fees.state_collective_shares if state_collective else fees.full_day_shares
    share = shares[ClassType(class_type)]
    limit = to_fen(income * share / 12)
    return Cap(
        limit,
        "full_day_over_cap",
        {"cap": str(limit), "share": percent(share), "income": str(income)},
    )


def day_fee(fees: FeePolicy, full_day: Decimal) -> Decimal:
    """A monthly full-day fee converted to one day (unrounded; the caps round)."""
    return full_day / fees.days_per_month


def half_day_cap(fees: FeePolicy, full_day: Decimal) -> Cap:
    """Half-day fee cap: a share of the matching full-day fee."""
    limit = to_fen(full_day * fees.half_day_max_share)
    return Cap(
        limit,
        "half_day_over_cap",
        {"cap": str(limit), "share": percent(fees.half_day_max_share), "full": str(full_day)},
    )


def hourly_cap(fees: FeePolicy, full_day: Decimal) -> Cap:
    """Hourly fee cap: a share of the full-day fee converted to a day."""
    limit = to_fen(day_fee(fees, full_day) * fees.hourly_max_share)
    return Cap(
        limit,
        "hourly_over_cap",
        {
            "cap": str(limit),
            "share": percent(fees.hourly_max_share),
            "full": str(full_day),
            "days": str(fees.days_per_month),
        },
    )


def temporary_cap(fees: FeePolicy, full_day: Decimal) -> Cap:
    """Temporary care cap per day: a share of the full-day fee converted to a day."""
    limit = to_fen(day_fee(fees, full_day) * fees.temporary_max_share)
    return Cap(
        limit,
        "temporary_over_cap",
        {
            "cap": str(limit),
            "share": percent(fees.temporary_max_share),
            "full": str(full_day),
            "days": str(fees.days_per_month),
        },
    )


def dependent_cap(fees: FeePolicy, care_type: str, full_day: Decimal) -> Cap | None:
    """The cap of a care type that derives from the full-day fee (None for full-day)."""
    if care_type == HALF_DAY:
        return half_day_cap(fees, full_day)
    if care_type == HOURLY:
        return hourly_cap(fees, full_day)
    if care_type == TEMPORARY:
        return temporary_cap(fees, full_day)
    return None


def check_cap(cap: Cap | None, fee: Decimal, *, field_name: str = "amount") -> None:
    """Refuse a fee above its cap, naming the cap and its figures; at the cap is fine."""
    if cap is None or fee <= cap.limit:
        return
    p: dict[str, Any] = {"field": field_name, "fee": str(fee), **cap.params}
    # One literal message per cap, so that the catalogue extracts each of them.
    if cap.code == "full_day_over_cap":
        raise DomainError(
            cap.code,
            "The full-day fee of %(fee)s yuan is over the cap of %(cap)s yuan: %(share)s%% "
            "of last year's per-capita disposable income of %(income)s yuan ÷ 12.",
            **p,
        )
    if cap.code == "half_day_over_cap":
        raise DomainError(
            cap.code,
            "The half-day fee of %(fee)s yuan is over the cap of %(cap)s yuan: %(share)s%% "
            "of the full-day fee of %(full)s yuan.",
            **p,
        )
    if cap.code == "hourly_over_cap":
        raise DomainError(
            cap.code,
            "The hourly fee of %(fee)s yuan is over the cap of %(cap)s yuan: %(share)s%% "
            "of the full-day fee of %(full)s yuan ÷ %(days)s days.",
            **p,
        )
    raise DomainError(
        cap.code,
        "The temporary care fee of %(fee)s yuan a day is over the cap of %(cap)s yuan: "
        "%(share)s%% of the full-day fee of %(full)s yuan ÷ %(days)s days.",
        **p,
    )


def check_billing_months(fees: FeePolicy, months: int) -> None:
    """No single charge may cover more than the policy's months."""
    if not 1 <= months <= fees.max_months_per_charge:
        raise DomainError(
            "charge_too_long",
            "A single charge may cover 1 to %(n)s months.",
            field="billing_months",
            n=fees.max_months_per_charge,
        )


def billable_hours(minutes: int) -> int:
    """Hours billed for a stay: a part hour bills as a whole hour."""
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    return math.ceil(minutes / 60)


def hourly_charge(rate: Decimal, minutes: int) -> Decimal:
    """The charge for an hourly stay of ``minutes`` at ``rate`` per hour."""
    return to_fen(rate * billable_hours(minutes))
