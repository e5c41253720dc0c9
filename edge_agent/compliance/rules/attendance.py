"""attendance.complete and attendance.pickup, on the attendance records and door alerts."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from carewatch.clock import local_day_bounds
from edge_agent.compliance.base import Context, Status, Verdict
from facility_app.alerts.models import Alert, AlertKind
from facility_app.attendance.models import AttendanceRecord, AttendanceStatus
from facility_app.facility.models import ClassRoom
from facility_app.facility.service import at_local

# How many of the open past days are listed in the evidence (the count covers all).
LISTED_DAYS = 7


def _class_ids(ctx: Context):  # type: ignore[no-untyped-def]
    # Every class of the facility, inactive ones too: their old records still count.
    return select(ClassRoom.id).where(ClassRoom.facility_id == ctx.facility.id)


def attendance_complete(ctx: Context) -> Verdict:
    """Fail while a check-in of a past day is still open, or one of today's after closing.

    Today's check-ins are open by nature until closing (plus the policy's late pick-up
    grace); from then on every child still checked in fails the rule, as does every
    check-in of an earlier day that was never closed or corrected. The value is the number
    of such open check-ins.
    """
    open_rows = ctx.session.execute(
        select(AttendanceRecord.day, AttendanceRecord.class_id).where(
            AttendanceRecord.class_id.in_(_class_ids(ctx)),
            AttendanceRecord.status == AttendanceStatus.PRESENT,
            AttendanceRecord.check_out_at.is_(None),
            AttendanceRecord.day <= ctx.day,
        )
    ).all()
    past = [(d, c) for d, c in open_rows if d < ctx.day]
    today_open = [c for d, c in open_rows if d == ctx.day]
    grace = timedelta(minutes=ctx.policy.attendance.late_pickup_grace_minutes)
    closed = ctx.now >= at_local(ctx.facility, ctx.day, ctx.facility.closing_time) + grace
    after_closing = len(today_open) if closed else 0
    failing = Counter(c for _, c in past) + (Counter(today_open) if closed else Counter())
    evidence = {
        "open_past_days": len(past),
        "days": sorted({d.isoformat() for d, _ in past}, reverse=True)[:LISTED_DAYS],
        "open_after_closing": after_closing,
        "checked_in_now": len(today_open),
        "classes": {str(c): n for c, n in sorted(failing.items())},
    }
    total = len(past) + after_closing
    if total:
        return Verdict(
            Status.FAIL,
            f"{len(past)} check-in(s) of past days and {after_closing} after closing still open",
            total,
            0,
            evidence,
        )
    return Verdict(Status.PASS, "every check-in due to be closed is closed", 0, 0, evidence)


def attendance_pickup(ctx: Context) -> Verdict:
    """Refused pick-ups today: ``fail`` while one is not yet acknowledged, else ``warn``.

    The door refuses anyone not authorised for the child, so a refusal means the control
    worked; it still needs the director's attention, hence ``fail`` until the alert is
    acknowledged and ``warn`` for the rest of the day. A check-out today with no recorded
    pick-up person (a time correction) cannot show an authorised hand-over: ``warn``.
    """
    start, end = local_day_bounds(ctx.day, ctx.facility.timezone)
    refused = ctx.session.execute(
        select(Alert.class_id, Alert.acknowledged_at).where(
            Alert.facility_id == ctx.facility.id,
            Alert.kind == AlertKind.UNAUTHORISED_PICKUP,
            Alert.created_at >= start,
            Alert.created_at < end,
        )
    ).all()
    unacknowledged = sum(1 for _, ack in refused if ack is None)
    no_person = len(
        ctx.session.scalars(
            select(AttendanceRecord.id).where(
                AttendanceRecord.class_id.in_(_class_ids(ctx)),
                AttendanceRecord.day == ctx.day,
                AttendanceRecord.check_out_at.is_not(None),
                AttendanceRecord.picked_up_by_id.is_(None),
            )
        ).all()
    )
    by_class = Counter(c for c, _ in refused if c is not None)
    evidence = {
        "refused_today": len(refused),
        "unacknowledged": unacknowledged,
        "checkouts_without_person": no_person,
        "classes": {str(c): n for c, n in sorted(by_class.items())},
    }
    if unacknowledged:
        message = f"{unacknowledged} refused pick-up(s) today not yet acknowledged"
        return Verdict(Status.FAIL, message, len(refused), 0, evidence)
    if refused or no_person:
        message = (
            f"{len(refused)} refused pick-up(s) today, all acknowledged; "
            f"{no_person} check-out(s) without a recorded pick-up person"
        )
        return Verdict(Status.WARN, message, len(refused), 0, evidence)
    return Verdict(Status.PASS, "no refused pick-ups today", 0, 0, evidence)
