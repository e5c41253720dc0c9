"""The room view, sleep checks, outdoor time and a child's day through the test client."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from carewatch.policy import ClassType
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.attendance import service as attendance
from facility_app.care.models import CareEntry, Nap, OutdoorPeriod, SleepCheck
from facility_app.staff import service as staff_service

TODDLER_BIRTH = date(2025, 1, 5)


@pytest.fixture
def scene(build, session, clock):  # type: ignore[no-untyped-def]
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER, name="托小班")
    other = build.room(fac, ClassType.TODDLER, name="托小二班")
    kids = [build.child(fac, room, birth_date=TODDLER_BIRTH, name=n) for n in ("王小明", "李小红")]
    absent = build.child(fac, room, birth_date=TODDLER_BIRTH, name="张未到")
    carer = build.staff(fac, classes=[room.id])
    stranger = build.staff(fac, classes=[other.id])
    staff_service.clock_in(session, SYSTEM, fac, carer, room.id, now=clock.now())
    for kid in kids:
        attendance.check_in(
            session, SYSTEM, fac, kid, now=clock.now(), dropped_off_by_id=kid.guardians[0].id
        )
    users = {
        "carer": build.user(Role.CAREGIVER, staff=carer),
        "stranger": build.user(Role.CAREGIVER, staff=stranger),
        "director": build.user(Role.DIRECTOR),
    }
    session.commit()
    return fac, room, kids, absent, users


def test_room_view_logs_water_for_several_children_in_one_post(scene, auth, client, session):
    _, room, kids, absent, users = scene
    auth.login(users["carer"])
    page = client.get(f"/care/room?class_id={room.id}").get_data(as_text=True)
    assert "王小明" in page and "李小红" in page and "张未到" not in page
    r = auth.post(
        "/care/log",
        {"class_id": room.id, "child_id": [k.id for k in kids], "action": "water"},
    )
    assert r.status_code == 303
    assert len(session.scalars(select(CareEntry)).all()) == 2
    # An absent child among the selected refuses the whole post.
    r = auth.post(
        "/care/log",
        {"class_id": room.id, "child_id": [kids[0].id, absent.id], "action": "toilet"},
    )
    assert r.status_code == 303
    page = client.get(f"/care/room?class_id={room.id}").get_data(as_text=True)
    assert "was not present" in page
    assert len(session.scalars(select(CareEntry)).all()) == 2


def test_two_litre_bottle_is_refused_with_a_message(scene, auth, client, session):
    _, room, kids, _, users = scene
    auth.login(users["carer"])
    auth.post(
        "/care/log",
        {"class_id": room.id, "child_id": kids[0].id, "action": "bottle", "amount_ml": "2000"},
    )
    page = client.get(f"/care/room?class_id={room.id}").get_data(as_text=True)
    assert "2000 ml is more than a bottle holds" in page
    assert session.scalars(select(CareEntry)).all() == []


def test_nap_banner_check_and_overdue(scene, auth, client, session, clock):
    _, room, kids, _, users = scene
    auth.login(users["carer"])
    auth.post("/care/log", {"class_id": room.id, "child_id": kids[0].id, "action": "nap_start"})
    session.rollback()
    nap = session.scalars(select(Nap)).one()
    page = client.get(f"/care/room?class_id={room.id}").get_data(as_text=True)
    assert "Next sleep check due at 09:15" in page and 'class="sleep-banner due"' in page
    clock.advance(timedelta(minutes=15, seconds=1))
    page = client.get(f"/care/room?class_id={room.id}").get_data(as_text=True)
    assert 'class="sleep-banner overdue"' in page
    auth.post(
        "/care/sleep-check", {"class_id": room.id, "nap_id": nap.id, f"state_{nap.id}": "side"}
    )
    session.rollback()  # end the test session's read snapshot to see the app's write
    check = session.scalars(select(SleepCheck)).one()
    assert check.position is not None and check.position.value == "side"
    page = client.get(f"/care/room?class_id={room.id}").get_data(as_text=True)
    assert 'class="sleep-banner due"' in page


def test_outdoor_start_and_end_and_the_day_record(scene, auth, client, session, clock):
    _, room, kids, _, users = scene
    auth.login(users["carer"])
    auth.post("/care/outdoor", {"class_id": room.id, "op": "start"})
    clock.advance(timedelta(minutes=45))
    auth.post("/care/outdoor", {"class_id": room.id, "op": "end"})
    period = session.scalars(select(OutdoorPeriod)).one()
    session.refresh(period)
    assert period.ended_at is not None
    page = client.get(f"/care/child/{kids[0].id}/day").get_data(as_text=True)
    assert "Arrival" in page and "Outdoors" in page and "09:00–09:45" in page


def test_caregiver_of_another_class_is_refused(scene, auth, client, session):
    _, room, kids, _, users = scene
    auth.login(users["stranger"])
    assert client.get(f"/care/room?class_id={room.id}").status_code == 404
    r = auth.post("/care/log", {"class_id": room.id, "child_id": kids[0].id, "action": "water"})
    assert r.status_code == 303
    assert session.scalars(select(CareEntry)).all() == []
    assert client.get(f"/care/child/{kids[0].id}/day").status_code == 303


def test_director_page_lists_overdue_checks(scene, auth, client, session, clock):
    _, room, kids, _, users = scene
    auth.login(users["carer"])
    auth.post("/care/log", {"class_id": room.id, "child_id": kids[0].id, "action": "nap_start"})
    auth.logout()
    clock.advance(timedelta(minutes=20))
    auth.login(users["director"])
    page = client.get("/today").get_data(as_text=True)
    assert "Sleep check overdue: 王小明, due 09:15" in page


def test_selected_children_go_outside_and_the_class_comes_in(scene, auth, client, session, clock):
    _, room, kids, _, users = scene
    auth.login(users["carer"])
    r = auth.post(
        "/care/log", {"class_id": room.id, "child_id": [k.id for k in kids], "action": "outside"}
    )
    assert r.status_code == 303
    session.rollback()
    # Every present child selected: one whole-class period, which counts for the class.
    assert [p.child_id for p in session.scalars(select(OutdoorPeriod))] == [None]
    clock.advance(timedelta(minutes=10))
    auth.post("/care/outdoor", {"class_id": room.id, "op": "end"})
    auth.post("/care/log", {"class_id": room.id, "child_id": kids[0].id, "action": "outside"})
    session.rollback()
    periods = session.scalars(select(OutdoorPeriod).order_by(OutdoorPeriod.id)).all()
    assert [p.child_id for p in periods] == [None, kids[0].id]
    clock.advance(timedelta(minutes=20))
    auth.post("/care/outdoor", {"class_id": room.id, "op": "end"})
    session.rollback()
    assert all(p.ended_at is not None for p in session.scalars(select(OutdoorPeriod)))
    first = client.get(f"/care/child/{kids[0].id}/day").get_data(as_text=True)
    assert "09:00–09:10" in first and "09:10–09:30" in first
    second = client.get(f"/care/child/{kids[1].id}/day").get_data(as_text=True)
    assert "09:00–09:10" in second and "09:10–09:30" not in second
