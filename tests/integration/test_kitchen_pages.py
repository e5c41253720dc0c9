"""The meal page on a tablet, the menu, the day sheet, the XLSX export, the public notice and
the kitchen API's refusals."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from carewatch.policy import ClassType
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.hygiene import service as hygiene
from facility_app.kitchen import service as kitchen
from facility_app.kitchen.models import FoodSample, Meal, MealIntake
from tests.conftest import T0
from tests.integration.test_api_support import ApiClient, error_code, row_counts

BIRTH = date(2025, 1, 5)
TODAY = T0.date()


@pytest.fixture
def scene(build, session):  # type: ignore[no-untyped-def]
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER, name="托小班")
    egg_kid = build.child(fac, room, birth_date=BIRTH, name="王小明")
    egg_kid.allergies = "鸡蛋、猫毛"
    kid = build.child(fac, room, birth_date=BIRTH, name="李小红")
    eggs = kitchen.save_dish(session, SYSTEM, fac, now=T0, name="鸡蛋羹", allergen_codes=["egg"])
    rice = kitchen.save_dish(session, SYSTEM, fac, now=T0, name="米饭")
    items = [
        kitchen.plan_item(session, SYSTEM, fac, now=T0, day=TODAY, meal=Meal.LUNCH, dish_id=d.id)
        for d in (eggs, rice)
    ]
    hygiene.save_task(
        session, SYSTEM, fac, now=T0, area="厨房", target="tableware", method="steaming",
        duration_minutes=10,
    )  # fmt: skip
    carer = build.staff(fac, classes=[room.id])
    users = {
        "carer": build.user(Role.CAREGIVER, staff=carer),
        "director": build.user(Role.DIRECTOR),
    }
    session.commit()
    return {"fac": fac, "room": room, "egg_kid": egg_kid, "kid": kid, "items": items, **users}


def test_meal_page_logs_samples_and_intake_for_the_class(scene, auth, client, session):
    auth.login(scene["carer"])
    room, (eggs, rice) = scene["room"], scene["items"]
    page = client.get(f"/kitchen/?class_id={room.id}&meal=lunch").get_data(as_text=True)
    assert "鸡蛋羹" in page and "王小明" in page and "no substitute yet" in page
    r = auth.post("/kitchen/sample", {"item_id": rice.id, "weight_g": "130", "fridge": "留样冰箱1"})
    assert r.status_code == 303
    r = auth.post(
        "/kitchen/sample",
        {"item_id": eggs.id, "weight_g": "-1", "fridge": "留样冰箱1"},
        follow_redirects=True,
    )
    assert "Enter the sample&#39;s weight in grams." in r.get_data(as_text=True)
    assert [s.weight_g for s in session.scalars(select(FoodSample))] == [130]
    # The allergic child without substitute blocks the whole class's save.
    form = {"class_id": room.id, "meal": "lunch", f"eaten_{scene['kid'].id}": "all",
            f"eaten_{scene['egg_kid'].id}": "some"}  # fmt: skip
    r = auth.post("/kitchen/intake", form, follow_redirects=True)
    assert "give 王小明 a substitute before serving" in r.get_data(as_text=True)
    session.commit()
    assert session.scalars(select(MealIntake)).all() == []
    del form[f"eaten_{scene['egg_kid'].id}"]
    assert auth.post("/kitchen/intake", form).status_code == 303
    session.commit()
    assert [i.eaten.value for i in session.scalars(select(MealIntake))] == ["all"]


def test_menu_allergies_sheet_and_export(scene, auth, client, session):
    auth.login(scene["director"])
    eggs = scene["items"][0]
    menu = client.get(f"/kitchen/menu?week={TODAY.isoformat()}").get_data(as_text=True)
    assert "鸡蛋羹" in menu and "王小明" in menu
    r = auth.post(
        "/kitchen/menu/substitute",
        {"item_id": eggs.id, "child_id": scene["egg_kid"].id, "substitute": "蒸南瓜"},
    )
    assert r.status_code == 303
    allergies = client.get("/kitchen/allergies").get_data(as_text=True)
    assert "猫毛" in allergies  # the unrecognised part is shown for review
    r = auth.post("/kitchen/serve", {"item_id": eggs.id})
    assert r.status_code == 303
    kitchen.log_sample(
        session, SYSTEM, scene["fac"], now=T0, item_id=eggs.id, weight_g=124, fridge="1号"
    )
    session.commit()
    sheet = client.get(f"/kitchen/sheet?day={TODAY.isoformat()}").get_data(as_text=True)
    assert "鸡蛋羹" in sheet and "Underweight" in sheet and "window.print()" in sheet
    one = client.get(f"/kitchen/sheet?day={TODAY.isoformat()}&class_id={scene['room'].id}")
    assert one.status_code == 200 and "托小班" in one.get_data(as_text=True)
    assert client.get("/kitchen/sheet?class_id=999999").status_code == 404
    r = client.get("/kitchen/export?month=2026-03")
    assert r.status_code == 200
    wb = load_workbook(BytesIO(r.data))
    rows = list(wb["menu-samples"].iter_rows(values_only=True))
    by_dish = {row[2]: row for row in rows[1:]}
    assert by_dish["鸡蛋羹"][5] == 124 and by_dish["米饭"][5] is None
    assert client.get("/kitchen/export?month=2026-13").status_code == 404


def test_public_notice_shows_menu_and_published_account_without_personal_data(
    scene, auth, client, session
):
    auth.login(scene["director"])
    r = auth.post(
        "/kitchen/fees",
        {"month": "2026-03", "income": "12000.50", "food_cost": "9000", "other_cost": "0",
         "published": "1"},
    )  # fmt: skip
    assert r.status_code == 303
    bad = auth.post(
        "/kitchen/fees", {"month": "2026-03", "income": "-1", "food_cost": "0"},
        follow_redirects=True,
    )  # fmt: skip
    assert "Enter an amount of at least 0." in bad.get_data(as_text=True)
    for absurd in ("inf", "nan", "abc"):
        r = auth.post("/kitchen/fees", {"month": "2026-03", "income": absurd, "food_cost": "0"})
        assert r.status_code == 303, absurd
    auth.logout()
    page = client.get("/public/notice").get_data(as_text=True)
    assert "鸡蛋羹" in page and "12000.50" in page and "3000.50" in page
    for secret in ("王小明", "李小红", "猫毛"):
        assert secret not in page


def test_kitchen_api_refuses_bad_input_with_codes_and_writes_nothing(scene, client, session):
    api = ApiClient(client)
    assert api.login(scene["carer"]).status_code == 200
    eggs, rice = scene["items"]
    before = row_counts(session)
    for body, status, code in [
        ({"item_id": rice.id, "weight_g": -5, "fridge": "1"}, 422, "invalid_weight"),
        ({"item_id": rice.id, "weight_g": 99999, "fridge": "1"}, 422, "weight_absurd"),
        ({"item_id": 424242, "weight_g": 150, "fridge": "1"}, 404, "menu_item_not_found"),
    ]:
        r = api.post("/kitchen/samples", body)
        assert (r.status_code, error_code(r)) == (status, code), body
    r = api.post("/kitchen/serve", {"item_id": eggs.id})
    assert (r.status_code, error_code(r)) == (409, "allergen_no_substitute")
    r = api.post(
        "/kitchen/intake",
        {"class_id": scene["room"].id, "meal": "lunch",
         "amounts": [{"child_id": scene["egg_kid"].id, "eaten": "all"}]},
    )  # fmt: skip
    assert (r.status_code, error_code(r)) == (409, "allergen_no_substitute")
    assert row_counts(session) == before
    ok = api.post("/kitchen/samples", {"item_id": rice.id, "weight_g": 125, "fridge": "1号"})
    assert ok.status_code == 201
    sample_id = ok.get_json()["id"]
    r = api.post("/kitchen/samples/discard", {"sample_id": sample_id})
    assert (r.status_code, error_code(r)) == (422, "kept_too_short")
    day = api.get(f"/kitchen/menu?day={TODAY.isoformat()}").get_json()
    by_dish = {i["dish"]: i for i in day["items"]}
    assert by_dish["鸡蛋羹"]["without_substitute"] == 1
    assert by_dish["米饭"]["sample"]["weight_g"] == 125
    # A menu change for a past day needs a reason; caregivers may not plan at all.
    r = api.post(
        "/kitchen/menu",
        {"day": (TODAY - timedelta(days=1)).isoformat(), "meal": "lunch", "dish_id": 1},
    )
    assert r.status_code == 403
