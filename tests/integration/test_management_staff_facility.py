"""Staff pages and the facility settings page."""

from __future__ import annotations

from datetime import date, time

import pytest

from carewatch.policy import ClassType
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.audit.models import AuditEntry
from facility_app.facility.models import Facility, Grade, Ownership
from facility_app.staff import service as staff_service
from facility_app.staff.models import ClassAssignment, Staff, StaffRole
from tests.integration.management_support import (
    audit_for,
    count,
    fresh,
    signed_in_director,
    text,
)


def _staff_data(**change: object) -> dict[str, object]:
    return {
        "name": "刘老师",
        "role": "caregiver",
        "phone": "13900000000",
        "hire_date": "2024-09-01",
        "leave_date": "",
        **change,
    }


def test_staff_list_shows_roles_classes_and_duty(client, auth, build, session):
    s = signed_in_director(build, session, auth)
    on = build.staff(s.fac, classes=[s.room.id], name="陈老师")
    off = build.staff(s.fac, StaffRole.COOK, name="赵师傅")
    gone = build.staff(s.fac, name="钱老师")
    gone.leave_date = date(2025, 12, 31)
    staff_service.clock_in(session, SYSTEM, s.fac, on, s.room.id, now=build.now)
    session.commit()
    page = text(client.get("/people/staff"))
    row = page.split(f'data-staff-id="{on.id}"', 1)[1].split("</tr>", 1)[0]
    assert "Caregiver" in row and "托小一班" in row and "2020-01-01" in row
    assert "托小一班 since 09:00" in row
    assert f'data-staff-id="{off.id}"' in page and "Cook" in page
    assert f'data-staff-id="{gone.id}"' not in page
    assert f'data-staff-id="{gone.id}"' in text(client.get("/people/staff?former=1"))


def test_director_adds_staff_with_class_checkboxes(client, auth, build, session):
    s = signed_in_director(build, session, auth)
    second = build.room(s.fac, ClassType.OLDER, name="托大一班")
    session.commit()
    response = auth.post(
        "/people/staff/new", _staff_data(class_ids=[str(s.room.id), str(second.id)])
    )
    assert response.status_code == 303
    fresh(session)
    person = session.query(Staff).filter_by(name="刘老师").one()
    assert person.class_ids == {s.room.id, second.id}
    assert person.hire_date == date(2024, 9, 1)

    response = auth.post(
        f"/people/staff/{person.id}/edit",
        _staff_data(class_ids=[str(second.id)], leave_date="2026-06-30"),
    )
    assert response.status_code == 303
    fresh(session)
    person = session.get(Staff, person.id)
    assert person.class_ids == {second.id} and person.leave_date == date(2026, 6, 30)
    entries = [e for e in audit_for(session, "staff") if e.entity_id == person.id]
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[1].before["class_ids"] == sorted([s.room.id, second.id])
    assert entries[1].after["class_ids"] == [second.id]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"leave_date": "2024-08-31"}, "The leaving date is before the hire date."),
        ({"hire_date": ""}, "This field is required."),
        ({"hire_date": "2024-13-01"}, "Enter a real date as YYYY-MM-DD."),
        ({"name": "名" * 61}, "Name must be 1–60 characters."),
        ({"role": "pilot"}, "Unknown staff role."),
        ({"phone": "phone"}, "Use only digits, spaces, +, - and brackets."),
        ({"class_ids": ["x"]}, "Choose one of the options."),
    ],
)
def test_staff_form_refusals_write_nothing(client, auth, build, session, change, message):
    signed_in_director(build, session, auth)
    before = count(session, Staff), count(session, ClassAssignment), count(session, AuditEntry)
    response = auth.post("/people/staff/new", _staff_data(**change))
    assert response.status_code == 422
    assert message in text(response)
    assert (
        count(session, Staff),
        count(session, ClassAssignment),
        count(session, AuditEntry),
    ) == before


def test_caregiver_cannot_reach_staff_pages(client, auth, build, session):
    fac = build.facility()
    room = build.room(fac)
    user = build.user(Role.CAREGIVER, staff=build.staff(fac, classes=[room.id]))
    session.commit()
    auth.login(user)
    assert client.get("/people/staff").status_code == 403
    assert auth.post("/people/staff/new", _staff_data()).status_code == 403
    assert client.get("/facility/").status_code == 403


def _settings(**change: object) -> dict[str, object]:
    return {
        "name": "阳光托育中心（城东）",
        "registration_no": "REG-2026-01",
        "filing_no": "BA-9",
        "address": "城东路 1 号",
        "grade": "level1",
        "ownership": "state_collective",
        "puhui_certified": "1",
        "opening_time": "07:00",
        "closing_time": "18:00",
        "timezone": "Asia/Shanghai",
        **change,
    }


def test_director_updates_facility_settings(client, auth, build, session):
    s = signed_in_director(build, session, auth)
    page = text(client.get("/facility/"))
    limits = page.split('id="policy"', 1)[1]
    assert 'data-class-type="infant"' in limits and "1:3" in limits and ">10<" in limits
    assert "National defaults" in limits

    response = auth.post("/facility/", _settings())
    assert response.status_code == 303
    assert "Facility settings saved." in text(client.get("/facility/"))
    fresh(session)
    fac = session.get(Facility, s.fac.id)
    assert fac.name == "阳光托育中心（城东）" and fac.grade == Grade.LEVEL1
    assert fac.ownership == Ownership.STATE_COLLECTIVE
    assert (fac.opening_time, fac.closing_time) == (time(7, 0), time(18, 0))
    [entry] = audit_for(session, "facility")
    assert entry.before["opening_time"] == "07:30:00" and entry.after["opening_time"] == "07:00:00"
    assert entry.user_id == s.director.id


def test_policy_profile_limits_are_shown(client, auth, build, session):
    fac = build.facility(overrides={"classes": {"toddler": {"children_per_caregiver": 4}}})
    director = build.user(Role.DIRECTOR)
    session.commit()
    auth.login(director)
    limits = text(client.get("/facility/")).split('id="policy"', 1)[1]
    toddler = limits.split('data-class-type="toddler"', 1)[1].split("</tr>", 1)[0]
    assert "1:4" in toddler
    assert "test profile" in limits
    assert fac.id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"opening_time": "18:00", "closing_time": "07:00"},
            "The opening time must be before the closing time.",
        ),
        (
            {"opening_time": "08:00", "closing_time": "08:00"},
            "The opening time must be before the closing time.",
        ),
        ({"closing_time": "25:00"}, "Enter a time as HH:MM."),
        ({"timezone": "Mars/Olympus"}, "Unknown time zone"),
        ({"timezone": "../../etc/passwd"}, "Unknown time zone"),
        ({"name": ""}, "This field is required."),
        ({"name": "名" * 121}, "At most 120 characters are allowed."),
        ({"registration_no": "1" * 61}, "At most 60 characters are allowed."),
        ({"grade": "gold"}, "Choose one of the options."),
    ],
)
def test_facility_refusals_write_nothing(client, auth, build, session, change, message):
    s = signed_in_director(build, session, auth)
    response = auth.post("/facility/", _settings(**change))
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert "城东路 1 号" in page  # the input is kept
    fresh(session)
    fac = session.get(Facility, s.fac.id)
    assert fac.name == "阳光托育中心" and fac.opening_time == time(7, 30)
    assert audit_for(session, "facility") == []
