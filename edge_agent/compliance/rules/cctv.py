"""CCTV rules from the stored probe and retention results of the camera registry."""

from __future__ import annotations

from edge_agent.compliance.base import Context, Verdict
from monitoring import compliance as cctv


def coverage(ctx: Context) -> Verdict:
    """Every required zone has at least one camera healthy now."""
    return Verdict.of(cctv.coverage_finding(ctx.session, ctx.now))


def health(ctx: Context) -> Verdict:
    """Every enabled camera online with a sound picture."""
    return Verdict.of(cctv.health_finding(ctx.session, ctx.now))


def retention(ctx: Context) -> Verdict:
    """Unbroken recordings for the retention period, per camera."""
    return Verdict.of(cctv.retention_finding(ctx.session, ctx.now))


def retention_forecast(ctx: Context) -> Verdict:
    """The store holds the retention period at the measured write rate."""
    return Verdict.of(cctv.forecast_finding(ctx.session, ctx.now))
