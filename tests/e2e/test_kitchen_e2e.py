"""On a tablet: log a meal's food samples (one refused as absurd), the class's intake, and a
disinfection task (one refused outside the chlorine range), then see them on the day sheet.

Assertions use data attributes, classes and figures rather than wording, so they hold in
any language.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from carewatch.policy import ClassType
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.hygiene import service as hygiene
from facility_app.hygiene.models import DisinfectionLog
from facility_app.kitchen import service as kitchen
from facility_app.kitchen.models import FoodSample, Meal, MealIntake
from tests.conftest import T0

from .conftest import TABLET
from .test_door_e2e import sign_in, tap_and_load

pytestmark = pytest.mark.browser

BIRTH = date(2024, 12, 1)


@pytest.fixture
def scene(build, session):  # type: ignore[no-untyped-def]
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER, name="托小班")
    kids = [build.child(fac, room, birth_date=BIRTH, name=n) for n in ("王小明", "李小红")]
    items = []
    for name in ("番茄炒蛋", "米饭"):
        dish = kitchen.save_dish(session, SYSTEM, fac, now=T0, name=name)
        items.append(
            kitchen.plan_item(
                session, SYSTEM, fac, now=T0, day=T0.date(), meal=Meal.LUNCH, dish_id=dish.id
            )
        )
    towels = hygiene.save_task(
        session, SYSTEM, fac, now=T0, area="托小班盥洗室", target="towels", method="chlorine",
        duration_minutes=20, concentration_mg_l=300, class_id=room.id,
    )  # fmt: skip
    carer = build.staff(fac, classes=[room.id], name="陈老师")
    build.user(Role.CAREGIVER, staff=carer, username="carer")
    session.commit()
    return {"room": room, "kids": kids, "items": items, "towels": towels}


def test_samples_intake_and_disinfection_on_the_tablet(
    browser, live_server, scene, session, tmp_path
):
    room, items, towels = scene["room"], scene["items"], scene["towels"]
    tablet = browser.new_context(viewport=TABLET, locale="zh-CN", has_touch=True)
    try:
        page = tablet.new_page()
        sign_in(page, live_server, "carer")
        page.goto(f"{live_server}/kitchen/?class_id={room.id}&meal=lunch")
        assert page.locator(".dish-card").count() == 2

        # An absurd weight is refused with a message; nothing is stored.
        card = page.locator(f".dish-card[data-item-id='{items[0].id}']")
        card.locator("input[name=weight_g]").fill("99999")
        card.locator("input[name=weight_g]").evaluate("e => e.removeAttribute('max')")
        tap_and_load(page, card.locator("button.log-sample"))
        assert page.locator(".flash-error").count() == 1

        # Each dish: weigh, tap "log sample".
        for item, grams in ((items[0], "130"), (items[1], "125")):
            card = page.locator(f".dish-card[data-item-id='{item.id}']")
            card.locator("input[name=weight_g]").fill(grams)
            tap_and_load(page, card.locator("button.log-sample"))
            assert (
                "sampled"
                in page.locator(f".dish-card[data-item-id='{item.id}']")
                .get_attribute("class")
                .split()
            )
        tap_and_load(page, page.locator(f".dish-card[data-item-id='{items[0].id}'] button.serve"))
        assert page.locator(".dish-card .served").count() == 1

        # The whole class ate everything: one tap for everyone, one to save.
        page.locator("[data-set-all=all]").tap()
        tap_and_load(page, page.locator("#save-intake"))
        assert page.locator("#intake-form input[value=all]:checked").count() == 2
        page.screenshot(path=tmp_path / "kitchen-meal.png")

        # Disinfection: a concentration outside 250–400 mg/L is refused, then the real one.
        page.goto(f"{live_server}/hygiene/")
        task = page.locator(f".task-card[data-task-id='{towels.id}']")
        assert "overdue" not in task.get_attribute("class").split()
        task.locator("input[name=concentration_mg_l]").fill("500")
        tap_and_load(page, task.locator("button.log-task"))
        assert page.locator(".flash-error").count() == 1
        task = page.locator(f".task-card[data-task-id='{towels.id}']")
        task.locator("input[name=concentration_mg_l]").fill("300")
        tap_and_load(page, task.locator("button.log-task"))
        assert page.locator(".flash-success").count() == 1
        page.screenshot(path=tmp_path / "hygiene.png")

        page.goto(f"{live_server}/kitchen/sheet")
        assert page.locator("#sheet-samples tbody tr").count() == 2
        assert page.locator("#sheet-disinfection tbody tr").count() == 1
        assert "300" in page.locator("#sheet-disinfection").inner_text()
        page.emulate_media(media="print")
        assert page.locator(".topbar").is_hidden()
        assert page.locator("#sheet-title").is_visible()
        page.screenshot(path=tmp_path / "sheet-print.png", full_page=True)
    finally:
        tablet.close()

    session.rollback()
    samples = session.scalars(select(FoodSample).order_by(FoodSample.menu_item_id)).all()
    assert [(s.menu_item_id, s.weight_g) for s in samples] == [
        (items[0].id, 130),
        (items[1].id, 125),
    ]
    assert all(s.stored_at == T0 for s in samples)
    assert len(session.scalars(select(MealIntake)).all()) == 2
    logs = session.scalars(select(DisinfectionLog)).all()
    assert [(x.concentration_mg_l, x.duration_minutes, x.within_limits) for x in logs] == [
        (300, 20, True)
    ]
