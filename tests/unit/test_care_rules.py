"""Hand-worked cases for sleep-check timing and the outdoor minimum."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from facility_app.care.rules import (
    Lapse,
    is_overdue,
    lapses,
    next_check_due,
    outdoor_unreachable,
    union_minutes,
)

I15 = timedelta(minutes=15)


def t(hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(2026, 3, 10, hh, mm, ss, tzinfo=UTC)


def test_first_check_is_due_one_interval_after_the_nap_starts():
    assert next_check_due(t(13, 0), [], I15) == t(13, 15)


def test_next_check_is_due_one_interval_after_the_last_check():
    assert next_check_due(t(13, 0), [t(13, 10), t(13, 22)], I15) == t(13, 37)


def test_overdue_boundary_exactly_at_due_is_not_overdue():
    due = next_check_due(t(14, 45), [], I15)
    assert due == t(15, 0)
    assert not is_overdue(due, t(15, 0))
    assert is_overdue(due, t(15, 0, 1))


def test_overdue_boundary_with_grace():
    due = t(15, 0)
    grace = timedelta(minutes=2)
    assert not is_overdue(due, t(15, 2), grace)
    assert is_overdue(due, t(15, 2, 1), grace)


def test_worked_example_late_and_missed_checks():
    # Nap 13:00-14:00, checks 13:15 (on time) and 13:40 (due 13:30: 10 min late);
    # next due 13:55, nap ends 14:00 without a check: missed, 5 min.
    found = lapses(t(13, 0), [t(13, 15), t(13, 40)], t(14, 0), I15)
    assert found == [
        Lapse(due_at=t(13, 30), seen_at=t(13, 40), missed=False),
        Lapse(due_at=t(13, 55), seen_at=t(14, 0), missed=True),
    ]
    assert [lapse.late_seconds for lapse in found] == [600, 300]


def test_checks_exactly_on_time_leave_no_lapse():
    assert lapses(t(13, 0), [t(13, 15), t(13, 30), t(13, 45)], t(14, 0), I15) == []


def test_check_one_second_late_is_a_lapse():
    found = lapses(t(13, 0), [t(13, 15, 1)], t(13, 20), I15)
    assert found == [Lapse(due_at=t(13, 15), seen_at=t(13, 15, 1), missed=False)]


def test_ongoing_nap_has_no_missed_check_yet():
    assert lapses(t(13, 0), [], None, I15) == []


def test_short_nap_needs_no_check():
    assert lapses(t(13, 0), [], t(13, 15), I15) == []


def test_union_of_overlapping_periods_counts_once_and_is_clipped():
    periods = [(t(9, 0), t(10, 0)), (t(9, 30), t(10, 30)), (t(15, 0), None)]
    assert union_minutes(periods, t(0, 0), t(15, 20)) == 110
    assert union_minutes([(t(8, 0), t(9, 0))], t(8, 30), t(23, 0)) == 30
    assert union_minutes([], t(0, 0), t(23, 0)) == 0


def test_outdoor_minimum_reachable_exactly_and_not():
    closing = t(17, 30)
    # 60 min so far, 60 min left: exactly 120 is still reachable.
    assert not outdoor_unreachable(60, t(16, 30), closing, 120)
    # One minute later only 119 can be reached.
    assert outdoor_unreachable(60, t(16, 31), closing, 120)
    assert not outdoor_unreachable(120, t(17, 29), closing, 120)
    assert outdoor_unreachable(0, t(18, 0), closing, 120)
