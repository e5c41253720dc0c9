"""The morning check on a tablet: one child normal in one tap, one with a fever sent home.

Assertions use classes, data attributes and stored rows rather than wording.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from carewatch.policy import ClassType
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.attendance import service as attendance
from health_records.models import CheckAction, HealthCheck, IllnessCase
from tests.conftest import T0

from .conftest import TABLET
from .test_door_e2e import sign_in, tap_and_load

pytestmark = pytest.mark.browser

BIRTH = date(2024, 12, 1)


@pytest.fixture
def scene(build, session):  # type: ignore[no-untyped-def]
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER, name="托小班")
    kids = []
    for name in ("王小明", "李小红"):
        kid = build.child(fac, room, birth_date=BIRTH, name=name)
        attendance.check_in(
            session, SYSTEM, fac, kid, now=T0 - timedelta(minutes=30),
            dropped_off_by_id=kid.guardians[0].id,
        )  # fmt: skip
        kids.append(kid)
    officer = build.staff(fac, classes=[room.id], name="保健医")
    build.user(Role.HEALTH_OFFICER, staff=officer, username="health")
    session.commit()
    return {"room": room, "kids": kids}


def test_morning_check_on_a_tablet(browser, live_server, clock, scene, session):  # type: ignore[no-untyped-def]
    room, (well, ill) = scene["room"], scene["kids"]
    tablet = browser.new_context(viewport=TABLET, locale="zh-CN", has_touch=True)
    try:
        page = tablet.new_page()
        sign_in(page, live_server, "health")
        page.goto(f"{live_server}/health/checks?class_id={room.id}")
        assert page.locator(".check-row").count() == 2
        assert page.locator(".check-row.done").count() == 0

        # The well child: a temperature and one tap.
        row = page.locator(f".check-row[data-child-id='{well.id}']")
        row.locator("input[name=temperature_c]").fill("36.6")
        tap_and_load(page, row.locator("button[name=ok]"))
        assert page.locator(f".check-row.done[data-child-id='{well.id}']").count() == 1

        # A fever without an action is refused and nothing is stored for that child.
        row = page.locator(f".check-row[data-child-id='{ill.id}']")
        row.locator("input[name=temperature_c]").fill("38.5")
        tap_and_load(page, row.locator("button[name=ok]"))
        assert page.locator(".flash.error, .flash-error, [role=alert]").count() >= 1
        assert page.locator(f".check-row.done[data-child-id='{ill.id}']").count() == 0

        # With the findings and "sent home" it is stored and a case is opened.
        row = page.locator(f".check-row[data-child-id='{ill.id}']")
        row.locator("input[name=temperature_c]").fill("38.5")
        row.locator("summary").tap()
        row.locator("input[name=abnormal][value=mouth]").check()
        row.locator("select[name=action]").select_option("sent_home")
        tap_and_load(page, row.locator("details button[type=submit]"))
        assert page.locator(".check-row.done").count() == 2
    finally:
        tablet.close()

    session.expire_all()
    checks = {c.child_id: c for c in session.scalars(select(HealthCheck))}
    assert checks[well.id].temperature_c == Decimal("36.6")
    assert checks[well.id].action is CheckAction.NONE
    assert checks[ill.id].action is CheckAction.SENT_HOME and checks[ill.id].abnormal == ["mouth"]
    case = session.scalars(select(IllnessCase)).one()
    assert (case.child_id, case.symptoms) == (ill.id, ["fever", "mouth_ulcers"])
