"""Staff rules from the credentials summary: certificates, exams, training, the ban list."""

from __future__ import annotations

from edge_agent.compliance.base import Context, Verdict
from facility_app.credentials.summary import findings, staff_summary


def _verdict(ctx: Context, rule_id: str) -> Verdict:
    # The four staff rules share one summary per evaluation (five queries, not twenty).
    found = ctx.once("staff", lambda: findings(staff_summary(ctx.session, ctx.facility, ctx.day)))
    return Verdict.of(found[rule_id])


def certified(ctx: Context) -> Verdict:
    """The certified share of caregivers against the locality's target."""
    return _verdict(ctx, "staff.certified")


def health_exam(ctx: Context) -> Verdict:
    """Every employed staff member has a fit, unexpired health exam."""
    return _verdict(ctx, "staff.health_exam")


def training_hours(ctx: Context) -> Verdict:
    """Training hours on pace for the year's minimum."""
    return _verdict(ctx, "staff.training_hours")


def ban_list(ctx: Context) -> Verdict:
    """Nobody employed matches the ban list (unknown until a list is imported)."""
    return _verdict(ctx, "staff.ban_list")
