"""Food and hygiene rules from the kitchen and hygiene logs."""

from __future__ import annotations

from typing import Any

from edge_agent.compliance.base import Context, Status, Verdict
from facility_app.hygiene import service as hygiene
from facility_app.kitchen import service as kitchen


def _kitchen(ctx: Context) -> dict[str, Any]:
    # Both food rules come from one pass over the week's menu.
    return ctx.once("kitchen", lambda: kitchen.findings(ctx.session, ctx.facility, ctx.now))


def sample_retention(ctx: Context) -> Verdict:
    """Every dish served in the last week sampled, heavy enough and kept long enough."""
    found = _kitchen(ctx)["food.sample_retention"]
    if found.evidence.get("dishes_served") == 0:
        # No meal recorded is not every meal sampled.
        return Verdict(Status.UNKNOWN, "no dishes served in the last week are recorded")
    return Verdict.of(found)


def allergen(ctx: Context) -> Verdict:
    """No allergic child served a dish with their allergen without a substitute."""
    if _kitchen(ctx)["food.sample_retention"].evidence.get("dishes_served") == 0:
        return Verdict(Status.UNKNOWN, "no dishes served in the last week are recorded")
    return Verdict.of(_kitchen(ctx)["food.allergen"])


def disinfection(ctx: Context) -> Verdict:
    """Scheduled disinfection done, none overdue."""
    found = hygiene.findings(ctx.session, ctx.facility, ctx.now)
    if found.evidence.get("tasks") == 0:
        return Verdict(Status.UNKNOWN, "no disinfection schedule is set up")
    return Verdict.of(found)
