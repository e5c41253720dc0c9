"""Medication given at the facility: instructions, doses and what is refused, and the pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from carewatch.errors import DomainError
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.children.models import Child
from facility_app.facility.models import ClassRoom, Facility
from facility_app.health import medication as med
from facility_app.staff.models import Staff, StaffRole
from health_records.medication import MedicationDose, MedicationInstruction
from tests.conftest import T0
from tests.integration.management_support import (
    TODDLER_BIRTH,
    audit_for,
    fresh,
    signed_in_director,
    text,
)

PDF = b"%PDF-1.4 signed"


@dataclass
class World:
    """A class with one child, two caregivers and a health officer."""

    fac: Facility
    room: ClassRoom
    kid: Child
    a: Staff
    b: Staff
    nurse: Staff


def _world(build, session, fac=None, room=None) -> World:  # type: ignore[no-untyped-def]
    fac = fac or build.facility()
    room = room or build.room(fac)
    kid = build.child(fac, room, birth_date=TODDLER_BIRTH, name="李小花")
    a = build.staff(fac, classes=[room.id], name="张老师")
    b = build.staff(fac, classes=[room.id], name="王老师")
    nurse = build.staff(fac, StaffRole.HEALTH_OFFICER, name="保健医陈")
    session.flush()
    return World(fac, room, kid, a, b, nurse)


def _instruction(session, w: World, **kw) -> MedicationInstruction:  # type: ignore[no-untyped-def]
    args = dict(
        guardian_id=w.kid.guardians[0].id, medicine="布洛芬混悬液", form_strength="100ml:2g",
        dose_amount="5", dose_unit="ml", times=["09:00", "15:00"], first_day=date(2026, 3, 10),
        last_day=date(2026, 3, 11), reason="发热", scan=PDF, scan_type="application/pdf",
    )  # fmt: skip
    args.update(kw)
    return med.add_instruction(session, SYSTEM, w.fac, w.kid, now=T0, **args)


def _dose(session, w: World, ins, at=T0, now=None, **kw):  # type: ignore[no-untyped-def]
    args = dict(
        instruction_id=ins.id if ins is not None else None, given_at=at, dose_amount="5",
        given_by_staff_id=w.a.id, witness_staff_id=w.b.id,
    )  # fmt: skip
    args.update(kw)
    return med.record_dose(session, SYSTEM, w.fac, w.kid, now=now or at, **args)


def _refused(code: str, fn, *args, **kw) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as err:
        fn(*args, **kw)
    assert err.value.code == code


def test_a_dose_is_logged_with_giver_witness_and_its_scheduled_time(build, session):  # type: ignore[no-untyped-def]
    w = _world(build, session)
    ins = _instruction(session, w)
    # 09:20 is 20 minutes after 09:00, inside the default 60-minute tolerance.
    dose = _dose(session, w, ins, at=T0 + timedelta(minutes=20))
    assert (dose.slot, dose.day, dose.dose_amount) == ("09:00", date(2026, 3, 10), Decimal("5"))
    assert (dose.given_by_staff_id, dose.witness_staff_id) == (w.a.id, w.b.id)
    entry = audit_for(session, "medication_dose", "give")[0]
    assert entry.entity_id == dose.id and entry.after["slot"] == "09:00"
    # The audit log (open to the regulator) names no medicine and no dose.
    created = audit_for(session, "medication_instruction", "create")[0].after
    assert created["child_id"] == w.kid.id and "medicine" not in created
    assert "dose_amount" not in entry.after and "scan" not in created


def test_a_dose_without_an_instruction_is_refused(build, session):  # type: ignore[no-untyped-def]
    w = _world(build, session)
    _refused("no_instruction", _dose, session, w, None)
    other = build.child(w.fac, w.room, birth_date=TODDLER_BIRTH)
    ins = _instruction(session, w)
    # Another child's instruction does not cover this child.
    with pytest.raises(DomainError) as err:
        med.record_dose(
            session, SYSTEM, w.fac, other, now=T0, instruction_id=ins.id, given_at=T0,
            dose_amount="5", given_by_staff_id=w.a.id, witness_staff_id=w.b.id,
        )  # fmt: skip
    assert err.value.code == "no_instruction"
    assert session.scalar(select(func.count()).select_from(MedicationDose)) == 0


def test_the_last_day_is_covered_and_the_day_after_is_not(build, session):  # type: ignore[no-untyped-def]
    w = _world(build, session)
    ins = _instruction(session, w)  # 10 and 11 March
    last = T0 + timedelta(days=1, hours=6)  # 11 March 15:00
    assert _dose(session, w, ins, at=last).slot == "15:00"
    after = T0 + timedelta(days=2)  # 12 March 09:00
    _refused("instruction_not_in_force", _dose, session, w, ins, at=after)


def test_giver_and_witness_must_be_two_active_staff(build, session):  # type: ignore[no-untyped-def]
    w = _world(build, session)
    ins = _instruction(session, w)
    _refused("witness_is_giver", _dose, session, w, ins, witness_staff_id=w.a.id)
    w.b.leave_date = date(2026, 3, 1)
    _refused("staff_not_active", _dose, session, w, ins)


def test_the_dose_must_match_the_instruction(build, session):  # type: ignore[no-untyped-def]
    w = _world(build, session)
    ins = _instruction(session, w)
    _refused("dose_too_large", _dose, session, w, ins, dose_amount="5.5")
    _refused("dose_mismatch", _dose, session, w, ins, dose_amount="2.5")
    half = _dose(session, w, ins, dose_amount="2.5", deviation_reason="孩子吐了一半")
    assert half.dose_amount == Decimal("2.5") and half.deviation_reason == "孩子吐了一半"


def test_a_second_dose_of_the_same_time_and_a_future_time_are_refused(build, session):  # type: ignore[no-untyped-def]
    w = _world(build, session)
    ins = _instruction(session, w)
    _dose(session, w, ins)
    _refused("dose_already_given", _dose, session, w, ins, at=T0 + timedelta(minutes=30))
    _refused("time_in_future", _dose, session, w, ins, at=T0 + timedelta(minutes=1), now=T0)
    # 12:00 is three hours from both 09:00 and 15:00.
    _refused("not_scheduled_time", _dose, session, w, ins, at=T0 + timedelta(hours=3))
    # Two tablets racing past the check: the database keeps one dose per scheduled time.
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(
            MedicationDose(
                instruction_id=ins.id, child_id=w.kid.id, day=date(2026, 3, 10), slot="09:00",
                given_at=T0, dose_amount=Decimal("5"), dose_unit="ml", given_by_staff_id=w.b.id,
                witness_staff_id=w.a.id,
            )
        )  # fmt: skip
        session.flush()


def test_an_instruction_needs_a_guardian_and_the_signed_form(build, session):  # type: ignore[no-untyped-def]
    w = _world(build, session)
    other = build.child(w.fac, w.room, birth_date=TODDLER_BIRTH)
    _refused("not_a_guardian", _instruction, session, w, guardian_id=other.guardians[0].id)
    _refused("signed_form_required", _instruction, session, w, scan=None)
    _refused("staff_required", _instruction, session, w, scan=None, paper_received=True)
    paper = _instruction(
        session, w, scan=None, paper_received=True, received_by_staff_id=w.nurse.id
    )
    assert paper.received_by_staff_id == w.nurse.id and paper.scan is None
    _refused("condition_required", _instruction, session, w, times=[], as_needed=True)
    prn = _instruction(session, w, times=[], as_needed=True, as_needed_condition="体温≥38.5℃")
    # As needed: no scheduled time, so no duplicate check.
    assert _dose(session, w, prn, at=T0 + timedelta(hours=3)).slot is None
    assert _dose(session, w, prn, at=T0 + timedelta(hours=4)).slot is None


def test_today_shows_given_due_and_missed(build, session):  # type: ignore[no-untyped-def]
    w = _world(build, session)
    ins = _instruction(session, w, times=["08:00", "09:00", "15:00"])
    _dose(session, w, ins)  # 09:00 given
    plan = med.day_plan(session, w.fac, T0 + timedelta(minutes=5))
    # At 09:05: 08:00 was due by 09:00 at the latest (60 min) -> missed; 15:00 later.
    assert [(s.slot, s.state) for s in plan[0].slots] == [
        ("08:00", "missed"),
        ("09:00", "given"),
        ("15:00", "later"),
    ]
    at_14 = med.day_plan(session, w.fac, T0 + timedelta(hours=5))
    assert at_14[0].slots[2].state == "due"  # 14:00 is 60 minutes before 15:00


# --- pages ------------------------------------------------------------------------------


def test_the_record_shows_medication_and_a_dose_can_be_given(client, auth, build, session):  # type: ignore[no-untyped-def]
    s = signed_in_director(build, session, auth)
    w = _world(build, session, s.fac, s.room)
    ins = _instruction(session, w)
    session.commit()
    page = text(client.get(f"/health/children/{w.kid.id}"))
    assert "布洛芬混悬液" in page and "09:00" in page and "section-medication" in page
    response = auth.post(
        f"/health/children/{w.kid.id}/medication/doses",
        data={
            "instruction_id": ins.id, "given_at": "08:50", "dose_amount": "5",
            "given_by_staff_id": w.a.id, "witness_staff_id": w.b.id,
        },
    )  # fmt: skip
    assert response.status_code == 303
    fresh(session)
    doses = session.scalars(select(MedicationDose)).all()
    assert [(d.slot, d.given_by_staff_id) for d in doses] == [("09:00", w.a.id)]


def test_the_medication_day_page_is_audited_and_closed_to_the_regulator(
    client, auth, build, session
):  # type: ignore[no-untyped-def]
    s = signed_in_director(build, session, auth)
    w = _world(build, session, s.fac, s.room)
    _instruction(session, w)
    regulator = build.user(Role.REGULATOR)
    session.commit()
    page = text(client.get("/health/children/today"))
    assert "李小花" in page and "布洛芬混悬液" in page
    reads = audit_for(session, "health_list", "read")
    assert [(r.entity_id, r.after["section"]) for r in reads] == [(None, "medication_day")]
    auth.logout()
    auth.login(regulator)
    assert client.get("/health/children/today").status_code == 403
    assert client.get(f"/health/children/{w.kid.id}").status_code == 403


def test_a_caregiver_gives_a_dose_in_their_class_only(client, auth, build, session):  # type: ignore[no-untyped-def]
    fac = build.facility()
    room_a, room_b = build.room(fac), build.room(fac)
    w = _world(build, session, fac, room_a)
    other = _world(build, session, fac, room_b)
    ins = _instruction(session, other)
    caregiver = build.user(Role.CAREGIVER, staff=w.a)
    session.commit()
    auth.login(caregiver)
    refused = client.get(f"/health/children/{other.kid.id}")
    assert refused.status_code == 303 and "布洛芬混悬液" not in text(refused)
    assert "布洛芬混悬液" not in text(client.get("/health/children/today"))
    response = auth.post(
        f"/health/children/{other.kid.id}/medication/doses",
        data={"instruction_id": ins.id, "given_at": "09:00", "dose_amount": "5",
              "witness_staff_id": w.b.id},
    )  # fmt: skip
    assert response.status_code == 303
    fresh(session)
    assert session.scalar(select(func.count()).select_from(MedicationDose)) == 0
    # In their own class the caregiver gives the dose; the giver is their own staff record.
    own = _instruction(session, w)
    session.commit()
    response = auth.post(
        f"/health/children/{w.kid.id}/medication/doses",
        data={"instruction_id": own.id, "given_at": "09:00", "dose_amount": "5",
              "witness_staff_id": w.b.id},
    )  # fmt: skip
    assert response.status_code == 303
    fresh(session)
    given = session.scalars(select(MedicationDose)).one()
    assert (given.child_id, given.given_by_staff_id, given.witness_staff_id) == (
        w.kid.id, w.a.id, w.b.id,
    )  # fmt: skip


# --- API --------------------------------------------------------------------------------


def test_the_api_lists_and_logs_doses_and_audits_reads(client, auth, build, session):  # type: ignore[no-untyped-def]
    s = signed_in_director(build, session, auth)
    w = _world(build, session, s.fac, s.room)
    ins = _instruction(session, w)
    session.commit()
    url = f"/api/v1/children/{w.kid.id}/medication"
    body = {"instruction_id": ins.id, "given_at": "2026-03-10T08:55:00+08:00",
            "dose_amount": "5", "given_by_staff_id": w.a.id,
            "witness_staff_id": w.b.id}  # fmt: skip
    created = auth.api("POST", f"{url}/doses", body)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["slot"] == "09:00"
    again = auth.api("POST", f"{url}/doses", body)
    assert again.status_code == 422 and again.get_json()["error"]["code"] == "dose_already_given"
    listed = auth.api("GET", url).get_json()["items"]
    assert [(i["medicine"], i["has_scan"], len(i["doses"])) for i in listed] == [
        ("布洛芬混悬液", True, 1)
    ]
    assert "scan" not in listed[0]
    reads = audit_for(session, "child_health", "read")
    assert [(r.entity_id, r.after["section"]) for r in reads] == [(w.kid.id, "medication")]
