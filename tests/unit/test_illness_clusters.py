"""Cluster rules of the reporting norm, each at and just below its threshold."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from carewatch.policy import HealthPolicy
from health_records.illness import Case, find_clusters, syndrome

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
D = date(2026, 3, 10)
POLICY = HealthPolicy()


def _cases(specs: list[tuple[int, int, str]], start: int = 1) -> list[Case]:
    """(class id, days before D, syndrome) → cases numbered from ``start``."""
    return [
        Case(start + i, cls, D - timedelta(days=ago), syn)
        for i, (cls, ago, syn) in enumerate(specs)
    ]


def _rules(cases: list[Case]) -> list[tuple[str, int | None, str, int]]:
    return [
        (c.rule, c.class_id, c.syndrome, len(c.case_ids)) for c in find_clusters(cases, POLICY, NOW)
    ]


@pytest.mark.parametrize(
    ("symptoms", "temp", "disease", "expected"),
    [
        (["fever", "cough"], "38.0", "", "influenza_like"),
        (["fever", "cough"], "37.9", "", "fever_respiratory"),
        (["sore_throat"], "38.5", "", "influenza_like"),
        (["fever"], "38.5", "", "fever"),
        ([], "37.3", "", "fever"),
        ([], "37.2", "", "other"),
        (["vomiting"], None, "", "gastrointestinal"),
        (["rash", "fever"], "38.2", "", "rash"),
        (["rash"], None, "hfmd", "hfmd"),
        (["red_eyes"], None, "", "red_eyes"),
    ],
)
def test_syndromes(symptoms: list[str], temp: str | None, disease: str, expected: str) -> None:
    value = Decimal(temp) if temp else None
    assert syndrome(symptoms, value, disease, POLICY) == expected


def test_three_similar_cases_in_one_class_on_one_day_and_two_do_not() -> None:
    two = _cases([(1, 0, "gastrointestinal"), (1, 0, "gastrointestinal")])
    assert _rules(two) == []
    three = [*two, *_cases([(1, 0, "gastrointestinal")], start=3)]
    assert _rules(three) == [("class_same_day", 1, "gastrointestinal", 3)]
    # Different syndromes or another class do not add up.
    mixed = [*two, *_cases([(1, 0, "fever"), (2, 0, "gastrointestinal")], start=3)]
    assert _rules(mixed) == []


def test_five_similar_cases_in_three_days_and_four_do_not() -> None:
    four = _cases([(1, 2, "fever"), (1, 2, "fever"), (1, 1, "fever"), (1, 0, "fever")])
    assert _rules(four) == []
    five = [*four, *_cases([(1, 0, "fever")], start=5)]
    # Two on the last day plus three before: also not three on one day.
    assert _rules(five) == [("class_three_days", 1, "fever", 5)]
    # Spread over four days the fifth case is too late for the first one's window.
    spread = _cases([(1, 3, "fever"), (1, 2, "fever"), (1, 2, "fever"), (1, 1, "fever"),
                     (1, 0, "fever")])  # fmt: skip
    assert _rules(spread) == []


def test_hand_foot_mouth_two_in_a_class_within_a_week() -> None:
    one_week = _cases([(1, 6, "hfmd"), (1, 0, "hfmd")])
    assert _rules(one_week) == [("hfmd_class_week", 1, "hfmd", 2)]
    eight_days = _cases([(1, 7, "hfmd"), (1, 0, "hfmd")])
    assert _rules(eight_days) == []
    other_classes = _cases([(1, 1, "hfmd"), (2, 0, "hfmd")])
    assert _rules(other_classes) == []


def test_ten_influenza_like_cases_in_the_facility_within_a_week() -> None:
    nine = _cases([(c % 4, c % 7, "influenza_like") for c in range(9)])
    assert _rules(nine) == []
    ten = _cases([(c % 4, c % 7, "influenza_like") for c in range(10)])
    assert ("ili_facility_week", None, "influenza_like", 10) in _rules(ten)


def test_a_notifiable_case_is_reported_at_once_with_a_short_deadline() -> None:
    case = Case(1, 3, D, "rash", notifiable=True, disease="chickenpox")
    [found] = find_clusters([case], POLICY, NOW)
    assert (found.rule, found.class_id, found.syndrome, found.case_ids) == (
        "notifiable",
        3,
        "chickenpox",
        (1,),
    )
    assert found.report_by == NOW + timedelta(hours=2)


def test_a_second_outbreak_later_is_a_second_cluster() -> None:
    first = _cases([(1, 20, "gastrointestinal")] * 3)
    second = _cases([(1, 0, "gastrointestinal")] * 3, start=10)
    found = find_clusters([*first, *second], POLICY, NOW)
    assert [(c.rule, c.first_day) for c in found] == [
        ("class_same_day", D - timedelta(days=20)),
        ("class_same_day", D),
    ]
    assert found[0].key != found[1].key
    assert found[0].report_by == NOW + timedelta(hours=24)
