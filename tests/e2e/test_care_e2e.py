"""In the room on a tablet: start a nap, log two sleep checks (one overdue), end the nap.

Assertions use classes, data attributes and times rather than wording, so they hold in
any language.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from carewatch.policy import ClassType
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.attendance import service as attendance
from facility_app.care.models import Nap, SleepCheck, SleepCheckLapse
from facility_app.staff import service as staff_service
from tests.conftest import T0

from .conftest import TABLET
from .test_door_e2e import sign_in, tap_and_load

pytestmark = pytest.mark.browser

BIRTH = date(2024, 12, 1)


@pytest.fixture
def scene(build, session):  # type: ignore[no-untyped-def]
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER, name="托小班")
    carer = build.staff(fac, classes=[room.id], name="陈老师")
    staff_service.clock_in(session, SYSTEM, fac, carer, room.id, now=T0 - timedelta(hours=1))
    kids = []
    for name in ("王小明", "李小红"):
        kid = build.child(fac, room, birth_date=BIRTH, name=name)
        attendance.check_in(
            session, SYSTEM, fac, kid, now=T0 - timedelta(hours=1),
            dropped_off_by_id=kid.guardians[0].id,
        )  # fmt: skip
        kids.append(kid)
    build.user(Role.CAREGIVER, staff=carer, username="carer")
    session.commit()
    return {"room": room, "kid": kids[0]}


def test_nap_with_two_checks(browser, live_server, clock, scene, session, tmp_path):
    room, kid = scene["room"], scene["kid"]
    tablet = browser.new_context(viewport=TABLET, locale="zh-CN", has_touch=True)
    try:
        page = tablet.new_page()
        sign_in(page, live_server, "carer")
        page.goto(f"{live_server}/care/room?class_id={room.id}")
        assert page.locator(".care-tile").count() == 2
        assert page.locator("#sleep-banner").count() == 0

        # Tap the child, tap "nap start".
        page.locator(f".care-tile[data-child-id='{kid.id}']").tap()
        tap_and_load(page, page.locator("button[name=action][value=nap_start]"))
        banner = page.locator("#sleep-banner")
        assert "due" in banner.get_attribute("class").split()
        assert "09:15" in banner.inner_text()
        page.screenshot(path=tmp_path / "care-asleep.png")

        # 09:10: the first check, on time.
        clock.advance(timedelta(minutes=10))
        page.reload()
        row = page.locator("#sleep-check tr[data-nap-id]")
        assert row.count() == 1
        row.locator("input[value=back]").check()
        tap_and_load(page, page.locator("#record-check"))
        assert "09:25" in page.locator("#sleep-banner").inner_text()

        # 09:26: overdue; the banner is red; the second check.
        clock.advance(timedelta(minutes=16))
        page.reload()
        banner = page.locator("#sleep-banner")
        assert "overdue" in banner.get_attribute("class").split()
        page.screenshot(path=tmp_path / "care-overdue.png")
        page.locator("#sleep-check tr[data-nap-id] input[value=side]").check()
        tap_and_load(page, page.locator("#record-check"))
        assert "due" in page.locator("#sleep-banner").get_attribute("class").split()

        # 09:30: the child wakes; tap the child, tap "nap end".
        clock.advance(timedelta(minutes=4))
        page.locator(f".care-tile[data-child-id='{kid.id}']").tap()
        tap_and_load(page, page.locator("button[name=action][value=nap_end]"))
        assert page.locator("#sleep-banner").count() == 0

        page.goto(f"{live_server}/care/child/{kid.id}/day")
        timeline = page.locator("table.timeline").inner_text()
        assert "09:00–09:30" in timeline
        assert page.locator("tr.kind-sleep_check").count() == 2
        page.screenshot(path=tmp_path / "care-day.png")
    finally:
        tablet.close()

    session.rollback()
    nap = session.scalars(select(Nap)).one()
    assert (nap.started_at, nap.ended_at) == (T0, T0 + timedelta(minutes=30))
    checks = session.scalars(select(SleepCheck).order_by(SleepCheck.at)).all()
    assert [c.at for c in checks] == [T0 + timedelta(minutes=10), T0 + timedelta(minutes=26)]
    lapse = session.scalars(select(SleepCheckLapse)).one()
    assert (lapse.due_at, lapse.late_seconds, lapse.missed) == (
        T0 + timedelta(minutes=25),
        60,
        False,
    )
