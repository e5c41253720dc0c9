"""Food samples at the 125 g and 48 h boundaries, the allergen rule, allergy-note parsing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from facility_app.kitchen import allergens
from facility_app.kitchen.compliance import Exposure, ServedDish, allergen, sample_retention

SH = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 3, 10)
IN = datetime(2026, 3, 10, 11, 30, tzinfo=SH)


def dish(name: str, grams: int | None, out: datetime | None = None) -> ServedDish:
    return ServedDish(
        day=DAY, meal="lunch", dish=name, sample_weight_g=grams,
        sample_stored_at=IN if grams is not None else None, sample_discarded_at=out,
    )  # fmt: skip


def check(*dishes: ServedDish):  # type: ignore[no-untyped-def]
    return sample_retention(dishes, min_grams=125, keep_hours=48)


def test_exactly_125_g_kept_exactly_48_h_passes():
    f = check(dish("番茄炒蛋", 125, IN + timedelta(hours=48)))
    assert (f.status, f.value, f.threshold) == ("pass", 0, 0)
    assert f.evidence["dishes_served"] == 1


def test_124_g_is_underweight_and_named_with_its_meal():
    f = check(dish("清蒸鱼", 124))
    assert (f.status, f.value) == ("fail", 1)
    assert f.evidence["problems"] == [
        {"day": "2026-03-10", "meal": "lunch", "dish": "清蒸鱼", "problem": "underweight",
         "weight_g": 124}
    ]  # fmt: skip
    assert "清蒸鱼" in f.message and "lunch" in f.message


def test_discarded_one_minute_before_48_h_is_early():
    f = check(dish("米饭", 200, IN + timedelta(hours=48) - timedelta(minutes=1)))
    assert f.status == "fail"
    assert f.evidence["discarded_early"] == 1


def test_still_in_the_fridge_passes():
    assert check(dish("米饭", 200)).status == "pass"


def test_worked_example_from_the_module():
    f = check(
        dish("番茄炒蛋", 125, IN + timedelta(hours=48)), dish("清蒸鱼", 124), dish("米饭", None)
    )
    assert (f.status, f.value) == ("fail", 2)
    assert (f.evidence["underweight"], f.evidence["no_sample"]) == (1, 1)
    assert [p["dish"] for p in f.evidence["problems"]] == ["清蒸鱼", "米饭"]


def test_nothing_served_passes_with_a_count_of_zero():
    f = check()
    assert (f.status, f.evidence["dishes_served"]) == ("pass", 0)


def exposure(served: bool, substitute: bool, dish_name: str = "鸡蛋羹") -> Exposure:
    return Exposure(DAY, "breakfast", dish_name, ("egg",), served, substitute)


def test_allergen_served_without_substitute_fails_with_counts_only():
    f = allergen([exposure(True, False), exposure(True, False), exposure(True, True)])
    assert (f.status, f.value) == ("fail", 2)
    assert f.evidence["served"] == [
        {"day": "2026-03-10", "meal": "breakfast", "dish": "鸡蛋羹", "allergens": ["egg"],
         "children": 2}
    ]  # fmt: skip
    assert f.evidence["covered_by_substitute"] == 1


def test_allergen_planned_without_substitute_warns_and_covered_passes():
    assert allergen([exposure(False, False)]).status == "warn"
    assert allergen([exposure(True, True)]).status == "pass"
    assert allergen([], unreviewed_children=1).status == "warn"


@pytest.mark.parametrize(
    ("text", "codes", "unrecognised"),
    [
        ("对牛奶、鸡蛋过敏", {"milk", "egg"}, ()),
        ("花生过敏", {"peanut"}, ()),
        ("Peanuts", {"peanut"}, ()),
        ("peanut and tree nuts", {"peanut", "tree_nut"}, ()),
        ("虾、蟹", {"shellfish"}, ()),
        ("无", set(), ()),
        ("", set(), ()),
        ("对猫毛过敏", set(), ("对猫毛过敏",)),
        ("芝麻；猫毛", {"sesame"}, ("猫毛",)),
    ],
)
def test_allergy_notes_map_onto_the_vocabulary(text, codes, unrecognised):
    parsed = allergens.parse(text)
    assert parsed.codes == frozenset(codes)
    assert parsed.unrecognised == unrecognised


def test_conflicts_and_normalise():
    assert allergens.conflicts(frozenset({"egg", "milk"}), ["milk", "wheat"]) == ["milk"]
    assert allergens.normalise("egg,milk") == ["milk", "egg"]
    with pytest.raises(ValueError):
        allergens.normalise(["poison"])
