"""class.size and class.ratio, on the ratio domain's rules and live status."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from edge_agent.compliance.base import Context, Status, Verdict
from facility_app.children.models import Enrolment
from facility_app.facility.models import ClassRoom
from facility_app.ratio.models import BreachKind, ClassBreach
from facility_app.ratio.rules import size_limit
from facility_app.ratio.service import live_status


def _enrolled(ctx: Context, rooms: list[ClassRoom], day: date) -> dict[int, int]:
    return dict(
        ctx.session.execute(
            select(Enrolment.class_id, func.count())
            .where(
                Enrolment.class_id.in_([r.id for r in rooms]),
                Enrolment.start_date <= day,
                (Enrolment.end_date.is_(None)) | (Enrolment.end_date >= day),
            )
            .group_by(Enrolment.class_id)
        ).all()
    )


def class_size(ctx: Context) -> Verdict:
    """Fail while any class has more children enrolled today than its size limit.

    The limit is the lower of the policy's class-size maximum and the room's capacity.
    The value is the number of classes over their limit.
    """
    rooms = ctx.rooms
    if not rooms:
        return Verdict(Status.UNKNOWN, "no classes are set up")
    enrolled = _enrolled(ctx, rooms, ctx.day)
    classes = []
    over = 0
    for room in rooms:
        limit = size_limit(ctx.policy.class_rule(room.class_type), room.capacity)
        count = enrolled.get(room.id, 0)
        over += count > limit
        classes.append(
            {"class": room.id, "type": room.class_type.value, "enrolled": count, "limit": limit}
        )
    status = Status.FAIL if over else Status.PASS
    message = f"{over} class(es) over their size limit" if over else "every class within its limit"
    return Verdict(status, message, value=over, threshold=0, evidence={"classes": classes})


def class_ratio(ctx: Context) -> Verdict:
    """Fail while any class has fewer counted caregivers on duty than its present children need.

    A class that is in ratio now but was out of ratio earlier today makes the rule ``warn``
    (the stored breach periods are the record an inspector reads). The value is the number
    of classes out of ratio now.
    """
    rooms = ctx.rooms
    if not rooms:
        return Verdict(Status.UNKNOWN, "no classes are set up")
    statuses = live_status(ctx.session, ctx.facility, rooms, ctx.now)
    earlier = dict(
        ctx.session.execute(
            select(ClassBreach.class_id, func.count())
            .where(
                ClassBreach.class_id.in_([r.id for r in rooms]),
                ClassBreach.day == ctx.day,
                ClassBreach.kind == BreachKind.RATIO,
            )
            .group_by(ClassBreach.class_id)
        ).all()
    )
    classes = []
    out_now = 0
    for room in rooms:
        s = statuses[room.id]
        out_now += not s.ratio_ok
        classes.append(
            {
                "class": room.id,
                "present": s.present,
                "caregivers": s.caregivers,
                "required": s.required,
                "children_per_caregiver": s.children_per_caregiver,
                "breaches_today": earlier.get(room.id, 0),
            }
        )
    evidence = {"classes": classes}
    if out_now:
        return Verdict(Status.FAIL, f"{out_now} class(es) out of ratio now", out_now, 0, evidence)
    if any(earlier.values()):
        classes_earlier = sum(1 for v in earlier.values() if v)
        return Verdict(
            Status.WARN,
            f"in ratio now; {classes_earlier} class(es) were out of ratio earlier today",
            0,
            0,
            evidence,
        )
    return Verdict(Status.PASS, "every class in ratio", 0, 0, evidence)
