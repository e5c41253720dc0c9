"""Class pages: the list, the class form, and the breach history with its CSV export."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

from carewatch.policy import ClassType
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.attendance import service as attendance
from facility_app.facility.models import ClassRoom
from facility_app.staff import service as staff_service
from tests.conftest import SHANGHAI
from tests.integration.management_support import (
    TODDLER_BIRTH,
    audit_for,
    count,
    fresh,
    signed_in_director,
    text,
)

HALF_HOUR = timedelta(minutes=30)


def _breaches(build, session, clock, fac, room):
    """Monday 10:00–10:45 and Tuesday 09:00–09:30: 6 children, 1 caregiver, 1:5 class."""
    kids = [
        build.child(fac, room, birth_date=TODDLER_BIRTH, start=date(2026, 3, 2)) for _ in range(6)
    ]
    first, second = (build.staff(fac, classes=[room.id]) for _ in range(2))
    session.commit()

    clock.set(datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI))
    staff_service.clock_in(session, SYSTEM, fac, first, room.id, now=clock.now())
    for kid in kids:
        attendance.check_in(
            session, SYSTEM, fac, kid, now=clock.now(), dropped_off_by_id=kid.guardians[0].id
        )
    clock.advance(timedelta(minutes=45))
    attendance.check_out(
        session, SYSTEM, fac, kids[0], now=clock.now(), picked_up_by_id=kids[0].guardians[0].id
    )
    clock.advance(timedelta(minutes=15))
    for kid in kids[1:]:
        attendance.check_out(
            session, SYSTEM, fac, kid, now=clock.now(), picked_up_by_id=kid.guardians[0].id
        )
    staff_service.clock_out(session, SYSTEM, fac, first, now=clock.now())

    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI))
    staff_service.clock_in(session, SYSTEM, fac, first, room.id, now=clock.now())
    for kid in kids:
        attendance.check_in(
            session, SYSTEM, fac, kid, now=clock.now(), dropped_off_by_id=kid.guardians[0].id
        )
    clock.advance(HALF_HOUR)
    staff_service.clock_in(session, SYSTEM, fac, second, room.id, now=clock.now())
    session.commit()
    return kids


def test_class_list_shows_limits_enrolment_and_live_ratio(client, auth, build, session, clock):
    s = signed_in_director(build, session, auth)
    _breaches(build, session, clock, s.fac, s.room)
    page = text(client.get("/classes/"))
    assert "托小一班" in page
    row = page.split(f'data-class-id="{s.room.id}"', 1)[1].split("</tr>", 1)[0]
    assert "15 / 15" in row  # capacity against the policy limit
    assert ">6<" in row.replace(" ", "")  # enrolled today and present
    assert "Within ratio" in row  # two caregivers for six children now


def test_breach_history_shows_hand_worked_periods(client, auth, build, session, clock):
    s = signed_in_director(build, session, auth)
    _breaches(build, session, clock, s.fac, s.room)
    response = client.get(f"/classes/{s.room.id}")
    assert response.status_code == 200
    page = text(response)
    rows = page.split('<table class="breaches">', 1)[1].split("</table>", 1)[0]
    tuesday, monday = rows.split("data-breach-id=")[1:]  # newest first
    for fragment in (
        "2026-03-10",
        "Out of ratio",
        "09:00",
        "09:30",
        "30 min",
        "2 caregivers needed",
    ):
        assert fragment in tuesday
    assert 'class="num peak">6<' in tuesday and 'class="num min-caregivers">1<' in tuesday
    for fragment in ("2026-03-09", "10:00", "10:45", "45 min"):
        assert fragment in monday
    assert "2 breaches from 2026-02-09 to 2026-03-10, 75 minutes in total." in page

    only_tuesday = text(client.get(f"/classes/{s.room.id}?start=2026-03-10&end=2026-03-10"))
    assert only_tuesday.count("data-breach-id=") == 1
    assert "09:30" in only_tuesday


def test_breach_history_csv_opens_in_excel(client, auth, build, session, clock):
    s = signed_in_director(build, session, auth)
    _breaches(build, session, clock, s.fac, s.room)
    response = client.get(f"/classes/{s.room.id}/breaches.csv?start=2026-03-01&end=2026-03-10")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark for Excel
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["班级", "日期", "类型"]
    assert rows[1:] == [
        ["托小一班", "2026-03-10", "师幼比不达标", "09:00", "09:30", "30", "6", "1", "2", ""],
        ["托小一班", "2026-03-09", "师幼比不达标", "10:00", "10:45", "45", "6", "1", "2", ""],
    ]


def test_bad_history_range_is_explained(client, auth, build, session):
    s = signed_in_director(build, session, auth)
    response = client.get(f"/classes/{s.room.id}?start=2026-03-10&end=2026-03-01")
    assert response.status_code == 400
    assert "The start date is after the end date." in text(response)
    response = client.get(f"/classes/{s.room.id}?start=2026-02-30")
    assert response.status_code == 400
    assert "Enter a real date as YYYY-MM-DD." in text(response)


def test_director_creates_and_edits_a_class(client, auth, build, session):
    s = signed_in_director(build, session, auth)
    response = auth.post(
        "/classes/new",
        {"name": "乳儿一班", "class_type": "infant", "room": "101", "capacity": "8"},
    )
    assert response.status_code == 303
    fresh(session)
    room = session.query(ClassRoom).filter_by(name="乳儿一班").one()
    assert (room.class_type, room.room, room.capacity) == (ClassType.INFANT, "101", 8)
    assert response.headers["Location"].endswith(f"/classes/{room.id}")
    assert "Class saved." in text(client.get(response.headers["Location"]))

    response = auth.post(
        f"/classes/{room.id}/edit",
        {"name": "乳儿一班", "class_type": "infant", "room": "102", "capacity": "10"},
    )
    assert response.status_code == 303
    entries = [e for e in audit_for(session, "class") if e.entity_id == room.id]
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[1].before["capacity"] == 8 and entries[1].after["capacity"] == 10
    assert s.director.id == entries[1].user_id


def test_class_form_refusals_keep_input_and_write_nothing(client, auth, build, session):
    s = signed_in_director(build, session, auth)
    before = count(session, ClassRoom), len(audit_for(session, "class"))
    cases = [
        ({"capacity": "11", "class_type": "infant"}, 422, "Capacity must be between 1 and 10"),
        ({"capacity": "abc"}, 422, "Enter a whole number."),
        ({"name": ""}, 422, "Class name must be 1–60 characters."),
        ({"name": "班" * 61}, 422, "Class name must be 1–60 characters."),
        ({"room": "房" * 61}, 422, "At most 60 characters are allowed."),
        ({"name": s.room.name}, 409, "Another class already has this name."),
        ({"class_type": "teens"}, 422, "Unknown class type."),
    ]
    for change, status, message in cases:
        data = {"name": "新班", "class_type": "toddler", "room": "R-7", "capacity": "12", **change}
        response = auth.post("/classes/new", data)
        assert response.status_code == status, change
        page = text(response)
        assert message in page, change
        assert 'value="R-7"' in page or "room" in change  # the input is kept
    assert (count(session, ClassRoom), len(audit_for(session, "class"))) == before


def test_caregiver_sees_only_own_class_and_cannot_edit(client, auth, build, session):
    fac = build.facility()
    own, other = build.room(fac, name="A班"), build.room(fac, name="B班")
    me = build.staff(fac, classes=[own.id])
    user = build.user(Role.CAREGIVER, staff=me)
    session.commit()
    auth.login(user)
    page = text(client.get("/classes/"))
    assert "A班" in page and "B班" not in page
    assert client.get(f"/classes/{own.id}").status_code == 200
    assert client.get(f"/classes/{other.id}").status_code == 404
    assert client.get(f"/classes/{other.id}/breaches.csv").status_code == 404
    assert client.get("/classes/new").status_code == 403
    assert auth.post(f"/classes/{own.id}/edit", {"name": "X"}).status_code == 403


def test_regulator_sees_breach_history_without_childrens_names(client, auth, build, session, clock):
    s = signed_in_director(build, session, auth)
    kids = _breaches(build, session, clock, s.fac, s.room)
    regulator = build.user(Role.REGULATOR)
    session.commit()
    auth.logout()
    auth.login(regulator)
    page = text(client.get(f"/classes/{s.room.id}"))
    assert page.count("data-breach-id=") == 2
    assert kids[0].name not in page and 'id="children"' not in page
    assert client.get(f"/classes/{s.room.id}/breaches.csv").status_code == 200
    assert client.get(f"/classes/{s.room.id}/edit").status_code == 403
