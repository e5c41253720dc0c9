"""Staff credentials: the ratio counts only credentialled caregivers; the ban list; bad input."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from carewatch.errors import Conflict, DomainError
from carewatch.policy import ClassType
from facility_app.accounts.permissions import SYSTEM
from facility_app.alerts.models import Alert, AlertKind
from facility_app.attendance import service as attendance
from facility_app.credentials import service as credentials
from facility_app.credentials.models import BanListEntry, StaffCertificate, TrainingRecord
from facility_app.credentials.summary import findings, staff_summary
from facility_app.facility.service import today
from facility_app.ratio.service import live_status
from facility_app.staff import service as staff_service
from health_records.models import StaffHealthExam

TODDLER_BIRTH = date(2024, 9, 1)
BANNED_ID = "11010519491231002X"


def _count(session, model) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def toddlers(build, session):  # type: ignore[no-untyped-def]
    """A toddler class (1:5) with six children present."""
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER)
    for _ in range(6):
        kid = build.child(fac, room, birth_date=TODDLER_BIRTH)
        attendance.check_in(
            session, SYSTEM, fac, kid, now=build.now, dropped_off_by_id=kid.guardians[0].id
        )
    return fac, room


def test_an_uncertified_caregiver_does_not_count_toward_the_ratio(build, session, toddlers):  # type: ignore[no-untyped-def]
    fac, room = toddlers
    certified = build.staff(fac, classes=[room.id])
    newcomer = build.staff(fac, classes=[room.id], credentials=False)
    for person in (certified, newcomer):
        staff_service.clock_in(session, SYSTEM, fac, person, room.id, now=build.now)
    # 6 children need 2 caregivers at 1:5; only one of the two on duty counts.
    status = live_status(session, fac, [room], build.now)[room.id]
    assert (status.present, status.caregivers, status.required, status.ratio_ok) == (6, 1, 2, False)
    build.credentials(fac, newcomer)
    status = live_status(session, fac, [room], build.now)[room.id]
    assert (status.caregivers, status.ratio_ok) == (2, True)


def test_a_certificate_stops_counting_on_its_expiry_day(build, session, toddlers, clock):  # type: ignore[no-untyped-def]
    fac, room = toddlers
    day = today(fac, build.now)
    a = build.staff(fac, classes=[room.id])
    b = build.staff(fac, classes=[room.id], credentials=False)
    build.credentials(fac, b, expires_on=day + timedelta(days=1))
    for person in (a, b):
        staff_service.clock_in(session, SYSTEM, fac, person, room.id, now=build.now)
    assert live_status(session, fac, [room], build.now)[room.id].caregivers == 2
    tomorrow = build.now + timedelta(days=1)
    assert live_status(session, fac, [room], tomorrow)[room.id].caregivers == 1


def test_without_a_health_exam_a_certified_caregiver_does_not_count(build, session, toddlers):  # type: ignore[no-untyped-def]
    fac, room = toddlers
    person = build.staff(fac, classes=[room.id])
    session.execute(text("DELETE FROM staff_health_exam"))
    staff_service.clock_in(session, SYSTEM, fac, person, room.id, now=build.now)
    assert live_status(session, fac, [room], build.now)[room.id].caregivers == 0


def test_the_gate_is_policy(build, session):  # type: ignore[no-untyped-def]
    fac = build.facility(overrides={"staff": {"credentials_gate_ratio": False}})
    room = build.room(fac, ClassType.TODDLER)
    person = build.staff(fac, classes=[room.id], credentials=False)
    staff_service.clock_in(session, SYSTEM, fac, person, room.id, now=build.now)
    assert live_status(session, fac, [room], build.now)[room.id].caregivers == 1


def test_ban_list_import_reports_bad_rows_stores_hashes_and_alerts_on_a_match(build, session):  # type: ignore[no-untyped-def]
    fac = build.facility()
    person = build.staff(fac)
    credentials.set_id_number(session, SYSTEM, fac, person.id, now=build.now, id_number=BANNED_ID)
    csv_text = (
        "\ufeff姓名,身份证号\n"
        f"张某,{BANNED_ID.lower()}\n"
        "李某,110105194912310021\n"  # wrong check character
        ",11010519491231002X\n"  # no name
        "王某\n"  # no number
        "赵某,440101199001010011\n"
    )
    result = credentials.import_ban_list(
        session, SYSTEM, fac, now=build.now, csv_text=csv_text, source="卫健局 2026-03"
    )
    assert result.rows_ok == 2
    assert [line for line, _ in result.bad_rows] == [3, 4, 5]
    assert result.matched_staff_ids == [person.id]
    alerts = session.scalars(select(Alert).where(Alert.kind == AlertKind.BAN_LIST_MATCH)).all()
    assert [a.params["staff_id"] for a in alerts] == [person.id]
    hashes = session.scalars(select(BanListEntry.id_hash)).all()
    assert all(len(h) == 64 and BANNED_ID not in h for h in hashes)
    assert person.id_number_hash in hashes
    dump = str(session.execute(text("SELECT * FROM ban_list_entry")).all())
    dump += str(session.execute(text("SELECT * FROM staff")).all())
    assert BANNED_ID not in dump and "440101199001010011" not in dump


def test_a_banned_person_cannot_be_given_a_staff_record(build, session):  # type: ignore[no-untyped-def]
    fac = build.facility()
    credentials.import_ban_list(session, SYSTEM, fac, now=build.now, csv_text=f"张某,{BANNED_ID}\n")
    person = build.staff(fac)
    with pytest.raises(credentials.BannedPerson) as info:
        credentials.set_id_number(
            session, SYSTEM, fac, person.id, now=build.now, id_number=BANNED_ID
        )
    assert info.value.code == "on_ban_list"
    info.value.follow_up(session)
    assert session.scalar(select(func.count()).where(Alert.kind == AlertKind.BAN_LIST_MATCH)) == 1


def test_a_ban_list_without_any_good_row_imports_nothing(build, session):  # type: ignore[no-untyped-def]
    fac = build.facility()
    with pytest.raises(DomainError) as info:
        credentials.import_ban_list(session, SYSTEM, fac, now=build.now, csv_text="x,1\n,\n")
    assert info.value.code == "empty_ban_list"
    assert _count(session, BanListEntry) == 0


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"valid_from": date(2025, 1, 1), "expires_on": date(2025, 1, 1)}, "ends_before_start"),
        ({"valid_from": date(2025, 1, 1), "expires_on": date(2024, 1, 1)}, "ends_before_start"),
        ({"kind": "wizard"}, "invalid_kind"),
        ({"number": "  "}, "required"),
        ({"scan": b"x", "scan_type": "text/html"}, "scan_type"),
    ],
)
def test_bad_certificates_are_refused_and_nothing_is_written(build, session, kwargs, code):  # type: ignore[no-untyped-def]
    fac = build.facility()
    person = build.staff(fac, credentials=False)
    args = {
        "kind": "caregiver",
        "number": "C1",
        "valid_from": date(2025, 1, 1),
        "expires_on": date(2028, 1, 1),
    } | kwargs
    with pytest.raises(DomainError) as info:
        credentials.add_certificate(session, SYSTEM, fac, person.id, now=build.now, **args)
    assert info.value.code == code
    assert _count(session, StaffCertificate) == 0


def test_a_duplicate_certificate_number_is_a_conflict(build, session):  # type: ignore[no-untyped-def]
    fac = build.facility()
    person = build.staff(fac, credentials=False)
    args = {"kind": "caregiver", "number": "C1", "valid_from": date(2025, 1, 1), "expires_on": None}
    credentials.add_certificate(session, SYSTEM, fac, person.id, now=build.now, **args)
    with pytest.raises(Conflict) as info:
        credentials.add_certificate(session, SYSTEM, fac, person.id, now=build.now, **args)
    assert info.value.code == "duplicate_certificate"
    assert _count(session, StaffCertificate) == 1


def test_future_exams_and_absurd_training_hours_are_refused(build, session):  # type: ignore[no-untyped-def]
    fac = build.facility()
    person = build.staff(fac, credentials=False)
    with pytest.raises(DomainError) as info:
        credentials.add_health_exam(
            session,
            SYSTEM,
            fac,
            person.id,
            now=build.now,
            exam_date=date(2026, 3, 11),
            result="fit",
        )
    assert info.value.code == "date_in_future"
    for hours, code in (
        ("-1", "hours_out_of_range"),
        ("0", "hours_out_of_range"),
        ("201", "hours_out_of_range"),
        ("eight", "invalid_hours"),
    ):
        with pytest.raises(DomainError) as info:
            credentials.add_training(
                session,
                SYSTEM,
                fac,
                person.id,
                now=build.now,
                course="急救",
                hours=hours,
                done_on=date(2026, 3, 1),
            )
        assert info.value.code == code
    assert _count(session, StaffHealthExam) == 0 and _count(session, TrainingRecord) == 0


def test_summary_and_staff_findings_hand_worked(build, session):  # type: ignore[no-untyped-def]
    # Tuesday 10 March 2026 (day 69 of 365): a caregiver's 120 h pace is 120 × 69/365 = 22.7 h.
    fac = build.facility()
    day = today(fac, build.now)
    a = build.staff(fac)
    b = build.staff(fac, credentials=False)
    build.credentials(fac, b, expires_on=day + timedelta(days=7))
    build.staff(fac, credentials=False)  # uncertified, no exam
    credentials.add_training(
        session,
        SYSTEM,
        fac,
        a.id,
        now=build.now,
        course="急救",
        hours="22.7",
        done_on=date(2026, 3, 1),
    )
    summary = staff_summary(session, fac, day)
    assert (summary.caregivers, summary.certified) == (3, 2)
    assert summary.certified_share == Decimal("0.6667")
    result = findings(summary)
    certified = result["staff.certified"]
    assert (certified.status, certified.value, certified.threshold) == ("fail", "0.6667", "0.8")
    assert certified.evidence["expiring"] == [
        {"staff_id": b.id, "what": "certificate", "days_left": 7, "threshold": 7}
    ]
    exam = result["staff.health_exam"]
    assert exam.status == "fail" and exam.value == 2 and exam.threshold == 3
    training = result["staff.training_hours"]
    assert training.status == "warn"
    assert [x["staff_id"] for x in training.evidence["behind"]] == [b.id, summary.staff[2].staff_id]
    assert result["staff.ban_list"].status == "unknown"
