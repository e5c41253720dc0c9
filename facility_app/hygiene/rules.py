"""When a disinfection task is due and when it is overdue (pure, no database).

A task needs ``times_per_day`` logs (within the method's limits) on a day to count as done
that day, and is repeated every ``every_days`` *service* days. Days the facility is closed
(weekends, holidays) do not count:

* The last *done day* is the latest day with at least ``times_per_day`` good logs.
* The *due day* is the ``every_days``-th service day after the last done day; before the
  first done day it is the first service day on or after the task's start date.
* The task is due by the facility's closing time on the due day, and overdue strictly
  after that time plus the grace. It stays overdue (across midnight, across a weekend)
  until a day is done.

Worked examples (daily, once a day, closing 17:30, Monday to Friday):
done Monday 10:00 → due Tuesday 17:30; at Tuesday 17:30 not yet overdue, at 17:31 and at
Wednesday 00:30 overdue. Done Friday 16:00 → due Monday 17:30: not overdue on Saturday or
Sunday, overdue on Monday at 17:31.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

#: How far ahead a due day is searched (a year of closed days would be a configuration error).
SEARCH_DAYS = 400


@dataclass(frozen=True)
class TaskDue:
    """A task's due day and deadline, whether it is overdue, and today's progress."""

    due_day: date | None
    due_at: datetime | None
    overdue: bool
    done_today: int
    needed_today: int

    def overdue_minutes(self, now: datetime) -> int:
        """Minutes past the deadline (0 when not overdue)."""
        if not self.overdue or self.due_at is None:
            return 0
        return int((now - self.due_at).total_seconds() // 60)


def _nth_service_day(after: date, n: int, is_service_day: Callable[[date], bool]) -> date | None:
    """The n-th service day strictly after ``after``."""
    d, seen = after, 0
    for _ in range(SEARCH_DAYS):
        d += timedelta(days=1)
        if is_service_day(d):
            seen += 1
            if seen == n:
                return d
    return None


def task_due(
    *,
    start_date: date,
    times_per_day: int,
    every_days: int,
    done_per_day: Mapping[date, int],
    today: date,
    now: datetime,
    is_service_day: Callable[[date], bool],
    deadline: Callable[[date], datetime],
    grace: timedelta = timedelta(0),
) -> TaskDue:
    """Compute one task's due day and overdue state at ``now`` from its good logs per day."""
    done_days = [d for d, n in done_per_day.items() if n >= times_per_day and d <= today]
    if done_days:
        due_day = _nth_service_day(max(done_days), every_days, is_service_day)
    else:
        first = start_date - timedelta(days=1)
        due_day = _nth_service_day(first, 1, is_service_day)
    due_at = deadline(due_day) if due_day is not None else None
    overdue = due_at is not None and now > due_at + grace
    return TaskDue(
        due_day=due_day,
        due_at=due_at,
        overdue=overdue,
        done_today=done_per_day.get(today, 0),
        needed_today=times_per_day if due_day == today or overdue else 0,
    )
