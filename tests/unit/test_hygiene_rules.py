"""When a disinfection task is overdue: across midnight, across a weekend, twice a day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from facility_app.hygiene.compliance import TaskState, disinfection
from facility_app.hygiene.rules import task_due

SH = ZoneInfo("Asia/Shanghai")
MON = date(2026, 3, 9)
TUE, WED, FRI, SAT, SUN = (MON + timedelta(days=n) for n in (1, 2, 4, 5, 6))
NEXT_MON = MON + timedelta(days=7)
CLOSING = time(17, 30)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=SH)


def due(done: dict[date, int], now: datetime, *, times: int = 1, every: int = 1, start=MON):  # type: ignore[no-untyped-def]
    return task_due(
        start_date=start,
        times_per_day=times,
        every_days=every,
        done_per_day=done,
        today=now.date(),
        now=now,
        is_service_day=lambda d: d.weekday() < 5,
        deadline=lambda d: datetime.combine(d, CLOSING, tzinfo=SH),
    )


def test_done_monday_is_due_tuesday_and_overdue_after_closing_across_midnight():
    done = {MON: 1}
    assert due(done, at(TUE, 17, 30)).overdue is False  # at the deadline exactly: not yet
    late = due(done, at(TUE, 17, 31))
    assert (late.due_day, late.overdue) == (TUE, True)
    after_midnight = due(done, at(WED, 0, 30))
    assert after_midnight.overdue is True
    assert after_midnight.overdue_minutes(at(WED, 0, 30)) == 7 * 60
    # Done on Wednesday morning: due Thursday, not overdue any more.
    assert due({MON: 1, WED: 1}, at(WED, 9)).overdue is False


def test_done_friday_is_not_overdue_over_the_weekend_but_is_on_monday_evening():
    done = {FRI: 1}
    for now in (at(SAT, 10), at(SUN, 23, 59), at(NEXT_MON, 17, 30)):
        state = due(done, now)
        assert (state.due_day, state.overdue) == (NEXT_MON, False), now
    assert due(done, at(NEXT_MON, 17, 31)).overdue is True


def test_missed_friday_stays_overdue_through_the_weekend():
    done = {TUE + timedelta(days=2): 1}  # Thursday
    assert due(done, at(FRI, 17, 31)).overdue is True
    assert due(done, at(SUN, 12)).overdue is True


def test_twice_a_day_needs_both():
    once = due({MON: 2, TUE: 1}, at(TUE, 17, 31), times=2)
    assert (once.due_day, once.overdue, once.done_today) == (TUE, True, 1)
    assert due({MON: 2, TUE: 2}, at(TUE, 17, 31), times=2).overdue is False


def test_never_done_is_due_on_the_first_service_day_from_the_start():
    assert due({}, at(SAT, 9), start=SAT).due_day == NEXT_MON
    assert due({}, at(MON, 17, 31), start=MON).overdue is True


def test_weekly_task_counts_service_days():
    state = due({MON: 1}, at(FRI, 18), every=5)
    assert (state.due_day, state.overdue) == (NEXT_MON, False)


def test_finding_fails_while_a_task_is_overdue_and_names_the_area():
    ok = TaskState("托小班活动室", "air", "ventilation", TUE, False)
    late = TaskState("厨房", "tableware", "steaming", MON, True, overdue_minutes=90)
    f = disinfection([ok, late])
    assert (f.status, f.value) == ("fail", 1)
    assert f.evidence["overdue"] == [
        {"area": "厨房", "target": "tableware", "method": "steaming", "due_day": "2026-03-09",
         "overdue_minutes": 90}
    ]  # fmt: skip
    assert disinfection([ok]).status == "pass"
    flagged = TaskState("毛巾", "towels", "chlorine", TUE, False, flagged_today=1)
    assert disinfection([flagged]).status == "warn"
