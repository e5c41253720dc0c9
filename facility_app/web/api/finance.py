"""Fees within the 普惠 caps, subsidy rule versions, monthly claims and their settlement."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from carewatch.policy import ClassType
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import Perm
from facility_app.children.models import CareType
from facility_app.fees import service as fees
from facility_app.settlement import service as settlement
from facility_app.settlement import versions, views
from facility_app.settlement.claims import Claim, ClaimLine
from facility_app.settlement.months import month_of, previous_month, require_not_future

from ..auth import current_actor, facility, now
from ..extensions import db
from .registry import id_rule, operation
from .schemas import In, LocalDateTime, Out, Query, text

log = logging.getLogger(__name__)

Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}$")]
#: A fee: a decimal string ("1800.50") or a number; the service refuses text and negatives.
Amount = Annotated[str | int | float, Field(examples=["1800.00"])]


class FeeIn(In):
    """One fee: per month (full-day, half-day), per hour, or per temporary day."""

    class_type: ClassType
    care_type: CareType
    amount: Amount
    billing_months: Annotated[int, Field(ge=1, le=12)] = 1


class FeeOut(Out):
    """A class type and care type: its fee (if set) and its cap (if one applies)."""

    class_type: ClassType
    care_type: CareType
    amount: Decimal | None
    billing_months: int | None
    cap: Decimal | None
    cap_basis: dict[str, str] | None


class FeeList(Out):
    """The fee schedule."""

    puhui_certified: bool
    items: list[FeeOut]


def _fee_rows() -> FeeList:
    rows = fees.schedule(db.session, current_actor(), facility())
    return FeeList(
        puhui_certified=facility().puhui_certified,
        items=[
            FeeOut(
                class_type=r.class_type,
                care_type=r.care_type,
                amount=r.item.amount if r.item else None,
                billing_months=r.item.billing_months if r.item else None,
                cap=r.cap.limit if r.cap else None,
                cap_basis=r.cap.params if r.cap else None,
            )
            for r in rows
        ],
    )


@operation(
    "GET", "/fees", summary="The fee schedule with its caps", tag="finance",
    perm=Perm.FINANCE_VIEW, response=FeeList,
)  # fmt: skip
def list_fees() -> FeeList:
    """Every class type and care type with its fee and the cap that applies to it."""
    return _fee_rows()


@operation(
    "POST", "/fees", summary="Set one fee", tag="finance", perm=Perm.FINANCE_WRITE,
    body=FeeIn, response=FeeList,
)  # fmt: skip
def set_fee(body: FeeIn) -> FeeList:
    """Set a fee; over its cap it is refused with the cap and the figures it came from."""
    fees.set_fee(
        db.session,
        current_actor(),
        facility(),
        now=now(),
        class_type=body.class_type,
        care_type=body.care_type,
        amount=body.amount,
        billing_months=body.billing_months,
    )
    return _fee_rows()


class PolicyVersionIn(In):
    """A subsidy rule from the first of a month; ``rule`` names what differs from the default."""

    profile: text(40) | None = None  # type: ignore[valid-type]
    effective_from: date
    effective_to: date | None = None
    rule: dict[str, Any] = Field(default_factory=dict)
    note: text(200) = ""  # type: ignore[valid-type]


class PolicyVersionOut(Out):
    """A version of a locality's subsidy rule."""

    id: int
    profile_id: int | None
    effective_from: date
    effective_to: date | None
    rule: dict[str, Any]
    note: str


class PolicyVersionList(Out):
    """The facility's profile's versions, oldest first."""

    items: list[PolicyVersionOut]


@operation(
    "GET", "/subsidy-policies", summary="Subsidy rule versions", tag="finance",
    perm=Perm.FINANCE_VIEW, response=PolicyVersionList,
)  # fmt: skip
def list_policy_versions() -> PolicyVersionList:
    """The versions of the facility's locality profile."""
    current_actor().require(Perm.FINANCE_VIEW)
    found = versions.policy_versions(db.session, facility().policy_profile_id)
    return PolicyVersionList(items=[PolicyVersionOut.model_validate(v) for v in found])


@operation(
    "POST", "/subsidy-policies", summary="Add a subsidy rule version", tag="finance",
    perm=Perm.FINANCE_WRITE, body=PolicyVersionIn, response=PolicyVersionOut, status=201,
)  # fmt: skip
def add_policy_version(body: PolicyVersionIn) -> PolicyVersionOut:
    """Overlapping versions are refused (409); an unknown profile is 404."""
    version = versions.add_policy_version(
        db.session,
        current_actor(),
        now=now(),
        # Left out, the version belongs to the facility's own locality profile.
        profile_key=body.profile
        or (profile.key if (profile := facility().policy_profile) else None),
        effective_from=body.effective_from,
        effective_to=body.effective_to,
        rule=body.rule,
        note=body.note,
    )
    return PolicyVersionOut.model_validate(version)


class MonthQuery(Query):
    """A month as YYYY-MM; the last month that has ended when left out."""

    month: Month | None = None


class LineOut(Out):
    """A child's line or an adjustment; ``name`` is empty for readers outside the facility."""

    kind: str
    child_id: int
    pseudonym: str
    name: str
    class_id: int | None
    class_name: str
    service_days: int
    days_enrolled: int
    days_attended: int
    units: Decimal
    rate: Decimal
    amount: Decimal
    rule_text: str
    flags: list[str]
    adjusts_month: str | None
    reason: str


class ClassTotalOut(Out):
    """A class's children and amount."""

    class_id: int | None
    class_name: str
    children: int
    amount: Decimal


class ClaimOut(Out):
    """A month's claim, settled (locked) or draft."""

    month: str
    settled: bool
    settled_at: LocalDateTime | None
    service_days: int
    policy_version_id: int | None
    children: int
    claim_total: Decimal
    adjustment_total: Decimal
    total: Decimal
    classes: list[ClassTotalOut]
    lines: list[LineOut]
    adjustments: list[LineOut]


def show_names() -> bool:
    """Children's names stay inside the facility; the regulator reads pseudonyms."""
    return current_actor().role != Role.REGULATOR


def _line(line: ClaimLine) -> LineOut:
    out = LineOut.model_validate(line)
    return out if show_names() else out.model_copy(update={"name": ""})


def claim_out(claim: Claim) -> ClaimOut:
    """The response body of a claim."""
    return ClaimOut(
        month=claim.month,
        settled=claim.settled,
        settled_at=claim.settlement.settled_at if claim.settlement else None,
        service_days=claim.service_days,
        policy_version_id=claim.version_id,
        children=len(claim.lines),
        claim_total=claim.claim_total,
        adjustment_total=claim.adjustment_total,
        total=claim.total,
        classes=[ClassTotalOut.model_validate(t) for t in claim.class_totals()],
        lines=[_line(x) for x in claim.lines],
        adjustments=[_line(x) for x in claim.adjustments],
    )


def default_month() -> str:
    """The last month that has ended."""
    from facility_app.facility.service import today

    return previous_month(today(facility(), now()))


@operation(
    "GET", "/settlements", summary="A month's subsidy claim", tag="finance",
    perm=Perm.FINANCE_VIEW, query=MonthQuery, response=ClaimOut,
)  # fmt: skip
def get_claim(query: MonthQuery) -> ClaimOut:
    """The locked snapshot once settled, else the live draft; a future month is refused."""
    month = query.month or default_month()
    return claim_out(settlement.claim(db.session, current_actor(), facility(), month, now=now()))


class SettleIn(In):
    """The month to settle, YYYY-MM."""

    month: Month


@operation(
    "POST", "/settlements", summary="Settle (lock) a month", tag="finance",
    perm=Perm.FINANCE_WRITE, body=SettleIn, response=ClaimOut, status=201,
)  # fmt: skip
def settle(body: SettleIn) -> ClaimOut:
    """Only a month that has ended, and only once (409 after)."""
    done = settlement.settle_month(db.session, current_actor(), facility(), body.month, now=now())
    return claim_out(settlement.claim_from_settlement(done))


class DayOut(Out):
    """An enrolled service day behind an amount."""

    day: date
    class_id: int
    care_type: str
    eligible: bool
    record_id: int | None
    status: str | None
    check_in: str | None
    check_out: str | None
    weight: Decimal


class DrillDownOut(Out):
    """A child's line of a month and the attendance rows behind it."""

    month: str
    child_id: int
    settled: bool
    line: LineOut | None
    days: list[DayOut]
    adjustments: list[LineOut]


@operation(
    "GET", f"/settlements/children/{id_rule('child_id')}",
    summary="The attendance rows behind a child's amount", tag="finance",
    perm=Perm.FINANCE_VIEW, query=MonthQuery, response=DrillDownOut,
)  # fmt: skip
def claim_child(child_id: int, query: MonthQuery) -> DrillDownOut:
    """The snapshot's rows once the month is settled, else today's rows."""
    month = query.month or default_month()
    found = views.drill_down(db.session, current_actor(), facility(), child_id, month, now=now())
    return DrillDownOut(
        month=month,
        child_id=child_id,
        settled=found.settled,
        line=_line(found.line) if found.line else None,
        days=[DayOut.model_validate(d) for d in (found.line.days if found.line else [])],
        adjustments=[_line(a) for a in found.adjustments],
    )


class ForecastLineOut(Out):
    """A child's claim so far and projection."""

    child_id: int
    pseudonym: str
    amount_so_far: Decimal
    rate: Decimal
    days_attended: int
    remaining_days: int
    projected_days: int
    projected_amount: Decimal
    low: bool


class ForecastOut(Out):
    """The month so far and at its end if attendance goes on as so far."""

    month: str
    as_of: date
    service_days: int
    service_days_so_far: int
    total_so_far: Decimal
    projected_total: Decimal
    full_total: Decimal
    low_count: int
    lines: list[ForecastLineOut]


@operation(
    "GET", "/settlements/forecast", summary="The month's claim so far and its projection",
    tag="finance", perm=Perm.FINANCE_VIEW, query=MonthQuery, response=ForecastOut,
)  # fmt: skip
def get_forecast(query: MonthQuery) -> ForecastOut:
    """Defaults to the current month."""
    from facility_app.facility.service import today

    month = query.month or month_of(today(facility(), now()))
    fc = views.forecast(db.session, current_actor(), facility(), month, now=now())
    return ForecastOut(
        month=fc.month,
        as_of=fc.as_of,
        service_days=fc.service_days,
        service_days_so_far=fc.service_days_so_far,
        total_so_far=fc.total_so_far,
        projected_total=fc.projected_total,
        full_total=fc.full_total,
        low_count=fc.low_count,
        lines=[
            ForecastLineOut(
                child_id=f.line.child_id,
                pseudonym=f.line.pseudonym,
                amount_so_far=f.line.amount,
                rate=f.line.rate,
                days_attended=f.line.days_attended,
                remaining_days=f.remaining_days,
                projected_days=f.projected_days,
                projected_amount=f.projected_amount,
                low=f.low,
            )
            for f in fc.lines
        ],
    )


@operation(
    "GET", "/settlements/report-body", summary="The month's totals for the hub, without names",
    tag="finance", perm=Perm.FINANCE_VIEW, query=MonthQuery,
)  # fmt: skip
def settlement_report_body(query: MonthQuery) -> dict[str, Any]:
    """Counts, amounts and pseudonymous ids only: the body of the ``settlement`` report."""
    current_actor().require(Perm.FINANCE_VIEW)
    month = query.month or default_month()
    require_not_future(facility(), month, now())
    return views.settlement_body(db.session, facility(), month)
