"""The door and duty pages through the Flask test client, on both database backends.

Every test signs in, switches the interface to English (so that the assertions read the
English message ids whatever catalogue is installed) and checks both the page and the rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from carewatch.policy import ClassType
from facility_app.accounts.models import Role, User
from facility_app.accounts.permissions import SYSTEM
from facility_app.alerts.models import Alert, AlertKind, Severity
from facility_app.attendance import service as attendance
from facility_app.attendance.models import AbsenceReason, AttendanceRecord, AttendanceStatus
from facility_app.audit.models import AuditEntry
from facility_app.children.models import Child, Guardian
from facility_app.children.service import save_guardian
from facility_app.facility.models import ClassRoom, Facility
from facility_app.staff import service as staff_service
from facility_app.staff.models import DutySession, Staff
from tests.conftest import SHANGHAI, T0

TODDLER_BIRTH = date(2024, 12, 1)  # 15 months old on T0: fits a toddler class (12–24)


@dataclass
class Door:
    """One facility with two toddler classes, their children and the people who sign in."""

    fac: Facility
    room: ClassRoom
    other_room: ClassRoom
    kid: Child
    mother: Guardian
    father: Guardian
    nanny: Guardian  # listed, may drop off, not allowed to pick up
    other_kid: Child
    carer: Staff
    caregiver: User
    director: User


@pytest.fixture
def door(build, session) -> Door:  # type: ignore[no-untyped-def]
    """The shared scene, committed so the app sees it."""
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER, name="托小班")
    other = build.room(fac, ClassType.TODDLER, name="托小二班")
    kid = build.child(fac, room, birth_date=TODDLER_BIRTH, name="王小明")
    nanny = save_guardian(
        session, SYSTEM, kid, now=T0, name="保姆赵", relationship="nanny", can_pick_up=False
    )
    other_kid = build.child(fac, other, birth_date=TODDLER_BIRTH, name="李小红")
    carer = build.staff(fac, classes=[room.id], name="陈老师")
    caregiver = build.user(Role.CAREGIVER, staff=carer)
    director = build.user(Role.DIRECTOR)
    session.commit()
    mother, father = kid.guardians[0], kid.guardians[1]
    return Door(fac, room, other, kid, mother, father, nanny, other_kid, carer, caregiver, director)


def sign_in(auth, user: User) -> None:  # type: ignore[no-untyped-def]
    """Sign in and switch to English for readable assertions."""
    assert auth.login(user).status_code == 302
    auth.post("/auth/language/en")


def door_url(room: ClassRoom) -> str:
    """The door page on a class tab."""
    return f"/attendance/?class_id={room.id}"


def post_from(auth, page: str, url: str, data: dict) -> str:  # type: ignore[no-untyped-def]
    """Submit a form as the browser does from ``page`` and return the page it lands on."""
    response = auth.post(
        url, data, headers={"Referer": f"http://localhost{page}"}, follow_redirects=True
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def flashes(html: str, category: str) -> list[str]:
    """The flash messages of a category on a page."""
    return re.findall(rf'<p class="flash flash-{category}">([^<]*)</p>', html)


def fresh(session) -> None:  # type: ignore[no-untyped-def]
    """Forget what the test's session holds, so that the next reads see the app's commits."""
    # rollback() alone is a no-op right after a commit, and objects outlive commits here.
    session.rollback()
    session.expire_all()


def record(session, child: Child) -> AttendanceRecord | None:  # type: ignore[no-untyped-def]
    """Today's attendance row of a child, read fresh."""
    fresh(session)
    return session.scalar(
        select(AttendanceRecord).where(
            AttendanceRecord.child_id == child.id, AttendanceRecord.day == T0.date()
        )
    )


def audit_actions(session, entity: str) -> list[tuple[str, int | None]]:  # type: ignore[no-untyped-def]
    """(action, user) of the audit entries about an entity, oldest first."""
    fresh(session)
    rows = session.execute(
        select(AuditEntry.action, AuditEntry.user_id)
        .where(AuditEntry.entity == entity)
        .order_by(AuditEntry.id)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def class_row(html: str, room: ClassRoom) -> str:
    """The director page's table row of a class."""
    match = re.search(rf'<tr data-class-id="{room.id}".*?</tr>', html, re.S)
    assert match, f"class {room.id} on the director page"
    return match.group(0)


def cell_number(row: str, css: str) -> int:
    """The number shown in a span of a class row."""
    match = re.search(rf'class="{css}">(\d+)<', row)
    assert match, css
    return int(match.group(1))


# ---------------------------------------------------------------- the page


def test_director_sees_every_class_tab_and_the_children(client, auth, door):
    sign_in(auth, door.director)
    html = client.get(door_url(door.room)).get_data(as_text=True)
    assert (
        f'data-class-id="{door.room.id}"' in html
        and f'data-class-id="{door.other_room.id}"' in html
    )
    assert "王小明" in html and "李小红" not in html  # one tab at a time
    # One tile, not yet arrived, opening the child's panel with one button per listed adult.
    assert 'class="tile state-expected"' in html
    assert html.count('name="guardian_id"') == 3
    assert "Drop off: mother 家长1" in html and "Drop off: nanny 保姆赵" in html
    assert 'name="csrf_token"' in html
    other = client.get(door_url(door.other_room)).get_data(as_text=True)
    assert "李小红" in other and "王小明" not in other
    # Without scripts a tile is a link that reloads the page with the child's panel open.
    assert f'<dialog class="panel" id="panel-{door.kid.id}"' in html and " open>" not in html
    opened = client.get(f"{door_url(door.room)}&child={door.kid.id}").get_data(as_text=True)
    assert re.search(rf'<dialog class="panel" id="panel-{door.kid.id}"[^>]* open>', opened)


def test_caregiver_sees_only_their_class(client, auth, door):
    sign_in(auth, door.caregiver)
    html = client.get("/attendance/").get_data(as_text=True)
    assert "王小明" in html
    assert f'data-class-id="{door.other_room.id}"' not in html and "托小二班" not in html
    assert client.get(door_url(door.other_room)).status_code == 404


@pytest.mark.parametrize("role", [Role.REGULATOR, Role.HEALTH_OFFICER])
def test_read_only_roles_see_tiles_without_actions(client, auth, build, session, door, role):
    viewer = build.user(role)
    session.commit()
    sign_in(auth, viewer)
    html = client.get(door_url(door.room)).get_data(as_text=True)
    assert "王小明" in html
    assert "<dialog" not in html and "/attendance/check-in" not in html
    response = auth.post(
        "/attendance/check-in", {"child_id": door.kid.id, "guardian_id": door.mother.id}
    )
    assert response.status_code == 403
    assert record(session, door.kid) is None


# ---------------------------------------------------------------- check-in and check-out


def test_check_in_then_out_through_the_forms(client, auth, clock, session, door):
    sign_in(auth, door.caregiver)
    page = door_url(door.room)

    html = post_from(
        auth, page, "/attendance/check-in", {"child_id": door.kid.id, "guardian_id": door.mother.id}
    )
    assert flashes(html, "success") == ["Checked in: 王小明 09:00 (brought by 家长1)"]
    assert 'class="tile state-present"' in html
    rec = record(session, door.kid)
    assert rec is not None and rec.status == AttendanceStatus.PRESENT
    assert rec.check_in_at == T0 and rec.check_out_at is None
    assert rec.dropped_off_by_id == door.mother.id
    assert rec.recorded_by_id == door.caregiver.id
    assert audit_actions(session, "attendance") == [("check_in", door.caregiver.id)]

    clock.set(datetime(2026, 3, 10, 16, 30, tzinfo=SHANGHAI))
    html = post_from(
        auth,
        page,
        "/attendance/check-out",
        {"child_id": door.kid.id, "guardian_id": door.father.id},
    )
    assert flashes(html, "success") == ["Checked out: 王小明 16:30 (picked up by 家长2)"]
    assert 'class="tile state-left"' in html and "09:00–16:30" in html
    rec = record(session, door.kid)
    assert rec.check_out_at == datetime(2026, 3, 10, 16, 30, tzinfo=SHANGHAI)
    assert rec.picked_up_by_id == door.father.id and not rec.late_pickup
    assert audit_actions(session, "attendance") == [
        ("check_in", door.caregiver.id),
        ("check_out", door.caregiver.id),
    ]


def test_panel_offers_only_authorised_adults_for_pick_up(client, auth, session, door):
    attendance.check_in(
        session, SYSTEM, door.fac, door.kid, now=T0, dropped_off_by_id=door.nanny.id
    )
    session.commit()
    sign_in(auth, door.caregiver)
    html = client.get(door_url(door.room)).get_data(as_text=True)
    assert "Pick up: mother 家长1" in html and "Pick up: father 家长2" in html
    assert "Pick up: nanny 保姆赵" not in html
    assert "Someone else is picking up" in html


@pytest.mark.parametrize("how", ["typed name", "listed but not authorised"])
def test_unauthorised_pick_up_is_refused_and_reported(client, auth, session, door, how):
    attendance.check_in(
        session, SYSTEM, door.fac, door.kid, now=T0, dropped_off_by_id=door.mother.id
    )
    session.commit()
    sign_in(auth, door.caregiver)
    if how == "typed name":
        form, person = {"child_id": door.kid.id, "other_person": " 张三 "}, "张三"
    else:
        form, person = {"child_id": door.kid.id, "guardian_id": door.nanny.id}, "保姆赵"
    html = post_from(auth, door_url(door.room), "/attendance/check-out", form)

    assert flashes(html, "error") == [
        f"{person} is not authorised to pick up 王小明. The child stays; the director has "
        "been alerted."
    ]
    assert flashes(html, "success") == []
    rec = record(session, door.kid)
    assert rec.status == AttendanceStatus.PRESENT and rec.check_out_at is None
    assert rec.picked_up_by_id is None
    # (The check-in with nobody on duty also raised a ratio alert; only pick-ups matter here.)
    alerts = session.scalars(select(Alert).where(Alert.kind == AlertKind.UNAUTHORISED_PICKUP)).all()
    assert [(a.kind, a.severity, a.child_id, a.class_id) for a in alerts] == [
        (AlertKind.UNAUTHORISED_PICKUP, Severity.CRITICAL, door.kid.id, door.room.id)
    ]
    assert alerts[0].params["person"] == person
    assert audit_actions(session, "attendance") == [
        ("check_in", None),
        ("pickup_refused", door.caregiver.id),
    ]


def test_second_check_in_is_refused(client, auth, clock, session, door):
    sign_in(auth, door.caregiver)
    page = door_url(door.room)
    form = {"child_id": door.kid.id, "guardian_id": door.mother.id}
    post_from(auth, page, "/attendance/check-in", form)
    clock.advance(timedelta(minutes=5))
    html = post_from(auth, page, "/attendance/check-in", {**form, "guardian_id": door.father.id})
    assert flashes(html, "error") == ["王小明 was already checked in today at 09:00."]
    rec = record(session, door.kid)
    assert rec.check_in_at == T0 and rec.dropped_off_by_id == door.mother.id
    assert audit_actions(session, "attendance") == [("check_in", door.caregiver.id)]


def test_check_out_before_check_in_is_refused(client, auth, session, door):
    sign_in(auth, door.caregiver)
    html = post_from(
        auth,
        door_url(door.room),
        "/attendance/check-out",
        {"child_id": door.kid.id, "guardian_id": door.mother.id},
    )
    assert flashes(html, "error") == ["王小明 has not been checked in today."]
    assert record(session, door.kid) is None


def test_child_not_enrolled_today_is_refused(client, auth, build, session, door):
    late = build.child(
        door.fac, door.room, birth_date=TODDLER_BIRTH, name="周小乐", start=date(2026, 3, 11)
    )
    session.commit()
    sign_in(auth, door.director)
    html = client.get(door_url(door.room)).get_data(as_text=True)
    assert "周小乐" not in html  # no tile before the enrolment starts
    html = post_from(
        auth,
        door_url(door.room),
        "/attendance/check-in",
        {"child_id": late.id, "guardian_id": late.guardians[0].id},
    )
    assert flashes(html, "error") == ["周小乐 is not enrolled on 2026-03-10."]
    assert record(session, late) is None


def test_caregiver_cannot_check_in_a_child_of_another_class(client, auth, session, door):
    sign_in(auth, door.caregiver)
    html = post_from(
        auth,
        door_url(door.room),
        "/attendance/check-in",
        {"child_id": door.other_kid.id, "guardian_id": door.other_kid.guardians[0].id},
    )
    # The same answer as for a child that does not exist: ids of other classes leak nothing.
    assert flashes(html, "error") == ["This child does not exist."]
    assert record(session, door.other_kid) is None


def test_closed_day_is_refused(client, auth, clock, session, door):
    clock.set(datetime(2026, 3, 14, 9, 0, tzinfo=SHANGHAI))  # a Saturday
    sign_in(auth, door.director)
    html = client.get(door_url(door.room)).get_data(as_text=True)
    assert "The facility does not serve children today." in html
    html = post_from(
        auth,
        door_url(door.room),
        "/attendance/check-in",
        {"child_id": door.kid.id, "guardian_id": door.mother.id},
    )
    assert flashes(html, "error") == ["The facility does not serve children today."]
    fresh(session)
    assert session.scalar(select(func.count()).select_from(AttendanceRecord)) == 0


INCOMPLETE = "The form is incomplete; please try again."
CHECK_IN, CHECK_OUT, ABSENT = "/attendance/check-in", "/attendance/check-out", "/attendance/absent"


@pytest.mark.parametrize(
    ("url", "form", "message"),
    [
        (CHECK_IN, {"guardian_id": "G"}, INCOMPLETE),
        (CHECK_IN, {"child_id": "abc", "guardian_id": "G"}, INCOMPLETE),
        (CHECK_IN, {"child_id": "K"}, INCOMPLETE),
        (CHECK_IN, {"child_id": "99999", "guardian_id": "G"}, "This child does not exist."),
        (
            CHECK_IN,
            {"child_id": "K", "guardian_id": "OTHER"},
            "This person is not listed for 王小明.",
        ),
        (CHECK_OUT, {"child_id": "K"}, "Choose who is picking up 王小明."),
        (
            CHECK_OUT,
            {"child_id": "K", "other_person": "张" * 61},
            "At most 60 characters are allowed.",
        ),
        (ABSENT, {"child_id": "K", "reason": "holiday"}, "Choose illness, personal or other."),
        (
            ABSENT,
            {"child_id": "K", "reason": "illness", "note": "x" * 501},
            "At most 500 characters are allowed.",
        ),
    ],
)
def test_bad_input_is_refused_with_a_message(client, auth, session, door, url, form, message):
    if url.endswith("check-out"):
        attendance.check_in(
            session, SYSTEM, door.fac, door.kid, now=T0, dropped_off_by_id=door.mother.id
        )
        session.commit()
    ids = {"K": door.kid.id, "G": door.mother.id, "OTHER": door.other_kid.guardians[0].id}
    data = {k: str(ids.get(v, v)) for k, v in form.items()}
    sign_in(auth, door.director)
    html = post_from(auth, door_url(door.room), url, data)
    assert flashes(html, "error") == [message]
    fresh(session)
    refused = select(func.count()).where(Alert.kind == AlertKind.UNAUTHORISED_PICKUP)
    assert session.scalar(refused) == 0
    rec = record(session, door.kid)
    assert rec is None or (rec.status == AttendanceStatus.PRESENT and rec.check_out_at is None)


def test_form_without_csrf_token_is_refused(client, auth, session, door):
    sign_in(auth, door.caregiver)
    response = client.post(
        "/attendance/check-in",
        data={"child_id": door.kid.id, "guardian_id": door.mother.id},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert flashes(html, "error") == ["The form has expired; please try again."]
    assert record(session, door.kid) is None


# ---------------------------------------------------------------- absence and corrections


def test_absence_with_reason_and_note(client, auth, session, door):
    sign_in(auth, door.caregiver)
    html = post_from(
        auth,
        door_url(door.room),
        "/attendance/absent",
        {"child_id": door.kid.id, "reason": "illness", "note": "发烧 38.5"},
    )
    assert flashes(html, "success") == ["Absent: 王小明 (Illness)"]
    assert 'class="tile state-absent"' in html
    rec = record(session, door.kid)
    assert rec.status == AttendanceStatus.ABSENT and rec.absence_reason == AbsenceReason.ILLNESS
    assert rec.note == "发烧 38.5" and rec.check_in_at is None
    assert audit_actions(session, "attendance") == [("absence", door.caregiver.id)]
    # The child came after all: the panel still offers the check-in.
    assert "Drop off: mother 家长1" in html


def test_correct_todays_check_in_time(client, auth, clock, session, door):
    rec = attendance.check_in(
        session, SYSTEM, door.fac, door.kid, now=T0, dropped_off_by_id=door.mother.id
    )
    session.commit()
    clock.set(datetime(2026, 3, 10, 11, 0, tzinfo=SHANGHAI))
    sign_in(auth, door.caregiver)
    page = client.get(f"/attendance/record/{rec.id}/edit").get_data(as_text=True)
    assert 'value="09:00"' in page
    html = post_from(
        auth,
        f"/attendance/record/{rec.id}/edit",
        f"/attendance/record/{rec.id}/edit",
        {"check_in": "8:35", "check_out": ""},
    )
    assert flashes(html, "success") == ["Times corrected: 王小明"]
    corrected = record(session, door.kid)
    assert corrected.check_in_at == datetime(2026, 3, 10, 8, 35, tzinfo=SHANGHAI)
    assert audit_actions(session, "attendance")[-1] == ("correct", door.caregiver.id)


def test_correcting_a_past_day_needs_a_reason(client, auth, clock, session, door):
    monday = datetime(2026, 3, 9, 8, 0, tzinfo=SHANGHAI)
    kid = door.kid
    kid.enrolments[0].start_date = date(2026, 3, 2)
    rec = attendance.check_in(
        session, SYSTEM, door.fac, kid, now=monday, dropped_off_by_id=door.mother.id
    )
    attendance.check_out(
        session,
        SYSTEM,
        door.fac,
        kid,
        now=monday + timedelta(hours=9),
        picked_up_by_id=door.father.id,
    )
    session.commit()
    sign_in(auth, door.director)
    edit = f"/attendance/record/{rec.id}/edit"
    form = {"check_in": "08:00", "check_out": "16:45"}
    html = post_from(auth, edit, edit, form)
    assert flashes(html, "error") == ["A change to a past day needs a reason."]
    html = post_from(auth, edit, edit, {**form, "check_out": "4pm", "reason": "x"})
    assert flashes(html, "error") == ["Enter a time as HH:MM."]
    html = post_from(auth, edit, edit, {**form, "reason": "家长记错时间"})
    assert flashes(html, "success") == ["Times corrected: 王小明"]
    fresh(session)
    corrected = session.get(AttendanceRecord, rec.id)
    assert corrected.check_out_at == datetime(2026, 3, 9, 16, 45, tzinfo=SHANGHAI)
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "correct" and entry.reason == "家长记错时间"


def test_caregiver_cannot_open_another_class_record(client, auth, session, door):
    rec = attendance.check_in(
        session,
        SYSTEM,
        door.fac,
        door.other_kid,
        now=T0,
        dropped_off_by_id=door.other_kid.guardians[0].id,
    )
    session.commit()
    sign_in(auth, door.caregiver)
    html = client.get(f"/attendance/record/{rec.id}/edit", follow_redirects=True).get_data(
        as_text=True
    )
    assert flashes(html, "error") == ["This attendance record does not exist."]


# ---------------------------------------------------------------- duty


def test_duty_clock_in_and_out_changes_the_director_page(client, auth, build, clock, session, door):
    # Three children present in a 1:5 toddler class need one caregiver: ceil(3 / 5) = 1.
    kids = [door.kid] + [
        build.child(door.fac, door.room, birth_date=TODDLER_BIRTH, name=f"孩子{i}") for i in (2, 3)
    ]
    for kid in kids:
        attendance.check_in(
            session,
            SYSTEM,
            door.fac,
            kid,
            now=T0 - timedelta(hours=1),
            dropped_off_by_id=kid.guardians[0].id,
        )
    session.commit()
    sign_in(auth, door.director)
    row = class_row(client.get("/today").get_data(as_text=True), door.room)
    assert (cell_number(row, "present-count"), cell_number(row, "caregiver-count")) == (3, 0)
    assert "Out of ratio" in row

    duty_page = client.get("/attendance/duty").get_data(as_text=True)
    assert "陈老师" in duty_page and "Clock in" in duty_page
    html = post_from(
        auth,
        "/attendance/duty",
        "/attendance/duty/clock-in",
        {"staff_id": door.carer.id, "class_id": door.room.id},
    )
    assert flashes(html, "success") == ["On duty: 陈老师 09:00"]
    assert "On duty since 09:00" in html
    row = class_row(client.get("/today").get_data(as_text=True), door.room)
    assert (cell_number(row, "present-count"), cell_number(row, "caregiver-count")) == (3, 1)
    assert "Within ratio" in row

    clock.advance(timedelta(hours=2))
    html = post_from(
        auth, "/attendance/duty", "/attendance/duty/clock-out", {"staff_id": door.carer.id}
    )
    assert flashes(html, "success") == ["Off duty: 陈老师 11:00"]
    row = class_row(client.get("/today").get_data(as_text=True), door.room)
    assert cell_number(row, "caregiver-count") == 0
    fresh(session)
    duty = session.scalars(select(DutySession)).one()
    assert (duty.class_id, duty.start_at, duty.end_at) == (
        door.room.id,
        T0,
        T0 + timedelta(hours=2),
    )
    assert audit_actions(session, "duty") == [
        ("clock_in", door.director.id),
        ("clock_out", door.director.id),
    ]


def test_on_duty_in_two_classes_is_refused(client, auth, session, door):
    staff_service.clock_in(session, SYSTEM, door.fac, door.carer, door.room.id, now=T0)
    session.commit()
    sign_in(auth, door.director)
    html = post_from(
        auth,
        "/attendance/duty",
        "/attendance/duty/clock-in",
        {"staff_id": door.carer.id, "class_id": door.other_room.id},
    )
    assert flashes(html, "error") == ["陈老师 is on duty in another class; clock out there first."]
    fresh(session)
    open_sessions = session.scalars(select(DutySession).where(DutySession.end_at.is_(None))).all()
    assert [(d.staff_id, d.class_id) for d in open_sessions] == [(door.carer.id, door.room.id)]


def test_caregiver_clocks_in_only_in_an_assigned_class(client, auth, session, door):
    sign_in(auth, door.caregiver)
    duty_page = client.get("/attendance/duty").get_data(as_text=True)
    assert "托小班" in duty_page and "托小二班" not in duty_page
    html = post_from(
        auth,
        "/attendance/duty",
        "/attendance/duty/clock-in",
        {"staff_id": door.carer.id, "class_id": door.other_room.id},
    )
    assert flashes(html, "error") == ["This class is not assigned to you."]
    html = post_from(
        auth,
        "/attendance/duty",
        "/attendance/duty/clock-in",
        {"staff_id": door.carer.id, "class_id": door.room.id},
    )
    assert flashes(html, "success") == ["On duty: 陈老师 09:00"]
    fresh(session)
    assert [d.class_id for d in session.scalars(select(DutySession))] == [door.room.id]


def test_read_only_role_sees_duty_without_buttons(client, auth, build, session, door):
    regulator = build.user(Role.REGULATOR)
    session.commit()
    sign_in(auth, regulator)
    html = client.get("/attendance/duty").get_data(as_text=True)
    assert "陈老师" in html and "/attendance/duty/clock-in" not in html
    response = auth.post(
        "/attendance/duty/clock-in", {"staff_id": door.carer.id, "class_id": door.room.id}
    )
    assert response.status_code == 403
