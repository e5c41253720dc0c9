"""The director's page for today, with hand-counted figures."""

from __future__ import annotations

import re
from datetime import date, timedelta

from carewatch.policy import ClassType
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.attendance import service as attendance
from facility_app.staff import service as staff_service


def _row(page: str, class_id: int) -> str:
    match = re.search(rf'<tr data-class-id="{class_id}".*?</tr>', page, re.S)
    assert match, f"class {class_id} has a row"
    return match.group(0)


def test_today_counts_present_expected_absent_and_flags_age(client, auth, build, session, clock):
    fac = build.facility()
    infants = build.room(fac, ClassType.INFANT, name="小星星")  # 1:3
    kids = [build.child(fac, infants, birth_date=date(2025, 6, 1)) for _ in range(4)]
    # Enrolled at 11 months on 2 March; 12 months on 10 March: outgrown the infant class.
    grown = build.child(
        fac, infants, birth_date=date(2025, 3, 5), name="大宝", start=date(2026, 3, 2)
    )
    carer = build.staff(fac, classes=[infants.id])
    director = build.user(Role.DIRECTOR)
    staff_service.clock_in(session, SYSTEM, fac, carer, infants.id, now=clock.now())
    for k in kids[:3]:
        attendance.check_in(
            session, SYSTEM, fac, k, now=clock.now(), dropped_off_by_id=k.guardians[0].id
        )
    attendance.mark_absent(
        session, SYSTEM, fac, kids[3], now=clock.now(), day=clock.now().date(), reason="illness"
    )
    session.commit()
    auth.login(director)
    page = client.get("/today").get_data(as_text=True)
    row = _row(page, infants.id)
    # 5 enrolled, 1 absent: 4 expected, 3 present; 1 caregiver for 3 infants is within 1:3.
    assert re.search(r'class="present-count">3</span> / 4', row)
    assert 'class="caregiver-count">1</span>' in row
    assert "badge-ok" in row.split('class="ratio-status"')[1].split("</td>")[0]
    assert "大宝" in page.split("Age does not fit the class")[1]
    assert "12" in page.split("Age does not fit the class")[1]
    # A fourth infant makes it 4 for one caregiver: out of ratio at once.
    attendance.check_in(
        session, SYSTEM, fac, grown, now=clock.now(), dropped_off_by_id=grown.guardians[0].id
    )
    session.commit()
    row = _row(client.get("/today").get_data(as_text=True), infants.id)
    assert 'class="present-count">4</span>' in row
    assert "badge-bad" in row.split('class="ratio-status"')[1].split("</td>")[0]


def test_after_closing_open_check_ins_are_called_out(client, auth, build, session, clock):
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER)
    kid = build.child(fac, room, birth_date=date(2025, 1, 5), name="晚走")
    director = build.user(Role.DIRECTOR)
    attendance.check_in(
        session, SYSTEM, fac, kid, now=clock.now(), dropped_off_by_id=kid.guardians[0].id
    )
    session.commit()
    auth.login(director)
    before = client.get("/today").get_data(as_text=True)
    assert "Closing time has passed" not in before
    clock.advance(timedelta(hours=9))  # 18:00, closing is 17:30
    after = client.get("/today").get_data(as_text=True)
    assert "Closing time has passed" in after
    assert "晚走" in after.split("Closing time has passed")[1]
