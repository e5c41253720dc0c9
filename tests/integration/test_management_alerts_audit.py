"""The alerts page with acknowledging, and the audit log page."""

from __future__ import annotations

from datetime import datetime, timedelta

from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.alerts.models import Alert, AlertKind
from facility_app.attendance import service as attendance
from facility_app.staff import service as staff_service
from tests.conftest import SHANGHAI
from tests.integration.management_support import (
    TODDLER_BIRTH,
    audit_for,
    fresh,
    signed_in_director,
    text,
)


def _ratio_breach(build, session, s):
    """Six children checked in with one caregiver on duty: a ratio breach and its alert."""
    carer = build.staff(s.fac, classes=[s.room.id])
    staff_service.clock_in(session, SYSTEM, s.fac, carer, s.room.id, now=build.now)
    for _ in range(6):
        kid = build.child(s.fac, s.room, birth_date=TODDLER_BIRTH)
        attendance.check_in(
            session, SYSTEM, s.fac, kid, now=build.now, dropped_off_by_id=kid.guardians[0].id
        )
    session.commit()
    return session.query(Alert).filter_by(kind=AlertKind.RATIO_BREACH).one()


def test_director_acknowledges_an_alert(client, auth, build, session, clock):
    s = signed_in_director(build, session, auth)
    alert = _ratio_breach(build, session, s)
    page = text(client.get("/alerts/"))
    item = page.split(f'id="alert-{alert.id}"', 1)[1].split("</li>", 1)[0]
    assert "托小一班 out of ratio: 6 children with 1 caregivers (2 needed)." in item
    assert f'action="/alerts/{alert.id}/ack"' in item

    clock.advance(timedelta(minutes=5))
    response = auth.post(f"/alerts/{alert.id}/ack")
    assert response.status_code == 303
    page = text(client.get(response.headers["Location"]))
    assert "Alert acknowledged." in page
    handled = page.split('id="handled-alerts"', 1)[1]
    assert f'id="alert-{alert.id}"' in handled and "09:05" in handled
    fresh(session)
    alert = session.get(Alert, alert.id)
    assert alert.acknowledged_by_id == s.director.id
    assert alert.acknowledged_at == datetime(2026, 3, 10, 9, 5, tzinfo=SHANGHAI)
    [entry] = audit_for(session, "alert", "acknowledge")
    assert (entry.entity_id, entry.user_id) == (alert.id, s.director.id)


def test_regulator_sees_alerts_but_cannot_acknowledge(client, auth, build, session):
    s = signed_in_director(build, session, auth)
    alert = _ratio_breach(build, session, s)
    regulator = build.user(Role.REGULATOR)
    session.commit()
    auth.logout()
    auth.login(regulator)
    page = text(client.get("/alerts/"))
    assert f'id="alert-{alert.id}"' in page and "/ack" not in page
    assert auth.post(f"/alerts/{alert.id}/ack").status_code == 403
    fresh(session)
    assert session.get(Alert, alert.id).acknowledged_at is None


def test_audit_page_shows_who_when_what_and_a_correction_reason(
    client, auth, build, session, clock
):
    s = signed_in_director(build, session, auth)
    carer = build.staff(s.fac, classes=[s.room.id], name="陈老师")
    session.commit()
    clock.advance(timedelta(hours=2))
    staff_service.add_duty_session(
        session,
        SYSTEM,
        s.fac,
        carer,
        s.room.id,
        now=clock.now(),
        start_at=datetime(2026, 3, 10, 8, 0, tzinfo=SHANGHAI),
        end_at=datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI),
        reason="忘记打卡，按排班补录",
    )
    session.commit()
    response = auth.post(
        f"/classes/{s.room.id}/edit",
        {"name": "托小一班", "class_type": "toddler", "room": "201", "capacity": "12"},
    )
    assert response.status_code == 303

    page = text(client.get("/audit/"))
    rows = page.split("data-audit-id=")[1:]
    newest, correction = rows[0], rows[1]
    assert "Changed" in newest and "Class" in newest and s.director.display_name in newest
    assert "Capacity" in newest and "15" in newest and "12" in newest and "11:00" in newest
    assert "Corrected" in correction and "忘记打卡，按排班补录" in correction
    assert "2026-03-10 08:00" in correction  # stored UTC, shown in Shanghai time
    assert "System" in correction

    duty_only = text(client.get("/audit/?entity=duty"))
    assert "忘记打卡，按排班补录" in duty_only and "Capacity" not in duty_only
    class_only = text(client.get(f"/audit/?entity=class&entity_id={s.room.id}"))
    assert class_only.count("data-audit-id=") == 2  # created, then changed
    response = client.get("/audit/?entity_id=abc")
    assert response.status_code == 400 and "Enter a whole number." in text(response)


def test_audit_page_is_paginated(client, auth, build, session):
    s = signed_in_director(build, session, auth)
    for i in range(60):
        build.child(s.fac, s.room, birth_date=TODDLER_BIRTH, name=f"孩子{i:02d}", guardians=0)
    session.commit()
    first = text(client.get("/audit/"))
    assert first.count("data-audit-id=") == 50 and "page=2" in first
    second = text(client.get("/audit/?page=2"))
    assert second.count("data-audit-id=") > 0 and "page=1" in second
    ids_first = {r.split('"')[1] for r in first.split("data-audit-id=")[1:]}
    ids_second = {r.split('"')[1] for r in second.split("data-audit-id=")[1:]}
    assert not ids_first & ids_second


def test_caregiver_cannot_see_alerts_or_audit(client, auth, build, session):
    fac = build.facility()
    room = build.room(fac)
    user = build.user(Role.CAREGIVER, staff=build.staff(fac, classes=[room.id]))
    session.commit()
    auth.login(user)
    assert client.get("/alerts/").status_code == 403
    assert client.get("/audit/").status_code == 403
