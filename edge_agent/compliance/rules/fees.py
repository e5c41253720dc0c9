"""普惠 fees within their caps (the fee schedule against the locality's income figure)."""

from __future__ import annotations

from edge_agent.compliance.base import Context, Status, Verdict
from facility_app.fees.service import fee_items, over_cap


def fee_cap(ctx: Context) -> Verdict:
    """Every fee of a 普惠 facility at or under its cap."""
    if not ctx.facility.puhui_certified:
        return Verdict(Status.PASS, "not a 普惠 facility: no fee caps apply")
    if ctx.policy.fees.per_capita_disposable_income is None:
        return Verdict(
            Status.UNKNOWN, "the locality profile sets no income figure, so no cap is known"
        )
    if not fee_items(ctx.session, ctx.facility):
        return Verdict(Status.UNKNOWN, "no fee schedule is set up")
    over = over_cap(ctx.session, ctx.facility)
    evidence = {
        "over": [
            {"class_type": r.class_type.value, "care_type": r.care_type.value,
             "fee": str(r.item.amount), "cap": str(r.cap.limit)}
            for r in over
        ]
    }  # fmt: skip
    if over:
        return Verdict(Status.FAIL, f"{len(over)} fee(s) over their cap", len(over), 0, evidence)
    return Verdict(Status.PASS, "every fee within its cap", 0, 0, evidence)
