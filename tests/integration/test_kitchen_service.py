"""Menus, allergen blocking, food samples at the 125 g and 48 h boundaries, findings."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from carewatch.errors import Conflict, DomainError
from carewatch.policy import ClassType
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.accounts.service import actor_for
from facility_app.audit.models import AuditEntry
from facility_app.kitchen import service as kitchen
from facility_app.kitchen.models import Eaten, FoodSample, Meal, MealIntake, MenuItem
from tests.conftest import T0

BIRTH = date(2025, 1, 5)
TODAY = T0.date()


@pytest.fixture
def scene(build, session):  # type: ignore[no-untyped-def]
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER, name="托小班")
    other = build.room(fac, ClassType.TODDLER, name="托小二班")
    egg_kid = build.child(fac, room, birth_date=BIRTH, name="王小明")
    egg_kid.allergies = "对鸡蛋过敏"
    kid = build.child(fac, room, birth_date=BIRTH, name="李小红")
    stranger_kid = build.child(fac, other, birth_date=BIRTH, name="张三")
    eggs = kitchen.save_dish(
        session, SYSTEM, fac, now=T0, name="番茄炒蛋", ingredients="番茄、鸡蛋",
        allergen_codes=["egg"],
    )  # fmt: skip
    rice = kitchen.save_dish(session, SYSTEM, fac, now=T0, name="米饭")
    lunch_eggs = kitchen.plan_item(
        session, SYSTEM, fac, now=T0, day=TODAY, meal=Meal.LUNCH, dish_id=eggs.id
    )
    lunch_rice = kitchen.plan_item(
        session, SYSTEM, fac, now=T0, day=TODAY, meal=Meal.LUNCH, dish_id=rice.id
    )
    session.commit()
    return {
        "fac": fac, "room": room, "egg_kid": egg_kid, "kid": kid, "stranger": stranger_kid,
        "eggs": lunch_eggs, "rice": lunch_rice,
    }  # fmt: skip


def test_planning_shows_the_affected_child_and_serving_needs_a_substitute(scene, session):
    fac, item = scene["fac"], scene["eggs"]
    rows = kitchen.affected(item, kitchen.allergic_children(session, TODAY))
    assert [(a.child.name, a.allergens, a.substitute) for a in rows] == [("王小明", ["egg"], None)]
    with pytest.raises(Conflict) as err:
        kitchen.serve_item(session, SYSTEM, fac, now=T0, item_id=item.id)
    assert err.value.code == "allergen_no_substitute"
    assert err.value.params["children"] == "王小明"
    session.rollback()
    assert session.get(MenuItem, item.id).served_at is None

    kitchen.set_substitute(
        session, SYSTEM, fac, now=T0, item_id=item.id, child_id=scene["egg_kid"].id,
        substitute="番茄炒豆腐",
    )  # fmt: skip
    served = kitchen.serve_item(session, SYSTEM, fac, now=T0, item_id=item.id)
    assert served.served_at == T0
    # A child the dish does not harm needs no substitute.
    with pytest.raises(DomainError) as err:
        kitchen.set_substitute(
            session, SYSTEM, fac, now=T0, item_id=item.id, child_id=scene["kid"].id,
            substitute="x",
        )  # fmt: skip
    assert err.value.code == "not_affected"


def test_intake_for_a_whole_class_is_blocked_for_an_allergic_child_without_substitute(
    scene, session
):
    fac, room = scene["fac"], scene["room"]
    amounts = {scene["kid"].id: Eaten.ALL, scene["egg_kid"].id: Eaten.SOME}
    with pytest.raises(Conflict) as err:
        kitchen.record_intake(
            session, SYSTEM, fac, now=T0, class_id=room.id, meal=Meal.LUNCH, amounts=amounts
        )
    assert err.value.code == "allergen_no_substitute"
    session.rollback()
    assert session.scalars(select(MealIntake)).all() == []

    kitchen.set_substitute(
        session, SYSTEM, fac, now=T0, item_id=scene["eggs"].id, child_id=scene["egg_kid"].id,
        substitute="番茄炒豆腐",
    )  # fmt: skip
    rows = kitchen.record_intake(
        session, SYSTEM, fac, now=T0, class_id=room.id, meal=Meal.LUNCH, amounts=amounts
    )
    assert len(rows) == 2
    # Tapping again changes the amount rather than adding a row.
    kitchen.record_intake(
        session, SYSTEM, fac, now=T0, class_id=room.id, meal=Meal.LUNCH,
        amounts={scene["kid"].id: Eaten.MOST},
    )  # fmt: skip
    assert kitchen.intakes(session, room.id, TODAY)[(scene["kid"].id, Meal.LUNCH)] == Eaten.MOST
    # A child of another class, or a meal not on the menu, is refused.
    with pytest.raises(DomainError) as err:
        kitchen.record_intake(
            session, SYSTEM, fac, now=T0, class_id=room.id, meal=Meal.LUNCH,
            amounts={scene["stranger"].id: Eaten.ALL},
        )  # fmt: skip
    assert err.value.code == "wrong_class"
    with pytest.raises(DomainError) as err:
        kitchen.record_intake(
            session, SYSTEM, fac, now=T0, class_id=room.id, meal=Meal.DINNER,
            amounts={scene["kid"].id: Eaten.ALL},
        )  # fmt: skip
    assert err.value.code == "meal_not_planned"


def test_a_past_day_menu_needs_a_correction_reason(scene, session):
    fac = scene["fac"]
    yesterday = TODAY - timedelta(days=1)
    with pytest.raises(DomainError) as err:
        kitchen.plan_item(
            session, SYSTEM, fac, now=T0, day=yesterday, meal=Meal.LUNCH,
            dish_id=scene["rice"].dish_id,
        )  # fmt: skip
    assert err.value.code == "reason_required"
    item = kitchen.plan_item(
        session, SYSTEM, fac, now=T0, day=yesterday, meal=Meal.LUNCH,
        dish_id=scene["rice"].dish_id, reason="补录昨日菜谱",
    )  # fmt: skip
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "menu_item", AuditEntry.entity_id == item.id)
    ).one()
    assert entry.reason == "补录昨日菜谱"


@pytest.mark.parametrize(
    ("grams", "code"), [(0, "invalid_weight"), (-5, "invalid_weight"), (2001, "weight_absurd")]
)
def test_negative_and_absurd_weights_are_refused(scene, session, grams, code):
    with pytest.raises(DomainError) as err:
        kitchen.log_sample(
            session, SYSTEM, scene["fac"], now=T0, item_id=scene["rice"].id, weight_g=grams,
            fridge="留样冰箱1",
        )  # fmt: skip
    assert err.value.code == code


def test_samples_at_the_125_g_and_48_h_boundaries(scene, session):
    fac = scene["fac"]
    kitchen.set_substitute(
        session, SYSTEM, fac, now=T0, item_id=scene["eggs"].id, child_id=scene["egg_kid"].id,
        substitute="番茄炒豆腐",
    )  # fmt: skip
    for item in (scene["eggs"], scene["rice"]):
        kitchen.serve_item(session, SYSTEM, fac, now=T0, item_id=item.id)
    ok = kitchen.log_sample(
        session, SYSTEM, fac, now=T0, item_id=scene["eggs"].id, weight_g=125, fridge="留样冰箱1"
    )
    light = kitchen.log_sample(
        session, SYSTEM, fac, now=T0, item_id=scene["rice"].id, weight_g=124, fridge="留样冰箱1"
    )
    with pytest.raises(Conflict):
        kitchen.log_sample(
            session, SYSTEM, fac, now=T0, item_id=scene["rice"].id, weight_g=150, fridge="x"
        )
    found = kitchen.findings(session, fac, T0)["food.sample_retention"]
    assert (found.status, found.value) == ("fail", 1)
    assert [(p["dish"], p["meal"], p["problem"]) for p in found.evidence["problems"]] == [
        ("米饭", "lunch", "underweight")
    ]

    # 47 h 59 min later: too early without a reason; before intake: refused outright.
    early = T0 + timedelta(hours=48) - timedelta(minutes=1)
    with pytest.raises(DomainError) as err:
        kitchen.discard_sample(session, SYSTEM, fac, now=early, sample_id=ok.id)
    assert err.value.code == "kept_too_short"
    with pytest.raises(DomainError) as err:
        kitchen.discard_sample(
            session, SYSTEM, fac, now=early, sample_id=ok.id, at=T0 - timedelta(minutes=1),
            reason="x",
        )  # fmt: skip
    assert err.value.code == "discard_before_intake"
    # Exactly 48 h: allowed, and it passes.
    exact = T0 + timedelta(hours=48)
    kitchen.discard_sample(session, SYSTEM, fac, now=exact, sample_id=ok.id)
    # An early discard with a reason is recorded truthfully and fails the rule.
    kitchen.discard_sample(session, SYSTEM, fac, now=early, sample_id=light.id, reason="冰箱故障")
    session.commit()
    found = kitchen.findings(session, fac, exact)["food.sample_retention"]
    problems = {p["dish"]: p["problem"] for p in found.evidence["problems"]}
    assert problems == {"米饭": "underweight"}
    assert session.get(FoodSample, ok.id).discarded_at == exact


def test_a_served_dish_without_sample_fails_and_the_allergen_rule_warns_then_passes(scene, session):
    fac = scene["fac"]
    kitchen.serve_item(session, SYSTEM, fac, now=T0, item_id=scene["rice"].id)
    found = kitchen.findings(session, fac, T0)
    assert found["food.sample_retention"].evidence["no_sample"] == 1
    allergen = found["food.allergen"]
    assert allergen.status == "warn"
    assert allergen.evidence["planned"][0]["dish"] == "番茄炒蛋"
    assert "王小明" not in repr(allergen.evidence)
    kitchen.set_substitute(
        session, SYSTEM, fac, now=T0, item_id=scene["eggs"].id, child_id=scene["egg_kid"].id,
        substitute="番茄炒豆腐",
    )  # fmt: skip
    assert kitchen.findings(session, fac, T0)["food.allergen"].status == "pass"


def test_a_future_time_is_refused(scene, session):
    with pytest.raises(DomainError) as err:
        kitchen.log_sample(
            session, SYSTEM, scene["fac"], now=T0, item_id=scene["rice"].id, weight_g=150,
            fridge="x", stored_at=T0 + timedelta(minutes=5),
        )  # fmt: skip
    assert err.value.code == "in_future"


def test_caregiver_of_another_class_cannot_record_intake(scene, session, build):
    stranger_staff = build.staff(scene["fac"], classes=[])
    user = build.user(Role.CAREGIVER, staff=stranger_staff)
    actor = actor_for(session, user)
    with pytest.raises(DomainError) as err:
        kitchen.record_intake(
            session, actor, scene["fac"], now=T0, class_id=scene["room"].id, meal=Meal.LUNCH,
            amounts={scene["kid"].id: Eaten.ALL},
        )  # fmt: skip
    assert err.value.code == "class_not_assigned"


def test_the_compliance_status_carries_the_food_rules(scene, session):  # type: ignore[no-untyped-def]
    from edge_agent.compliance import Status, evaluate

    fac = scene["fac"]
    by_id = {r.rule_id: r for r in evaluate(session, fac, T0, providers={}).results}
    # Nothing served yet: the food rules cannot say anything, and nothing is set up for
    # disinfection.
    assert by_id["food.sample_retention"].status is Status.UNKNOWN
    assert by_id["hygiene.disinfection"].status is Status.UNKNOWN
    kitchen.serve_item(session, SYSTEM, fac, now=T0, item_id=scene["rice"].id)
    by_id = {r.rule_id: r for r in evaluate(session, fac, T0, providers={}).results}
    samples = by_id["food.sample_retention"]
    assert samples.status is Status.FAIL and samples.evidence["no_sample"] == 1
    assert by_id["food.allergen"].status is Status.WARN
    assert "王小明" not in repr(by_id["food.allergen"].as_report())
