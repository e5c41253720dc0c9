"""Children's health rules: morning checks, illness follow-up, reported clusters."""

from __future__ import annotations

from datetime import timedelta

from edge_agent.compliance.base import Context, Status, Verdict
from facility_app.health import service as health


def morning_check(ctx: Context) -> Verdict:
    """Every present child checked; missing checks fail once the due time has passed."""
    status = health.check_status(ctx.session, ctx.facility, ctx.day)
    missing = len(status.missing)
    due = health.due_time(ctx.facility, ctx.day)
    evidence = {"present": len(status.present), "checked": len(status.checked),
                "missing": missing, "due": due.isoformat()}  # fmt: skip
    if not status.present:
        return Verdict(Status.PASS, "no child present", 0, 0, evidence)
    if missing == 0:
        return Verdict(Status.PASS, "every present child checked", 0, 0, evidence)
    if ctx.now < due:
        return Verdict(
            Status.WARN, f"{missing} present child(ren) not checked yet", missing, 0, evidence
        )
    return Verdict(
        Status.FAIL, f"{missing} present child(ren) without a morning check", missing, 0, evidence
    )


def absence_followup(ctx: Context) -> Verdict:
    """Every illness absence has a case record, within the policy's days."""
    hp = ctx.policy.health
    start = ctx.day - timedelta(days=hp.case_lookback_days + hp.followup_within_days)
    pending = health.pending_followups(ctx.session, ctx.facility, start, ctx.day)
    late = [a for a in pending if (ctx.day - a.day).days > hp.followup_within_days]
    evidence = {
        "pending": len(pending),
        "overdue": [{"class": a.class_id, "day": a.day.isoformat()} for a in late],
    }
    if late:
        return Verdict(
            Status.FAIL, f"{len(late)} illness absence(s) not followed up in time", len(late),
            hp.followup_within_days, evidence,
        )  # fmt: skip
    if pending:
        return Verdict(
            Status.WARN, f"{len(pending)} illness absence(s) waiting for follow-up", 0,
            hp.followup_within_days, evidence,
        )  # fmt: skip
    return Verdict(Status.PASS, "every illness absence followed up", 0, 0, evidence)


def cluster(ctx: Context) -> Verdict:
    """No cluster left unreported (a cluster alert is acknowledged once reported)."""
    health.detect_clusters(ctx.session, ctx.facility, ctx.now)
    open_ = health.unreported_clusters(ctx.session, ctx.facility)
    keys = ("rule", "syndrome", "cases", "report_by")
    evidence = {
        "unreported": [{"class": a.class_id} | {k: a.params.get(k) for k in keys} for a in open_]
    }
    if open_:
        return Verdict(
            Status.FAIL, f"{len(open_)} illness cluster(s) not reported", len(open_), 0, evidence
        )
    return Verdict(Status.PASS, "no unreported cluster", 0, 0, evidence)
