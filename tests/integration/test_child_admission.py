"""Admission exams and vaccinations: recording them, the warnings at the door (service, API
and page), the health record's section, the health officer's list, and who may do what.

The clock stands at Tue 10 March 2026 09:00; the toddler was born 15 January 2025 (13
months old) and starts today unless told otherwise.
"""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from sqlalchemy import select

from carewatch.errors import Conflict, DomainError, Forbidden
from carewatch.policy import ClassType
from edge_agent.compliance import Context, Status
from edge_agent.compliance.base import run
from edge_agent.compliance.rules import rule
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM, Actor
from facility_app.attendance import service as attendance
from facility_app.attendance.models import AttendanceRecord, AttendanceStatus
from facility_app.children.models import Child
from facility_app.health import admission
from health_records.child_exams import ChildHealthExam, Vaccination
from health_records.rules import add_months
from tests.conftest import SHANGHAI, T0
from tests.integration.management_support import (
    TODDLER_BIRTH,
    audit_for,
    count,
    fresh,
    signed_in_director,
    text,
)
from tests.integration.test_api_support import ApiClient

TODAY = T0.date()
#: The doses due by 12 months, overdue at 13 months (see the unit tests): 14 of them.
DUE_BY_A_YEAR = [
    ("HepB", 1, date(2025, 1, 15)),
    ("HepB", 2, date(2025, 2, 15)),
    ("HepB", 3, date(2025, 7, 15)),
    ("BCG", 1, date(2025, 1, 15)),
    ("IPV", 1, date(2025, 3, 15)),
    ("IPV", 2, date(2025, 4, 15)),
    ("bOPV", 1, date(2025, 5, 15)),
    ("DTaP", 1, date(2025, 4, 15)),
    ("DTaP", 2, date(2025, 5, 15)),
    ("DTaP", 3, date(2025, 6, 15)),
    ("MMR", 1, date(2025, 9, 15)),
    ("JE-L", 1, date(2025, 9, 15)),
    ("MPSV-A", 1, date(2025, 7, 15)),
    ("MPSV-A", 2, date(2025, 10, 15)),
]

#: Every dose due by 6 months for a child born 1 September 2025, given.
SIX_MONTHS = [
    ("HepB", 1, date(2025, 9, 1)),
    ("BCG", 1, date(2025, 9, 1)),
    ("HepB", 2, date(2025, 10, 1)),
    ("IPV", 1, date(2025, 11, 1)),
    ("IPV", 2, date(2025, 12, 1)),
    ("DTaP", 1, date(2025, 12, 1)),
    ("DTaP", 2, date(2026, 1, 1)),
    ("bOPV", 1, date(2026, 1, 1)),
    ("DTaP", 3, date(2026, 2, 1)),
    ("HepB", 3, date(2026, 3, 1)),
    ("MPSV-A", 1, date(2026, 3, 1)),
]


def _vaccinate(session, fac, kid, skip: int = 0) -> None:  # type: ignore[no-untyped-def]
    for vaccine, dose, given in DUE_BY_A_YEAR[skip:]:
        admission.record_vaccination(
            session, SYSTEM, fac, kid, now=T0, vaccine=vaccine, dose=dose, given_on=given,
            verified=True,
        )  # fmt: skip


def _exam(session, fac, kid, day: date, kind: str = "admission"):  # type: ignore[no-untyped-def]
    return admission.record_exam(
        session, SYSTEM, fac, kid, now=T0, kind=kind, exam_date=day, result="fit",
        institution="区妇幼保健院",
    )  # fmt: skip


def _present(session, kid, room, day: date) -> None:  # type: ignore[no-untyped-def]
    at = datetime(day.year, day.month, day.day, 8, 30, tzinfo=SHANGHAI)
    session.add(
        AttendanceRecord(
            child_id=kid.id, class_id=room.id, day=day, status=AttendanceStatus.PRESENT,
            check_in_at=at, check_out_at=at.replace(hour=16),
        )
    )  # fmt: skip
    session.flush()


@pytest.fixture
def scene(build, session):  # type: ignore[no-untyped-def]
    """A facility, a toddler class and a toddler starting today with nothing on file."""
    fac = build.facility()
    room = build.room(fac, name="托小一班")
    kid = build.child(fac, room, birth_date=TODDLER_BIRTH, name="王小明")
    session.commit()
    return fac, room, kid


# --- the service ------------------------------------------------------------------------


def test_exams_in_the_future_or_before_birth_are_refused(session, scene):  # type: ignore[no-untyped-def]
    fac, _room, kid = scene
    with pytest.raises(DomainError) as err:
        _exam(session, fac, kid, date(2026, 3, 11))
    assert (err.value.code, err.value.field) == ("date_in_future", "exam_date")
    with pytest.raises(DomainError) as err:
        _exam(session, fac, kid, date(2025, 1, 14))
    assert err.value.code == "date_before_birth"
    with pytest.raises(DomainError) as err:
        admission.record_exam(
            session, SYSTEM, fac, kid, now=T0, kind="admission", exam_date=TODAY,
            result="fit", scan=b"GIF89a", scan_type="image/gif",
        )  # fmt: skip
    assert err.value.code == "scan_type"
    exam = _exam(session, fac, kid, TODAY)
    session.commit()
    assert count(session, ChildHealthExam) == 1
    [entry] = audit_for(session, "child_health_exam", "create")
    assert entry.entity_id == exam.id and entry.after["exam_date"] == "2026-03-10"


def test_vaccinations_out_of_schedule_duplicate_or_impossible_are_refused(session, scene):  # type: ignore[no-untyped-def]
    fac, _room, kid = scene

    def give(vaccine: str, dose: int, day: date):  # type: ignore[no-untyped-def]
        return admission.record_vaccination(
            session, SYSTEM, fac, kid, now=T0, vaccine=vaccine, dose=dose, given_on=day
        )

    cases = [
        ("HepB", 4, date(2025, 8, 1), "dose_out_of_schedule"),  # HepB has 3 doses
        ("HepB", 0, date(2025, 8, 1), "dose_out_of_schedule"),
        ("Varicella", 1, date(2025, 8, 1), "unknown_vaccine"),
        ("HepB", 1, date(2025, 1, 14), "date_before_birth"),
        ("HepB", 1, date(2026, 3, 11), "date_in_future"),
    ]
    for vaccine, dose, day, code in cases:
        with pytest.raises(DomainError) as err:
            give(vaccine, dose, day)
        assert err.value.code == code, (vaccine, dose, day)
    give("HepB", 2, date(2025, 2, 15))
    with pytest.raises(Conflict) as err:
        give("HepB", 2, date(2025, 2, 16))
    assert err.value.code == "duplicate_dose"
    # Dose 1 on or after dose 2, or dose 3 on or before it, is out of order.
    for dose, day in [(1, date(2025, 2, 15)), (3, date(2025, 2, 15))]:
        with pytest.raises(DomainError) as err:
            give("HepB", dose, day)
        assert (err.value.code, err.value.field) == ("dose_order", "given_on")
    give("HepB", 1, TODDLER_BIRTH)
    session.commit()
    assert count(session, Vaccination) == 2
    assert len(audit_for(session, "child_vaccination", "create")) == 2


def test_only_health_writers_record(session, scene):  # type: ignore[no-untyped-def]
    fac, room, kid = scene
    for role in (Role.REGULATOR, Role.CAREGIVER):
        with pytest.raises(Forbidden):
            _exam_as(
                session, Actor(user_id=None, role=role, class_ids=frozenset({room.id})), fac, kid
            )
    officer = Actor(user_id=None, role=Role.HEALTH_OFFICER)
    assert _exam_as(session, officer, fac, kid).id is not None


def _exam_as(session, actor, fac, kid):  # type: ignore[no-untyped-def]
    return admission.record_exam(
        session, actor, fac, kid, now=T0, kind="admission", exam_date=TODAY, result="fit"
    )


def test_check_in_succeeds_and_the_status_says_what_is_missing(session, scene):  # type: ignore[no-untyped-def]
    fac, _room, kid = scene
    rec = attendance.check_in(
        session, SYSTEM, fac, kid, now=T0, dropped_off_by_id=kid.guardians[0].id
    )
    assert rec.status is AttendanceStatus.PRESENT
    st = admission.status(session, fac, kid, TODAY)
    assert st.warnings == ["admission_exam_missing", "vaccinations_missing"]
    assert len(st.missing_doses) == 14
    _vaccinate(session, fac, kid, skip=1)  # all but HepB 1
    st = admission.status(session, fac, kid, TODAY)
    assert [(d.dose.vaccine, d.dose.dose) for d in st.missing_doses] == [("HepB", 1)]
    admission.record_vaccination(
        session, SYSTEM, fac, kid, now=T0, vaccine="HepB", dose=1, given_on=TODDLER_BIRTH
    )
    # Exactly three months before the first day still counts.
    _exam(session, fac, kid, date(2025, 12, 10))
    assert admission.status(session, fac, kid, TODAY).warnings == []


def test_an_admission_exam_older_than_three_months_is_too_old(session, scene):  # type: ignore[no-untyped-def]
    fac, _room, kid = scene
    _vaccinate(session, fac, kid)
    _exam(session, fac, kid, date(2025, 12, 9))
    assert admission.status(session, fac, kid, TODAY).warnings == ["admission_exam_too_old"]


@pytest.mark.parametrize(
    ("last_present", "away", "warned"),
    [(date(2025, 12, 10), 90, True), (date(2025, 12, 11), None, False)],
)
def test_a_child_back_after_ninety_days_needs_a_new_exam(
    build, session, last_present, away, warned
):  # type: ignore[no-untyped-def]
    fac = build.facility()
    room = build.room(fac, name="托小一班")
    birth = date(2024, 6, 1)  # 15 months when starting, 21 months on the day
    kid = build.child(fac, room, birth_date=birth, start=date(2025, 9, 1))
    _exam(session, fac, kid, date(2025, 8, 20))
    for d in fac.policy().admission.vaccine_schedule:
        if d.due_months <= 21:
            given = add_months(birth, d.due_months)
            admission.record_vaccination(
                session, SYSTEM, fac, kid, now=T0, vaccine=d.vaccine, dose=d.dose, given_on=given
            )
    _present(session, kid, room, last_present)
    attendance.check_in(session, SYSTEM, fac, kid, now=T0, dropped_off_by_id=kid.guardians[0].id)
    st = admission.status(session, fac, kid, TODAY)
    assert (st.away_days, st.return_exam_missing) == (away, warned)
    assert st.warnings == (["return_exam_missing"] if warned else [])
    if warned:
        _exam(session, fac, kid, date(2026, 3, 9), kind="return")
        assert admission.status(session, fac, kid, TODAY).warnings == []


def test_statuses_of_a_class_take_three_queries(build, session, scene):  # type: ignore[no-untyped-def]
    fac, room, kid = scene
    kids = [kid] + [build.child(fac, room, birth_date=TODDLER_BIRTH) for _ in range(5)]
    _exam(session, fac, kids[1], TODAY)
    session.commit()
    session.expire_all()
    kids = [session.get(type(kid), k.id) for k in kids]
    fac.policy()  # the facility's row, loaded before counting
    from sqlalchemy import event

    statements: list[str] = []
    engine = session.get_bind()

    def seen(*args) -> None:  # type: ignore[no-untyped-def]
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", seen)
    try:
        found = admission.statuses(session, fac, kids, TODAY)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(statements) == 3
    assert found[kids[1].id].exam.value == "ok" and found[kids[0].id].exam.value == "missing"


# --- the API and the door page -----------------------------------------------------------


def test_api_check_in_carries_machine_readable_warnings(app, build, session, scene):  # type: ignore[no-untyped-def]
    _fac, _room, kid = scene
    director = build.user(Role.DIRECTOR)
    session.commit()
    api = ApiClient(app.test_client())
    assert api.login(director).status_code == 200
    body = {"child_id": kid.id, "dropped_off_by_id": kid.guardians[0].id}
    response = api.post("/attendance/check-in", body)
    assert response.status_code == 201
    answer = response.get_json()
    assert answer["status"] == "present"
    assert [w["code"] for w in answer["warnings"]] == [
        "admission_exam_missing",
        "vaccinations_missing",
    ]
    assert all(w["message"] for w in answer["warnings"])
    reads = audit_for(session, "child_health", "read")
    assert [(r.entity_id, r.after["section"]) for r in reads] == [(kid.id, "door_admission")]


def test_api_check_in_of_a_child_with_everything_on_file_has_no_warnings(
    app, build, session, scene
):  # type: ignore[no-untyped-def]
    fac, _room, kid = scene
    _exam(session, fac, kid, date(2026, 3, 1))
    _vaccinate(session, fac, kid)
    director = build.user(Role.DIRECTOR)
    session.commit()
    api = ApiClient(app.test_client())
    api.login(director)
    response = api.post(
        "/attendance/check-in", {"child_id": kid.id, "dropped_off_by_id": kid.guardians[0].id}
    )
    assert response.status_code == 201 and response.get_json()["warnings"] == []
    assert audit_for(session, "child_health", "read") == []


def test_door_page_checks_in_and_warns_what_to_ask_for(client, auth, build, session, scene):  # type: ignore[no-untyped-def]
    _fac, _room, kid = scene
    director = build.user(Role.DIRECTOR)
    session.commit()
    auth.login(director)
    response = auth.post(
        "/attendance/check-in",
        {"child_id": kid.id, "guardian_id": kid.guardians[0].id},
        follow_redirects=True,
    )
    html = text(response)
    assert response.status_code == 200
    assert "Checked in: 王小明" in html
    assert "王小明: No admission health exam on file" in html
    assert (
        "Vaccinations missing for the child's age: 卡介苗 dose 1、乙肝疫苗 dose 1、乙肝疫苗 dose 2 "
        "and 11 more. Check the vaccination certificate." in html
    )
    assert 'class="flash flash-warning"' in html
    fresh(session)
    assert session.query(AttendanceRecord).filter_by(child_id=kid.id).one().check_in_at
    sections = [r.after["section"] for r in audit_for(session, "child_health", "read")]
    assert sections == ["door_admission"]
    # The door page itself shows no health data, so opening it is not a read.
    assert audit_for(session, "health_list", "read") == []


def test_door_check_in_of_a_child_with_everything_on_file_has_no_warning(
    client, auth, build, session, scene
):  # type: ignore[no-untyped-def]
    fac, _room, kid = scene
    _exam(session, fac, kid, date(2026, 3, 1))
    _vaccinate(session, fac, kid)
    director = build.user(Role.DIRECTOR)
    session.commit()
    auth.login(director)
    response = auth.post(
        "/attendance/check-in",
        {"child_id": kid.id, "guardian_id": kid.guardians[0].id},
        follow_redirects=True,
    )
    html = text(response)
    assert "Checked in: 王小明" in html and 'class="flash flash-warning"' not in html
    assert audit_for(session, "child_health", "read") == []


# --- the record section, the list, permissions ---------------------------------------------


def test_record_section_shows_status_exams_and_schedule_and_is_audited(
    client, auth, build, session
):  # type: ignore[no-untyped-def]
    s = signed_in_director(build, session, auth)
    kid = build.child(s.fac, s.room, birth_date=TODDLER_BIRTH, name="王小明")
    _vaccinate(session, s.fac, kid, skip=2)  # HepB 1 and 2 missing
    session.commit()
    page = text(client.get(f"/health/children/{kid.id}"))
    assert 'data-exam-state="missing"' in page and "No admission exam" in page
    assert 'data-missing-doses="2"' in page
    assert 'data-dose="HepB-1" data-state="overdue"' in page
    assert 'data-dose="HepB-3" data-state="done"' in page
    assert 'data-dose="MMR-2" data-state="not_yet"' in page
    assert "Routine exam due since 2026-01-15" in page
    reads = audit_for(session, "child_health", "read")
    assert [(r.entity_id, r.after["section"]) for r in reads] == [(kid.id, "record")]


def test_forms_add_an_exam_with_its_scan_and_a_vaccination(client, auth, build, session):  # type: ignore[no-untyped-def]
    s = signed_in_director(build, session, auth)
    kid = build.child(s.fac, s.room, birth_date=TODDLER_BIRTH, name="王小明")
    session.commit()
    scan = b"%PDF-1.4 exam form"
    response = auth.post(
        f"/health/children/{kid.id}/exams",
        {
            "kind": "admission", "exam_date": "2026-03-02", "result": "fit_with_notes",
            "institution": "区妇幼保健院", "notes": "轻度贫血，复查",
            "scan": (io.BytesIO(scan), "form.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 303
    response = auth.post(
        f"/health/children/{kid.id}/vaccinations",
        {
            "vaccine": "HepB",
            "dose": "1",
            "given_on": "2025-01-15",
            "place": "市妇幼",
            "verified": "1",
        },
    )
    assert response.status_code == 303
    refused = auth.post(
        f"/health/children/{kid.id}/exams",
        {"kind": "admission", "exam_date": "2026-03-11", "result": "fit"},
        headers={"Referer": f"http://localhost/health/children/{kid.id}"},
        follow_redirects=True,
    )
    assert "This date is in the future." in text(refused)
    assert count(session, ChildHealthExam) == 1
    vac = session.query(Vaccination).one()
    assert (vac.vaccine, vac.dose, vac.verified, vac.verified_by_id) == (
        "HepB", 1, True, s.director.id,
    )  # fmt: skip
    exam = session.query(ChildHealthExam).one()
    page = text(client.get(f"/health/children/{kid.id}"))
    assert 'data-exam-state="ok"' in page and "轻度贫血，复查" in page
    got = client.get(f"/health/children/{kid.id}/exam-scans?exam={exam.id}")
    assert got.status_code == 200 and got.data == scan and got.mimetype == "application/pdf"
    assert client.get(f"/health/children/{kid.id}/exam-scans?exam={exam.id + 1}").status_code == 404
    sections = [r.after["section"] for r in audit_for(session, "child_health", "read")]
    # The refused form went back to the record, which is a read too.
    assert sections == ["record", "record", "exam_scan"]


def test_the_officers_list_shows_what_is_missing_per_class_and_is_audited(
    client, auth, build, session
):  # type: ignore[no-untyped-def]
    s = signed_in_director(build, session, auth)
    missing = build.child(s.fac, s.room, birth_date=TODDLER_BIRTH, name="王小明")
    infants = build.room(s.fac, ClassType.INFANT, name="乳儿班")
    complete = build.child(s.fac, infants, birth_date=date(2025, 9, 1), name="李小红")  # 6 months
    _exam(session, s.fac, complete, date(2026, 3, 1))
    for vaccine, dose, given in SIX_MONTHS:
        admission.record_vaccination(
            session, SYSTEM, s.fac, complete, now=T0, vaccine=vaccine, dose=dose, given_on=given
        )
    session.commit()
    page = text(client.get("/health/children/admission"))
    assert "托小一班" in page and "乳儿班" in page and "Nothing missing in this class." in page
    assert f'data-child-id="{missing.id}"' in page and "王小明" in page
    assert "李小红" not in page
    reads = audit_for(session, "health_list", "read")
    assert [(r.entity_id, r.after["section"]) for r in reads] == [(None, "admission_list")]


def test_the_regulator_sees_and_writes_none_of_it(client, auth, build, session, scene):  # type: ignore[no-untyped-def]
    _fac, _room, kid = scene
    regulator = build.user(Role.REGULATOR)
    session.commit()
    auth.login(regulator)
    assert client.get(f"/health/children/{kid.id}").status_code == 403
    assert client.get("/health/children/admission").status_code == 403
    response = auth.post(
        f"/health/children/{kid.id}/exams",
        {"kind": "admission", "exam_date": "2026-03-02", "result": "fit"},
    )
    assert response.status_code == 403
    response = auth.post(
        f"/health/children/{kid.id}/vaccinations",
        {"vaccine": "HepB", "dose": "1", "given_on": "2025-01-15"},
    )
    assert response.status_code == 403
    assert count(session, ChildHealthExam) == 0 and count(session, Vaccination) == 0
    assert audit_for(session, "child_health", "read") == []


# --- the compliance rule ---------------------------------------------------------------------


def _verdict(session, fac):  # type: ignore[no-untyped-def]
    return run(rule("health.admission"), Context.for_facility(session, fac, T0))


def test_compliance_rule_fails_warns_passes_and_reports_counts_only(build, session, scene):  # type: ignore[no-untyped-def]
    fac, room, kid = scene
    assert _verdict(session, fac).status is Status.UNKNOWN  # nobody present yet
    attendance.check_in(session, SYSTEM, fac, kid, now=T0, dropped_off_by_id=kid.guardians[0].id)
    result = _verdict(session, fac)
    assert result.status is Status.FAIL and result.value == 1
    assert result.evidence == {
        "present": 1,
        "without_admission_exam": 1,
        "without_return_exam": 0,
        "missing_vaccinations": 1,
    }
    assert "王小明" not in str(result.as_report())
    _exam(session, fac, kid, date(2026, 3, 1))
    assert _verdict(session, fac).status is Status.WARN
    _vaccinate(session, fac, kid)
    result = _verdict(session, fac)
    assert (result.status, result.value) == (Status.PASS, 0)
    # A child enrolled but absent today does not count.
    build.child(fac, room, birth_date=TODDLER_BIRTH)
    assert _verdict(session, fac).evidence["present"] == 1


# --- the demo ---------------------------------------------------------------------------------


def test_the_demo_gives_most_children_a_complete_file_and_a_few_gaps(session):  # type: ignore[no-untyped-def]
    from facility_app.demo.seed import seed_demo
    from facility_app.facility.models import Facility

    seed_demo(session, T0, children=60, days=2)
    fac = session.scalar(select(Facility))
    kids = list(session.scalars(select(Child)))
    found = admission.statuses(session, fac, kids, TODAY).values()
    complete = sum(1 for s in found if s.exam.value == "ok" and not s.missing_doses)
    assert len(kids) >= 60 and complete >= 0.7 * len(kids)
    assert any(s.exam.value == "missing" for s in found)
    assert any(s.missing_doses for s in found)
