"""Staff rules from the credentials summary: certificates, exams, training, the ban list."""

from __future__ import annotations

from edge_agent.compliance.base import Context, Status, Verdict
from facility_app.credentials.summary import Finding, StaffSummary, findings, staff_summary


def _findings(ctx: Context) -> dict[str, Finding]:
    # The four staff rules share one summary per evaluation (five queries, not twenty).
    cache: dict[str, Finding] | None = getattr(ctx, "_staff_findings", None)
    if cache is None:
        summary: StaffSummary = staff_summary(ctx.session, ctx.facility, ctx.day)
        cache = findings(summary)
        ctx._staff_findings = cache  # type: ignore[attr-defined]
    return cache


def _verdict(ctx: Context, rule_id: str) -> Verdict:
    found = _findings(ctx)[rule_id]
    return Verdict(
        status=Status(found.status),
        message=found.message,
        value=found.value,
        threshold=found.threshold,
        evidence=found.evidence,
    )


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
