"""Children pages: scoped lists, the child's page, and the child, enrolment and guardian forms."""

from __future__ import annotations

from datetime import date

import pytest

from carewatch.policy import ClassType
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.attendance import service as attendance
from facility_app.audit.models import AuditEntry
from facility_app.children.models import Child, Enrolment, Guardian, Sex
from tests.integration.management_support import (
    INFANT_BIRTH,
    OLDER_BIRTH,
    TODDLER_BIRTH,
    audit_for,
    count,
    fresh,
    signed_in_director,
    text,
)


def _child_data(**change: str) -> dict[str, str]:
    return {
        "name": "王小明",
        "sex": "male",
        "birth_date": "2025-01-15",
        "allergies": "花生",
        "notes": "",
        **change,
    }


def test_caregiver_list_and_detail_are_limited_to_own_class(client, auth, build, session):
    fac = build.facility()
    own, other = build.room(fac, name="A班"), build.room(fac, name="B班")
    mine = build.child(fac, own, birth_date=TODDLER_BIRTH, name="甲")
    theirs = build.child(fac, other, birth_date=TODDLER_BIRTH, name="乙")
    user = build.user(Role.CAREGIVER, staff=build.staff(fac, classes=[own.id]))
    session.commit()
    auth.login(user)
    page = text(client.get("/people/children"))
    assert f'data-child-id="{mine.id}"' in page
    assert f'data-child-id="{theirs.id}"' not in page
    assert client.get(f"/people/children/{mine.id}").status_code == 200
    assert client.get(f"/people/children/{theirs.id}").status_code == 404
    assert client.get("/people/children/9999").status_code == 404
    assert client.get(f"/people/children/{mine.id}/edit").status_code == 403


def test_director_searches_by_name_and_filters_by_class(client, auth, build, session):
    s = signed_in_director(build, session, auth)
    infants = build.room(s.fac, ClassType.INFANT, name="乳儿班")
    a = build.child(s.fac, s.room, birth_date=TODDLER_BIRTH, name="李小红")
    b = build.child(s.fac, s.room, birth_date=TODDLER_BIRTH, name="张小兰")
    c = build.child(s.fac, infants, birth_date=INFANT_BIRTH, name="李小华")
    session.commit()
    found = text(client.get("/people/children?q=李"))
    assert all(f'data-child-id="{k.id}"' in found for k in (a, c))
    assert f'data-child-id="{b.id}"' not in found
    in_class = text(client.get(f"/people/children?class_id={infants.id}"))
    assert f'data-child-id="{c.id}"' in in_class
    assert f'data-child-id="{a.id}"' not in in_class


def test_child_page_shows_age_allergies_guardians_and_attendance(client, auth, build, session):
    s = signed_in_director(build, session, auth)
    kid = build.child(s.fac, s.room, birth_date=TODDLER_BIRTH, name="王小明")
    kid.allergies = "鸡蛋、花生"
    kid.guardians[1].can_pick_up = False
    attendance.check_in(
        session, SYSTEM, s.fac, kid, now=build.now, dropped_off_by_id=kid.guardians[0].id
    )
    session.commit()
    page = text(client.get(f"/people/children/{kid.id}"))
    assert "2025-01-15" in page
    assert "13 months" in page
    assert 'class="allergy"' in page and "鸡蛋、花生" in page
    assert "May pick up" in page and "May not pick up" in page
    assert "托小一班" in page
    attendance_table = page.split('id="attendance"', 1)[1]
    assert "2026-03-10" in attendance_table and "09:00" in attendance_table
    assert "家长1" in attendance_table


def test_director_registers_a_child_then_edits_with_a_reason(client, auth, build, session):
    signed_in_director(build, session, auth)
    response = auth.post("/people/children/new", _child_data())
    assert response.status_code == 303
    fresh(session)
    kid = session.query(Child).filter_by(name="王小明").one()
    assert (kid.sex, kid.birth_date, kid.allergies) == (Sex.MALE, TODDLER_BIRTH, "花生")
    assert "Child saved." in text(client.get(response.headers["Location"]))

    response = auth.post(
        f"/people/children/{kid.id}/edit",
        _child_data(allergies="花生、牛奶", reason="家长补充过敏信息"),
    )
    assert response.status_code == 303
    entries = [e for e in audit_for(session, "child") if e.entity_id == kid.id]
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[1].after["allergies"] == "花生、牛奶"
    assert entries[1].reason == "家长补充过敏信息"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"birth_date": "2026-03-11"}, "The birth date is in the future."),
        ({"birth_date": "2019-01-01"}, "please check the date"),
        ({"birth_date": "2025-02-30"}, "Enter a real date as YYYY-MM-DD."),
        ({"birth_date": ""}, "This field is required."),
        ({"name": ""}, "This field is required."),
        ({"name": "名" * 61}, "At most 60 characters are allowed."),
        ({"sex": ""}, "Choose female or male."),
        ({"allergies": "花" * 501}, "At most 500 characters are allowed."),
    ],
)
def test_child_form_refusals_write_nothing(client, auth, build, session, change, message):
    signed_in_director(build, session, auth)
    before = count(session, Child), count(session, AuditEntry)
    response = auth.post("/people/children/new", _child_data(**change))
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert 'aria-invalid="true"' in page
    if "name" not in change:
        assert 'value="王小明"' in page  # what was typed is still there
    assert (count(session, Child), count(session, AuditEntry)) == before


def _enrol(auth, kid, **change):
    data = {
        "class_id": str(change.pop("class_id")),
        "care_type": "full_day",
        "start_date": "2026-03-16",
        "end_date": "",
        **change,
    }
    return auth.post(f"/people/children/{kid.id}/enrolments/new", data)


def test_enrolment_added_and_ended(client, auth, build, session):
    s = signed_in_director(build, session, auth)
    kid = build.child(s.fac, s.room, birth_date=TODDLER_BIRTH, end=date(2026, 3, 13))
    session.commit()
    response = _enrol(auth, kid, class_id=s.room.id, care_type="half_day", puhui_place="1")
    assert response.status_code == 303
    fresh(session)
    new = session.query(Enrolment).filter_by(child_id=kid.id, start_date=date(2026, 3, 16)).one()
    assert (new.care_type.value, new.puhui_place, new.end_date) == ("half_day", True, None)
    assert "Enrolment added." in text(client.get(f"/people/children/{kid.id}"))

    response = auth.post(
        f"/people/children/{kid.id}/enrolments/{new.id}/end",
        {"end_date": "2026-06-30", "reason": "家庭搬迁"},
    )
    assert response.status_code == 303
    fresh(session)
    assert session.get(Enrolment, new.id).end_date == date(2026, 6, 30)
    ended = [e for e in audit_for(session, "enrolment", "update") if e.entity_id == new.id]
    assert ended[0].reason == "家庭搬迁"
    assert ended[0].after["end_date"] == "2026-06-30"


def test_enrolment_refusals_write_nothing(client, auth, build, session):
    s = signed_in_director(build, session, auth)
    infants = build.room(s.fac, ClassType.INFANT, name="乳儿班")
    older = build.room(s.fac, ClassType.OLDER, name="托大班")
    kid = build.child(s.fac, s.room, birth_date=TODDLER_BIRTH, end=date(2026, 3, 31))
    baby = build.child(s.fac, infants, birth_date=INFANT_BIRTH, end=date(2026, 3, 31))
    big = build.child(s.fac, older, birth_date=OLDER_BIRTH, end=date(2026, 3, 31))
    session.commit()
    before = count(session, Enrolment), count(session, AuditEntry)
    cases = [
        (
            kid,
            {"class_id": s.room.id, "start_date": "2026-03-20"},
            409,
            "overlaps the child's enrolment from 2026-03-10",
        ),
        (
            baby,
            {"class_id": s.room.id, "start_date": "2026-04-01"},
            422,
            "this class takes children of 12 to 24 months",
        ),
        (
            big,
            {"class_id": s.room.id, "start_date": "2026-04-01"},
            422,
            "the child is 31 months old",
        ),
        (
            kid,
            {"class_id": infants.id, "start_date": "2026-04-01"},
            422,
            "On 2026-04-01 the child is 14 months old",
        ),
        (
            kid,
            {"class_id": s.room.id, "start_date": "2026-05-01", "end_date": "2026-04-01"},
            422,
            "The enrolment ends before it starts.",
        ),
        (
            kid,
            {"class_id": s.room.id, "start_date": "2026-04-01", "care_type": "weekly"},
            422,
            "Unknown care type.",
        ),
        (kid, {"class_id": s.room.id, "start_date": ""}, 422, "This field is required."),
        (kid, {"class_id": "", "start_date": "2026-04-01"}, 422, "This field is required."),
    ]
    for child, change, status, message in cases:
        response = _enrol(auth, child, **change)
        assert response.status_code == status, change
        assert message in text(response), change
    assert (count(session, Enrolment), count(session, AuditEntry)) == before

    enrolment = kid.enrolments[0]
    response = auth.post(
        f"/people/children/{kid.id}/enrolments/{enrolment.id}/end", {"end_date": "2026-03-01"}
    )
    assert response.status_code == 422
    assert "The enrolment ends before it starts." in text(response)
    fresh(session)
    assert session.get(Enrolment, enrolment.id).end_date == date(2026, 3, 31)


def test_guardian_added_and_pickup_withdrawn(client, auth, build, session):
    s = signed_in_director(build, session, auth)
    kid = build.child(s.fac, s.room, birth_date=TODDLER_BIRTH, guardians=1)
    session.commit()
    response = auth.post(
        f"/people/children/{kid.id}/guardians/new",
        {
            "name": "王奶奶",
            "relationship": "奶奶",
            "phone": "138 0000 0000",
            "can_pick_up": "1",
            "active": "1",
        },
    )
    assert response.status_code == 303
    fresh(session)
    grandma = session.query(Guardian).filter_by(child_id=kid.id, name="王奶奶").one()
    assert (grandma.is_guardian, grandma.can_pick_up, grandma.active) == (False, True, True)

    response = auth.post(
        f"/people/children/{kid.id}/guardians/{grandma.id}/edit",
        {"name": "王奶奶", "relationship": "奶奶", "phone": "138 0000 0000", "active": "1"},
    )
    assert response.status_code == 303
    fresh(session)
    assert session.get(Guardian, grandma.id).can_pick_up is False
    entries = [e for e in audit_for(session, "guardian") if e.entity_id == grandma.id]
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[1].before["can_pick_up"] is True and entries[1].after["can_pick_up"] is False
    assert "May not pick up" in text(client.get(f"/people/children/{kid.id}"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"relationship": ""}, "This field is required."),
        ({"relationship": "关" * 31}, "At most 30 characters are allowed."),
        ({"phone": "call me"}, "Use only digits, spaces, +, - and brackets."),
        ({"phone": "1" * 31}, "At most 30 characters are allowed."),
    ],
)
def test_guardian_refusals_write_nothing(client, auth, build, session, change, message):
    s = signed_in_director(build, session, auth)
    kid = build.child(s.fac, s.room, birth_date=TODDLER_BIRTH, guardians=1)
    session.commit()
    before = count(session, Guardian), count(session, AuditEntry)
    data = {
        "name": "王奶奶",
        "relationship": "奶奶",
        "phone": "13800000000",
        "can_pick_up": "1",
        **change,
    }
    response = auth.post(f"/people/children/{kid.id}/guardians/new", data)
    assert response.status_code == 422
    assert message in text(response)
    assert (count(session, Guardian), count(session, AuditEntry)) == before
