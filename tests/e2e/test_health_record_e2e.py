"""A child's health record on a tablet: a growth measurement added, charted and refused.

Assertions use classes, ids and stored rows rather than wording.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from carewatch.policy import ClassType
from facility_app.accounts.models import Role
from facility_app.audit.models import AuditEntry
from health_records.growth_models import GrowthMeasurement

from .conftest import TABLET
from .test_door_e2e import sign_in, tap_and_load

pytestmark = pytest.mark.browser

# 18 months old at T0 (2026-03-10).
BIRTH = date(2024, 9, 10)


@pytest.fixture
def scene(build, session):  # type: ignore[no-untyped-def]
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER, name="托小班")
    kid = build.child(fac, room, birth_date=BIRTH, name="王小明")
    officer = build.staff(fac, classes=[room.id], name="保健医")
    build.user(Role.HEALTH_OFFICER, staff=officer, username="health")
    session.commit()
    return kid


def test_growth_on_the_health_record_on_a_tablet(browser, live_server, clock, scene, session):  # type: ignore[no-untyped-def]
    kid = scene
    tablet = browser.new_context(viewport=TABLET, locale="zh-CN", has_touch=True)
    try:
        page = tablet.new_page()
        sign_in(page, live_server, "health")
        page.goto(f"{live_server}/health/children/{kid.id}")
        assert page.locator("#section-growth").count() == 1
        assert page.locator("#section-growth circle.child-point").count() == 0
        # The page fits the tablet: nothing wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]

        # An impossible weight is refused, the form keeps what was typed, nothing stored.
        form = page.locator("form.growth-form")
        form.locator("input[name=weight_kg]").fill("95")
        form.locator("input[name=length_cm]").fill("81.5")
        tap_and_load(page, form.locator("button[type=submit]"))
        assert page.locator("#growth-error").count() == 1
        assert page.locator("form.growth-form input[name=length_cm]").input_value() == "81.5"
        session.commit()  # end the test's read snapshot: see what the app committed
        assert session.scalars(select(GrowthMeasurement)).all() == []

        # A real one is stored and drawn on both charts.
        form = page.locator("form.growth-form")
        form.locator("input[name=weight_kg]").fill("10.9")
        tap_and_load(page, form.locator("button[type=submit]"))
        assert page.locator("#section-growth circle.child-point").count() == 2
        assert page.locator("#section-growth polyline.sd-line").count() >= 10
        session.commit()  # end the test's read snapshot: see what the app committed
        stored = session.scalars(select(GrowthMeasurement)).one()
        assert (stored.weight_kg, stored.length_cm) == (Decimal("10.90"), Decimal("81.5"))
        # Each opening of the record was audited as a read of this child's health data.
        reads = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "read", AuditEntry.entity_id == kid.id)
        ).all()
        assert len(reads) >= 3
    finally:
        tablet.close()
