"""At the door on a tablet: two taps to check a child in or out, seen live by the director.

A 托小班 (toddler class, 1 caregiver per 5 children) with one caregiver on duty and five
children already in: the sixth check-in needs ceil(6 / 5) = 2 caregivers, so the class goes
out of ratio; checking that child out brings it back to 5 children and within ratio.
Assertions use classes, names and times rather than wording, so they hold in any language.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from carewatch.policy import ClassType
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.attendance import service as attendance
from facility_app.staff import service as staff_service
from tests.conftest import T0
from tests.factories import PASSWORD

from .conftest import TABLET

pytestmark = pytest.mark.browser

NAMES = ["李小红", "张小华", "刘小强", "陈小美", "赵小宝"]  # already in at 08:00
LATE = "王小明"  # arrives at 09:00 through the door page
BIRTH = date(2024, 12, 1)  # 15 months old: a toddler


@pytest.fixture
def scene(build, session):  # type: ignore[no-untyped-def]
    """The facility, the class, its caregiver on duty, six children and two users."""
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER, name="托小班")
    carer = build.staff(fac, classes=[room.id], name="陈老师")
    staff_service.clock_in(session, SYSTEM, fac, carer, room.id, now=T0 - timedelta(hours=2))
    for name in NAMES:
        kid = build.child(fac, room, birth_date=BIRTH, name=name)
        attendance.check_in(
            session,
            SYSTEM,
            fac,
            kid,
            now=T0 - timedelta(hours=1),
            dropped_off_by_id=kid.guardians[0].id,
        )
    late = build.child(fac, room, birth_date=BIRTH, name=LATE)
    build.user(Role.CAREGIVER, staff=carer, username="carer")
    build.user(Role.DIRECTOR, username="director")
    session.commit()
    return {"room": room, "late": late}


def sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    """Sign in through the login form."""
    page.goto(f"{base}/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")


def tap_and_load(page, target) -> None:  # type: ignore[no-untyped-def]
    """Tap a button that submits a form and wait for the page it leads to."""
    with page.expect_navigation():
        target.tap()


def class_figures(page, base: str, room_id: int) -> tuple[int, int, bool]:  # type: ignore[no-untyped-def]
    """(present, caregivers on duty, within ratio) from the director's page."""
    page.goto(f"{base}/today")
    row = page.locator(f"tr[data-class-id='{room_id}']")
    present = int(row.locator(".present-count").inner_text())
    caregivers = int(row.locator(".caregiver-count").inner_text())
    ok = row.locator(".ratio-status .badge-ok").count() == 1
    assert ok != (row.locator(".ratio-status .badge-bad").count() == 1)
    return present, caregivers, ok


def test_door_check_in_and_out_moves_the_directors_ratio(
    browser, live_server, clock, scene, tmp_path
):
    room_id, late = scene["room"].id, scene["late"]
    director = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    tablet = browser.new_context(viewport=TABLET, locale="zh-CN", has_touch=True)
    try:
        boss, door = director.new_page(), tablet.new_page()
        sign_in(boss, live_server, "director")
        assert class_figures(boss, live_server, room_id) == (5, 1, True)

        # The caregiver's start page is the door page of their class.
        sign_in(door, live_server, "carer")
        assert "/attendance/" in door.url
        assert door.locator(".tile").count() == 6
        tile = door.locator(f"a.tile[data-child-id='{late.id}']")
        assert "state-expected" in tile.get_attribute("class")
        door.screenshot(path=tmp_path / "door.png")

        # Tap 1: the tile opens the child's panel; tap 2: the mother's button checks in.
        tile.tap()
        panel = door.locator(f"#panel-{late.id}")
        panel.wait_for(state="visible")
        door.screenshot(path=tmp_path / "door-panel.png")
        tap_and_load(door, panel.locator("button.person.checkin").first)
        flash = door.locator(".flash-success")
        assert LATE in flash.inner_text() and "09:00" in flash.inner_text()
        assert "state-present" in tile.get_attribute("class")
        door.screenshot(path=tmp_path / "door-after.png")

        assert class_figures(boss, live_server, room_id) == (6, 1, False)

        # Someone not on the list comes at 16:00: refused, the child stays, the director knows.
        clock.advance(timedelta(hours=7))
        door.fill("#door-search", "小明")
        assert door.locator(".tile-item:visible").count() == 1
        door.press("#door-search", "Enter")
        panel.wait_for(state="visible")
        panel.locator("details.more summary").tap()
        panel.locator("input[name=other_person]").fill("张三")
        tap_and_load(door, panel.locator("form.other button[type=submit]"))
        refusal = door.locator(".flash-error").inner_text()
        assert "张三" in refusal and LATE in refusal
        assert "state-present" in tile.get_attribute("class")
        assert class_figures(boss, live_server, room_id) == (6, 1, False)
        assert boss.locator("ul.alerts li.alert-critical", has_text="张三").count() == 1

        # The father picks up: two taps again, and the class is back within ratio.
        tile.tap()
        panel.wait_for(state="visible")
        tap_and_load(door, panel.locator("button.person.checkout").last)
        flash = door.locator(".flash-success")
        assert LATE in flash.inner_text() and "16:00" in flash.inner_text()
        assert "state-left" in tile.get_attribute("class")

        assert class_figures(boss, live_server, room_id) == (5, 1, True)
    finally:
        director.close()
        tablet.close()
