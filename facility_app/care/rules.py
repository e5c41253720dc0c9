"""Pure rules of the care log: when sleep checks fall due, lapses, outdoor minutes.

Sleep checks (nap-time patrols, default every 15 minutes):

* A nap starts at ``S``. The first check is due at ``S + interval``; after a check at
  ``c`` the next is due at ``c + interval``. The schedule restarts from each actual
  check, so a late check does not make the following one due sooner.
* A check is *overdue* while it is unchecked and ``now > due + grace`` (strictly: at
  exactly ``due + grace`` it is not yet overdue).
* A check done at ``c > due + grace`` is *late*, by ``c - due``: a lapse is stored with
  ``seen_at = c``.
* If the nap ends at ``E > due + grace`` with no check since the last due time, that
  check was *missed*: a lapse is stored with ``seen_at = E`` and ``missed`` set.

Worked example (interval 15, grace 0): nap 13:00–14:00 with checks at 13:15 and 13:40.
Due 13:15, checked 13:15 (on time); next due 13:30, checked 13:40 (late by 10 minutes);
next due 13:55, nap ended 14:00 without a check (missed, 5 minutes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Lapse:
    """A sleep check that came late or never came."""

    due_at: datetime
    seen_at: datetime
    missed: bool

    @property
    def late_seconds(self) -> int:
        """How long after it fell due the child was seen."""
        return int((self.seen_at - self.due_at).total_seconds())


def next_check_due(
    started_at: datetime, checks: Iterable[datetime], interval: timedelta
) -> datetime:
    """When the next check on a sleeping child falls due: last check (or start) + interval."""
    last = max([started_at, *checks])
    return last + interval


def is_overdue(due: datetime, now: datetime, grace: timedelta = timedelta(0)) -> bool:
    """Whether a due check is overdue at ``now`` (strictly after ``due + grace``)."""
    return now > due + grace


def lapses(
    started_at: datetime,
    checks: Iterable[datetime],
    ended_at: datetime | None,
    interval: timedelta,
    grace: timedelta = timedelta(0),
) -> list[Lapse]:
    """The late and missed checks of one nap (an ongoing nap has no missed check yet)."""
    out: list[Lapse] = []
    due = started_at + interval
    for at in sorted(checks):
        if ended_at is not None and at > ended_at:
            break
        if at > due + grace:
            out.append(Lapse(due_at=due, seen_at=at, missed=False))
        due = at + interval
    if ended_at is not None and ended_at > due + grace:
        out.append(Lapse(due_at=due, seen_at=ended_at, missed=True))
    return out


def union_minutes(
    periods: Iterable[tuple[datetime, datetime | None]],
    window_start: datetime,
    window_end: datetime,
) -> int:
    """Whole minutes covered by the union of periods, clipped to a window.

    An open period (no end) lasts until ``window_end`` (pass ``now`` clipped to the day).
    Overlapping periods count once.
    """
    spans = []
    for start, end in periods:
        s = max(start, window_start)
        e = min(end or window_end, window_end)
        if e > s:
            spans.append((s, e))
    spans.sort()
    total = timedelta(0)
    cur_s: datetime | None = None
    cur_e: datetime | None = None
    for s, e in spans:
        if cur_e is None or s > cur_e:
            if cur_s is not None and cur_e is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_s is not None and cur_e is not None:
        total += cur_e - cur_s
    return int(total.total_seconds() // 60)


def outdoor_unreachable(
    minutes_so_far: int, now: datetime, closing: datetime, minimum: int
) -> bool:
    """Whether the day's outdoor minimum can no longer be reached.

    True when the minutes outdoors so far plus every minute left until closing is still
    below the minimum (the class would have to stay outside until closing and more).
    """
    left = max(0, int((closing - now).total_seconds() // 60))
    return minutes_so_far + left < minimum
