"""Class-size and ratio rules, hand-worked from the national setting standard."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from carewatch.policy import DEFAULT_POLICY, ClassType, load_policy
from facility_app.ratio.models import BreachKind
from facility_app.ratio.rules import (
    age_fits,
    age_in_months,
    evaluate,
    required_caregivers,
    size_limit,
)
from facility_app.ratio.service import _Interval, compute_breaches

INFANT = DEFAULT_POLICY.class_rule(ClassType.INFANT)
TODDLER = DEFAULT_POLICY.class_rule(ClassType.TODDLER)
OLDER = DEFAULT_POLICY.class_rule(ClassType.OLDER)
MIXED = DEFAULT_POLICY.class_rule(ClassType.MIXED)


@pytest.mark.parametrize(
    ("rule", "present", "needed"),
    [
        (INFANT, 0, 0),
        (INFANT, 1, 1),
        (INFANT, 3, 1),  # exactly 1:3
        (INFANT, 4, 2),  # one over
        (INFANT, 7, 3),
        (INFANT, 10, 4),
        (TODDLER, 5, 1),
        (TODDLER, 6, 2),
        (TODDLER, 15, 3),
        (OLDER, 7, 1),
        (OLDER, 8, 2),
        (OLDER, 20, 3),
        (MIXED, 18, 4),
    ],
)
def test_required_caregivers(rule, present, needed):
    assert required_caregivers(present, rule) == needed


def test_default_limits_match_the_standard():
    limits = {
        t: (r.max_children, r.children_per_caregiver) for t, r in DEFAULT_POLICY.classes.items()
    }
    assert limits == {
        ClassType.INFANT: (10, 3),
        ClassType.TODDLER: (15, 5),
        ClassType.OLDER: (20, 7),
        ClassType.MIXED: (18, 5),
    }


def test_size_limit_is_the_lower_of_policy_and_room():
    assert size_limit(TODDLER, 12) == 12
    assert size_limit(TODDLER, 40) == 15


def test_evaluate_flags_ratio_and_capacity_separately():
    at_limit = evaluate(15, 3, TODDLER, 15)
    assert at_limit.ok and at_limit.required == 3
    short = evaluate(11, 2, TODDLER, 15)  # 11 children need 3
    assert not short.ratio_ok and short.capacity_ok and short.required == 3
    crowded = evaluate(16, 4, TODDLER, 15)
    assert crowded.ratio_ok and not crowded.capacity_ok


def test_profile_overrides_a_ratio():
    policy = load_policy({"classes": {"mixed": {"children_per_caregiver": 4}}})
    rule = policy.class_rule(ClassType.MIXED)
    assert rule.children_per_caregiver == 4 and rule.max_children == 18
    assert required_caregivers(9, rule) == 3
    # The defaults are untouched.
    assert DEFAULT_POLICY.class_rule(ClassType.MIXED).children_per_caregiver == 5


def test_profile_with_unknown_key_is_refused():
    with pytest.raises(ValueError):
        load_policy({"classes": {"mixed": {"children_per_nurse": 4}}})


@pytest.mark.parametrize(
    ("birth", "on", "months"),
    [
        (date(2025, 3, 10), date(2026, 3, 10), 12),
        (date(2025, 3, 10), date(2026, 3, 9), 11),
        (date(2025, 1, 31), date(2025, 2, 28), 1),  # end of a shorter month completes it
        (date(2024, 1, 31), date(2024, 2, 29), 1),
        (date(2025, 1, 15), date(2025, 2, 14), 0),
    ],
)
def test_age_in_months(birth, on, months):
    assert age_in_months(birth, on) == months


def test_age_band_is_min_inclusive_max_exclusive():
    birth = date(2025, 3, 10)
    assert age_fits(birth, date(2026, 3, 9), INFANT)  # 11 months
    assert not age_fits(birth, date(2026, 3, 10), INFANT)  # 12 months: outgrown
    assert age_fits(birth, date(2026, 3, 10), TODDLER)
    assert not age_fits(birth, date(2025, 9, 9), INFANT)  # 5 months: too young
    assert age_fits(birth, date(2026, 9, 10), MIXED)  # 18 months


def _t(hhmm: str) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime(2026, 3, 10, h, m, tzinfo=UTC)


def _eval(rule, capacity):  # type: ignore[no-untyped-def]
    return lambda kids, staff: evaluate(kids, staff, rule, capacity)


def test_replay_finds_each_breach_with_its_start_and_end():
    # Toddler class, room for 5. Five children from 08:00; the caregiver comes at 09:00.
    # A sixth child 09:30–09:45 needs a second caregiver and overfills the room.
    children = [_Interval(_t("08:00"), _t("11:00")) for _ in range(5)]
    children.append(_Interval(_t("09:30"), _t("09:45")))
    staff = [_Interval(_t("09:00"), _t("11:00"))]
    found = compute_breaches(children, staff, _eval(TODDLER, 5))
    summary = [
        (b.kind, b.started_at, b.ended_at, b.peak_children, b.min_caregivers, b.limit)
        for b in found
    ]
    assert summary == [
        (BreachKind.RATIO, _t("08:00"), _t("09:00"), 5, 0, 1),
        (BreachKind.CAPACITY, _t("09:30"), _t("09:45"), 6, 1, 5),
        (BreachKind.RATIO, _t("09:30"), _t("09:45"), 6, 1, 2),
    ]


def test_replay_hand_over_at_the_same_minute_is_not_a_breach():
    children = [_Interval(_t("09:00"), _t("11:00")) for _ in range(3)]
    staff = [_Interval(_t("09:00"), _t("10:00")), _Interval(_t("10:00"), _t("11:00"))]
    assert compute_breaches(children, staff, _eval(INFANT, 10)) == []


def test_replay_leaves_an_ongoing_breach_open():
    children = [_Interval(_t("09:00"), None) for _ in range(4)]
    staff = [_Interval(_t("09:00"), None)]
    (breach,) = compute_breaches(children, staff, _eval(INFANT, 10))
    assert breach.kind == BreachKind.RATIO
    assert breach.started_at == _t("09:00") and breach.ended_at is None
    assert (breach.peak_children, breach.min_caregivers, breach.limit) == (4, 1, 2)


def test_replay_tracks_the_worst_point_of_a_breach():
    # 1:3 class, one caregiver: 4 children at 09:00, 7 at 09:10, back to 3 at 09:40.
    children = [_Interval(_t("09:00"), _t("12:00")) for _ in range(3)]
    children.append(_Interval(_t("09:00"), _t("09:40")))
    children += [_Interval(_t("09:10"), _t("09:40")) for _ in range(3)]
    staff = [_Interval(_t("08:00"), _t("12:00"))]
    (breach,) = compute_breaches(children, staff, _eval(INFANT, 10))
    assert (breach.started_at, breach.ended_at) == (_t("09:00"), _t("09:40"))
    assert (breach.peak_children, breach.min_caregivers, breach.limit) == (7, 1, 3)
