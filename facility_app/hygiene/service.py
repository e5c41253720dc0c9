"""Disinfection tasks and logs: limits of each method checked, overdue tasks computed.

A log's duration and concentration are first checked against sane bounds (always
refused outside them), then against the method's limits from the policy: refused, or,
where the policy says so, stored flagged (a flagged log does not count as done).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carewatch import validate
from carewatch.errors import DomainError, NotFound
from carewatch.policy import DisinfectionMethod, HygienePolicy
from facility_app.accounts.permissions import Actor, Perm
from facility_app.audit import service as audit
from facility_app.facility.models import Facility
from facility_app.facility.service import at_local, get_class, service_days, today
from facility_app.hygiene import compliance, rules
from facility_app.hygiene.models import DisinfectionLog, DisinfectionTask, Target

log = logging.getLogger(__name__)

MAX_TEXT = 500
#: Days of logs read to find a task's last done day; older history cannot change the answer
#: for tasks repeated at most monthly.
LOOKBACK_DAYS = 62


def _method(value: DisinfectionMethod | str) -> DisinfectionMethod:
    try:
        return DisinfectionMethod(value)
    except ValueError:
        raise DomainError("invalid_method", "Choose a method.", field="method") from None


def check_values(
    hp: HygienePolicy,
    method: DisinfectionMethod,
    duration_minutes: int | None,
    concentration_mg_l: int | None,
) -> list[str]:
    """Refuse insane values; return the method limits the values break (empty when fine)."""
    if duration_minutes is None or not 0 < duration_minutes <= hp.sane_max_minutes:
        raise DomainError(
            "invalid_duration", "Enter a duration between 1 and %(max)s minutes.",
            field="duration_minutes", max=hp.sane_max_minutes,
        )  # fmt: skip
    limits = hp.limits(method)
    if concentration_mg_l is not None and not 0 < concentration_mg_l <= hp.sane_max_mg_per_l:
        raise DomainError(
            "invalid_concentration", "Enter a concentration between 1 and %(max)s mg/L.",
            field="concentration_mg_l", max=hp.sane_max_mg_per_l,
        )  # fmt: skip
    if limits.needs_concentration and concentration_mg_l is None:
        raise DomainError(
            "concentration_required", "Enter the measured concentration in mg/L.",
            field="concentration_mg_l",
        )  # fmt: skip
    if not limits.needs_concentration and concentration_mg_l is not None:
        raise DomainError(
            "concentration_not_applicable", "This method has no concentration.",
            field="concentration_mg_l",
        )  # fmt: skip
    broken = []
    if duration_minutes < limits.min_minutes or (
        limits.max_minutes is not None and duration_minutes > limits.max_minutes
    ):
        broken.append("duration")
    if limits.needs_concentration and not (
        limits.min_mg_per_l <= concentration_mg_l <= limits.max_mg_per_l  # type: ignore[operator]
    ):
        broken.append("concentration")
    return broken


def _limits_error(hp: HygienePolicy, method: DisinfectionMethod, broken: list[str]) -> DomainError:
    limits = hp.limits(method)
    if "concentration" in broken:
        return DomainError(
            "concentration_out_of_range",
            "The concentration must be %(min)s–%(max)s mg/L for this method.",
            field="concentration_mg_l", min=limits.min_mg_per_l, max=limits.max_mg_per_l,
        )  # fmt: skip
    return DomainError(
        "duration_out_of_range",
        "The duration must be %(min)s–%(max)s minutes for this method.",
        field="duration_minutes", min=limits.min_minutes, max=limits.max_minutes or "—",
    )  # fmt: skip


def tasks(session: Session, *, active_only: bool = True) -> list[DisinfectionTask]:
    """Disinfection tasks by area and object."""
    stmt = select(DisinfectionTask).order_by(DisinfectionTask.area, DisinfectionTask.target)
    if active_only:
        stmt = stmt.where(DisinfectionTask.active.is_(True))
    return list(session.scalars(stmt))


def get_task(session: Session, task_id: int) -> DisinfectionTask:
    """One task; an unknown id is an area or object that has no schedule."""
    task = session.get(DisinfectionTask, task_id)
    if task is None or not task.active:
        raise NotFound("task_not_found", "No disinfection is scheduled for this area.")
    return task


def save_task(
    session: Session,
    actor: Actor,
    facility: Facility,
    *,
    now: datetime,
    area: str,
    target: Target | str,
    method: DisinfectionMethod | str,
    duration_minutes: int,
    concentration_mg_l: int | None = None,
    times_per_day: int = 1,
    every_days: int = 1,
    class_id: int | None = None,
    start_date: date | None = None,
    task_id: int | None = None,
) -> DisinfectionTask:
    """Create or change a schedule; its planned values must be within the method's limits."""
    actor.require(Perm.HYGIENE_PLAN)
    hp = facility.policy().hygiene
    area = validate.text(area, field="area", limit=60, required=True)
    try:
        target = Target(target)
    except ValueError:
        raise DomainError("invalid_target", "Choose what is disinfected.", field="target") from None
    method = _method(method)
    broken = check_values(hp, method, duration_minutes, concentration_mg_l)
    if broken:
        raise _limits_error(hp, method, broken)
    if not 1 <= times_per_day <= 24:
        raise DomainError("invalid_frequency", "Enter 1 to 24 times a day.", field="times_per_day")
    if not 1 <= every_days <= 31:
        raise DomainError(
            "invalid_frequency", "Enter every 1 to 31 service days.", field="every_days"
        )
    if class_id is not None:
        get_class(session, class_id)
    if task_id is None:
        task = DisinfectionTask(created_at=now, start_date=start_date or today(facility, now))
        session.add(task)
        before = None
    else:
        task = get_task(session, task_id)
        before = audit.snapshot(task)
    task.area, task.target, task.method, task.class_id = area, target, method, class_id
    task.duration_minutes, task.concentration_mg_l = duration_minutes, concentration_mg_l
    task.times_per_day, task.every_days = times_per_day, every_days
    audit.log_change(
        session, actor, now, "disinfection_task", "disinfection_task", task, before=before
    )
    return task


def log_task(
    session: Session,
    actor: Actor,
    facility: Facility,
    *,
    now: datetime,
    task_id: int,
    duration_minutes: int,
    concentration_mg_l: int | None = None,
    at: datetime | None = None,
    note: str = "",
    reason: str = "",
) -> DisinfectionLog:
    """Record one disinfection done, with the measured duration (and concentration)."""
    actor.require(Perm.HYGIENE_WRITE)
    hp = facility.policy().hygiene
    task = get_task(session, task_id)
    if task.class_id is not None:
        actor.require_class(task.class_id)
    reason = validate.text(reason, field="reason", limit=MAX_TEXT)
    note = validate.text(note, field="note", limit=MAX_TEXT)
    if at is None:
        at = now
    elif at.tzinfo is None:
        raise DomainError("invalid_time", "The time is not valid.", field="at")
    if at > now:
        raise DomainError("in_future", "Times cannot be in the future.", field="at")
    if at < now - timedelta(minutes=hp.backdate_without_reason_minutes) and not reason:
        raise DomainError(
            "reason_required", "An entry for an earlier time needs a reason.", field="reason"
        )
    broken = check_values(hp, task.method, duration_minutes, concentration_mg_l)
    if broken and hp.refuse_out_of_limits:
        raise _limits_error(hp, task.method, broken)
    entry = DisinfectionLog(
        task=task, day=today(facility, at), done_at=at, duration_minutes=duration_minutes,
        concentration_mg_l=concentration_mg_l, within_limits=not broken, note=note,
        recorded_at=now, recorded_by_id=actor.user_id,
    )  # fmt: skip
    session.add(entry)
    audit.log_change(
        session, actor, now, "disinfection_log", "disinfection_log", entry, reason=reason
    )
    return entry


@dataclass(frozen=True)
class TaskRow:
    """A task with its due state and today's logs."""

    task: DisinfectionTask
    due: rules.TaskDue
    logs_today: list[DisinfectionLog]

    @property
    def flagged_today(self) -> int:
        """Logs today outside the method's limits."""
        return sum(1 for entry in self.logs_today if not entry.within_limits)


def task_rows(
    session: Session, facility: Facility, now: datetime, class_ids: list[int] | None = None
) -> list[TaskRow]:
    """Every active task with whether it is overdue now (optionally only some classes')."""
    day = today(facility, now)
    open_days = set(service_days(session, facility, day - timedelta(days=LOOKBACK_DAYS),
                                 day + timedelta(days=rules.SEARCH_DAYS)))  # fmt: skip
    grace = timedelta(minutes=facility.policy().hygiene.overdue_grace_minutes)
    all_tasks = tasks(session)
    if class_ids is not None:
        all_tasks = [t for t in all_tasks if t.class_id is None or t.class_id in class_ids]
    ids = [t.id for t in all_tasks]
    # Good logs per task and day, counted by the database; only today's rows are loaded.
    done: dict[int, Counter[date]] = {}
    for task_id, log_day, n in session.execute(
        select(DisinfectionLog.task_id, DisinfectionLog.day, func.count())
        .where(
            DisinfectionLog.task_id.in_(ids),
            DisinfectionLog.day >= day - timedelta(days=LOOKBACK_DAYS),
            DisinfectionLog.within_limits.is_(True),
        )
        .group_by(DisinfectionLog.task_id, DisinfectionLog.day)
    ):
        done.setdefault(task_id, Counter())[log_day] = n
    todays: dict[int, list[DisinfectionLog]] = {}
    for entry in session.scalars(
        select(DisinfectionLog)
        .where(DisinfectionLog.task_id.in_(ids), DisinfectionLog.day == day)
        .order_by(DisinfectionLog.done_at)
    ):
        todays.setdefault(entry.task_id, []).append(entry)
    out = []
    for task in all_tasks:
        due = rules.task_due(
            start_date=max(task.start_date, day - timedelta(days=LOOKBACK_DAYS)),
            times_per_day=task.times_per_day,
            every_days=task.every_days,
            done_per_day=done.get(task.id, Counter()),
            today=day,
            now=now,
            is_service_day=open_days.__contains__,
            deadline=lambda d: at_local(facility, d, facility.closing_time),
            grace=grace,
        )
        out.append(TaskRow(task, due, todays.get(task.id, [])))
    return out


def overdue(session: Session, actor: Actor, facility: Facility, now: datetime) -> list[TaskRow]:
    """Overdue tasks, for the director's page (empty without the permission)."""
    if not actor.can(Perm.HYGIENE_VIEW):
        return []
    return [r for r in task_rows(session, facility, now) if r.due.overdue]


def findings(session: Session, facility: Facility, now: datetime) -> compliance.Finding:
    """``hygiene.disinfection`` now."""
    return compliance.disinfection(
        compliance.TaskState(
            area=r.task.area, target=r.task.target.value, method=r.task.method.value,
            due_day=r.due.due_day, overdue=r.due.overdue,
            overdue_minutes=r.due.overdue_minutes(now), flagged_today=r.flagged_today,
        )
        for r in task_rows(session, facility, now)
    )  # fmt: skip


def logs_between(session: Session, start: date, end: date) -> list[DisinfectionLog]:
    """Logs of the days [start, end] in time order, for sheets and exports."""
    return list(
        session.scalars(
            select(DisinfectionLog)
            .where(DisinfectionLog.day.between(start, end))
            .order_by(DisinfectionLog.done_at)
        )
    )
