"""care.sleep_checks and care.outdoor_time, on the care log's rules and services."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from edge_agent.compliance.base import Context, Status, Verdict
from facility_app.attendance.models import AttendanceRecord, AttendanceStatus
from facility_app.care import rules as care_rules
from facility_app.care.models import SleepCheckLapse
from facility_app.care.service import outdoor_minutes, sleeping
from facility_app.facility.models import ClassRoom
from facility_app.facility.service import at_local


def sleep_checks(ctx: Context) -> Verdict:
    """Fail on any sleep-check lapse stored today, or a check overdue right now.

    A lapse is a check that came late or never came before the nap ended (see
    ``facility_app.care.rules``); an overdue check is one a sleeping child is waiting for.
    The value is lapses today plus overdue checks now.
    """
    class_ids = list(
        ctx.session.scalars(select(ClassRoom.id).where(ClassRoom.facility_id == ctx.facility.id))
    )
    lapses = ctx.session.execute(
        select(SleepCheckLapse.class_id, SleepCheckLapse.missed).where(
            SleepCheckLapse.day == ctx.day, SleepCheckLapse.class_id.in_(class_ids)
        )
    ).all()
    asleep = sleeping(ctx.session, ctx.facility, class_ids, ctx.now)
    overdue = [s.nap.class_id for s in asleep if s.overdue]
    by_lapse, by_overdue = Counter(c for c, _ in lapses), Counter(overdue)
    evidence = {
        "interval_minutes": ctx.policy.care.sleep_check_interval_minutes,
        "lapses_today": len(lapses),
        "missed_today": sum(1 for _, missed in lapses if missed),
        "sleeping_now": len(asleep),
        "overdue_now": len(overdue),
        "classes": {
            str(c): {"lapses": by_lapse[c], "overdue": by_overdue[c]}
            for c in sorted(set(by_lapse) | set(by_overdue))
        },
    }
    total = len(lapses) + len(overdue)
    if total:
        message = f"{len(lapses)} sleep-check lapse(s) today, {len(overdue)} check(s) overdue now"
        return Verdict(Status.FAIL, message, total, 0, evidence)
    return Verdict(Status.PASS, "every sleeping child checked on time", 0, 0, evidence)


def outdoor_time(ctx: Context) -> Verdict:
    """Warn when, from the policy's warning time, a class cannot reach the outdoor minimum.

    Only classes with a child present today are judged. Before the warning time the rule
    passes (the day's outdoor time is not yet due); from then on a class whose outdoor
    minutes so far plus every minute left until closing stay below the minimum makes the
    rule ``warn``, not ``fail``: the norm lets bad weather move activity indoors, so a
    short day is for the director to explain, not a breach by itself. The value is the
    number of classes short.
    """
    care = ctx.policy.care
    present = set(
        ctx.session.scalars(
            select(AttendanceRecord.class_id).where(
                AttendanceRecord.day == ctx.day,
                AttendanceRecord.status == AttendanceStatus.PRESENT,
                AttendanceRecord.class_id.in_([r.id for r in ctx.rooms]),
            )
        )
    )
    minutes = {
        r.id: outdoor_minutes(ctx.session, ctx.facility, r.id, ctx.day, ctx.now)
        for r in ctx.rooms
        if r.id in present
    }
    cutoff = at_local(ctx.facility, ctx.day, care.outdoor_warning_after)
    closing = at_local(ctx.facility, ctx.day, ctx.facility.closing_time)
    judged = ctx.now >= cutoff
    short = (
        [
            c
            for c, m in minutes.items()
            if care_rules.outdoor_unreachable(m, ctx.now, closing, care.outdoor_minimum_minutes)
        ]
        if judged
        else []
    )
    evidence = {
        "minimum_minutes": care.outdoor_minimum_minutes,
        "judged_from": care.outdoor_warning_after.strftime("%H:%M"),
        "classes": {str(c): m for c, m in minutes.items()},
        "short": short,
    }
    if short:
        minimum = care.outdoor_minimum_minutes
        message = f"{len(short)} class(es) cannot reach {minimum} outdoor minutes"
        return Verdict(Status.WARN, message, len(short), 0, evidence)
    if not judged:
        message = f"outdoor time is judged from {evidence['judged_from']}"
        return Verdict(Status.PASS, message, 0, 0, evidence)
    return Verdict(Status.PASS, "every class can reach the outdoor minimum", 0, 0, evidence)
