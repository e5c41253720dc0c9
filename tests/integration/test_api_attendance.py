"""The JSON API at the door and on duty: check-in/out, pick-up refusals, absences,
corrections, duty sessions, breaches, alerts and the director's overview."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from facility_app.accounts.permissions import SYSTEM
from facility_app.alerts.models import Alert, AlertKind
from facility_app.attendance.models import AttendanceRecord
from facility_app.audit.models import AuditEntry
from facility_app.children import service as children
from tests.conftest import T0
from tests.integration.test_api_support import (
    ApiClient,
    error_code,
    error_fields,
    row_counts,
)


@pytest.fixture
def caregiver(app, world) -> ApiClient:
    """A second client, signed in as the caregiver of class A."""
    api = ApiClient(app.test_client())
    assert api.login(world.caregiver).status_code == 200
    return api


def check_in(api, child, guardian_index=0):  # type: ignore[no-untyped-def]
    """Check a child in through the API, brought by one of their guardians."""
    body = {"child_id": child.id, "dropped_off_by_id": child.guardians[guardian_index].id}
    return api.post("/attendance/check-in", body)


def door(api, **query):  # type: ignore[no-untyped-def]
    """The door list, as {child_id: row}."""
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    rows = api.get(f"/attendance?{qs}").get_json()["items"]
    return {r["child"]["id"]: r for r in rows}


# --- check-in and check-out -------------------------------------------------------------


def test_check_in_and_out_through_the_day(caregiver, world, clock):
    assert door(caregiver)[world.child_a.id]["state"] == "expected"
    arrived = check_in(caregiver, world.child_a)
    assert arrived.status_code == 201
    assert arrived.get_json()["check_in_at"] == "2026-03-10T09:00:00+08:00"
    assert door(caregiver)[world.child_a.id]["state"] == "present"

    clock.advance(timedelta(hours=7))
    left = caregiver.post(
        "/attendance/check-out",
        {"child_id": world.child_a.id, "picked_up_by_id": world.child_a.guardians[1].id},
    )
    assert left.status_code == 200, left.get_json()
    assert left.get_json()["check_out_at"] == "2026-03-10T16:00:00+08:00"
    assert left.get_json()["picked_up_by_id"] == world.child_a.guardians[1].id
    assert door(caregiver)[world.child_a.id]["state"] == "left"


def test_second_check_in_is_409_and_writes_nothing(caregiver, world, session):
    assert check_in(caregiver, world.child_a).status_code == 201
    before = row_counts(session)
    again = check_in(caregiver, world.child_a, guardian_index=1)
    assert again.status_code == 409
    assert error_code(again) == "already_checked_in"
    assert again.get_json()["error"]["params"]["time"] == "09:00"
    assert row_counts(session) == before


def test_check_out_without_check_in_is_409(caregiver, world, session):
    before = row_counts(session)
    response = caregiver.post(
        "/attendance/check-out",
        {"child_id": world.child_a.id, "picked_up_by_id": world.child_a.guardians[0].id},
    )
    assert response.status_code == 409
    assert error_code(response) == "not_checked_in"
    assert row_counts(session) == before


def test_check_in_of_a_child_not_enrolled_that_day(director, world, build, session):
    # Enrolled from next Monday only.
    later = build.child(
        world.fac, world.room_a, birth_date=date(2025, 1, 1), start=date(2026, 3, 16)
    )
    session.commit()
    before = row_counts(session)
    response = check_in(director, later)
    assert response.status_code == 422
    assert error_code(response) == "not_enrolled_today"
    assert row_counts(session) == before


def test_drop_off_by_someone_not_listed_is_refused(caregiver, world, session):
    before = row_counts(session)
    response = caregiver.post(
        "/attendance/check-in",
        {"child_id": world.child_a.id, "dropped_off_by_id": world.child_b.guardians[0].id},
    )
    assert response.status_code == 422
    assert error_code(response) == "unknown_person"
    assert row_counts(session) == before


def test_unknown_pick_up_person_is_refused_alerted_and_child_stays(caregiver, world, session):
    assert check_in(caregiver, world.child_a).status_code == 201
    before = row_counts(session)
    response = caregiver.post(
        "/attendance/check-out", {"child_id": world.child_a.id, "other_person": "陌生男子"}
    )
    assert response.status_code == 403
    assert error_code(response) == "unauthorised_pickup"
    after = row_counts(session)
    # Exactly the alert and its audit entry are kept; the record is unchanged.
    assert after["alert"] == before["alert"] + 1
    assert after["audit_log"] == before["audit_log"] + 1
    assert {k: v for k, v in after.items() if k not in ("alert", "audit_log")} == {
        k: v for k, v in before.items() if k not in ("alert", "audit_log")
    }
    alert = session.query(Alert).filter_by(kind=AlertKind.UNAUTHORISED_PICKUP).one()
    assert alert.child_id == world.child_a.id
    assert alert.params["person"] == "陌生男子"
    refused = session.query(AuditEntry).filter_by(action="pickup_refused").one()
    assert refused.after == {"child_id": world.child_a.id, "person": "陌生男子"}
    record = session.query(AttendanceRecord).filter_by(child_id=world.child_a.id).one()
    assert record.check_out_at is None
    assert door(caregiver)[world.child_a.id]["state"] == "present"


def test_guardian_without_pick_up_permission_is_refused(director, caregiver, world, session):
    guardian = world.child_a.guardians[1]
    assert director.patch(f"/guardians/{guardian.id}", {"can_pick_up": False}).status_code == 200
    assert check_in(caregiver, world.child_a).status_code == 201
    response = caregiver.post(
        "/attendance/check-out", {"child_id": world.child_a.id, "picked_up_by_id": guardian.id}
    )
    assert response.status_code == 403
    assert error_code(response) == "unauthorised_pickup"
    assert door(caregiver)[world.child_a.id]["state"] == "present"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"child_id": 1}, None),
        ({"child_id": 1, "picked_up_by_id": 1, "other_person": "x"}, {"body"}),
        ({"child_id": 1, "other_person": "x" * 61}, {"other_person"}),
        ({"child_id": 0, "picked_up_by_id": 1}, {"child_id"}),
        ({"child_id": "1", "picked_up_by_id": 1}, {"child_id"}),
    ],
)
def test_bad_check_out_bodies(caregiver, world, session, body, fields):
    assert check_in(caregiver, world.child_a).status_code == 201
    body = {**body, "child_id": world.child_a.id} if body["child_id"] == 1 else body
    before = row_counts(session)
    response = caregiver.post("/attendance/check-out", body)
    assert response.status_code == 422
    if fields is None:
        assert error_code(response) == "pickup_person_required"
    else:
        assert error_code(response) == "invalid_input"
        assert error_fields(response) == fields
    assert row_counts(session) == before


# --- absences and corrections -----------------------------------------------------------


def test_absence_today_and_on_a_past_day(caregiver, world, session, clock):
    today = caregiver.post(
        "/attendance/absence", {"child_id": world.child_a.id, "reason": "illness", "note": "发烧"}
    )
    assert today.status_code == 201
    assert today.get_json()["status"] == "absent"
    assert door(caregiver)[world.child_a.id]["state"] == "absent"

    clock.advance(timedelta(days=1))
    before = row_counts(session)
    no_reason = caregiver.post(
        "/attendance/absence",
        {"child_id": world.child_a.id, "day": "2026-03-10", "reason": "personal"},
    )
    assert no_reason.status_code == 422
    assert error_code(no_reason) == "reason_required"
    assert row_counts(session) == before
    corrected = caregiver.post(
        "/attendance/absence",
        {
            "child_id": world.child_a.id,
            "day": "2026-03-10",
            "reason": "personal",
            "correction_reason": "家长更正",
        },
    )
    assert corrected.status_code == 201
    assert corrected.get_json()["absence_reason"] == "personal"


def test_absence_of_a_checked_in_child_and_in_the_future(caregiver, world, session):
    assert check_in(caregiver, world.child_a).status_code == 201
    before = row_counts(session)
    present = caregiver.post(
        "/attendance/absence", {"child_id": world.child_a.id, "reason": "illness"}
    )
    assert present.status_code == 409
    assert error_code(present) == "already_checked_in"
    future = caregiver.post(
        "/attendance/absence",
        {"child_id": world.child_a.id, "day": "2026-03-11", "reason": "illness"},
    )
    assert future.status_code == 422
    assert error_code(future) == "in_future"
    bad_reason = caregiver.post(
        "/attendance/absence", {"child_id": world.child_a.id, "reason": "holiday"}
    )
    assert error_fields(bad_reason) == {"reason"}
    assert row_counts(session) == before


def test_correction_of_times(caregiver, world, session, clock):
    record = check_in(caregiver, world.child_a).get_json()
    clock.advance(timedelta(hours=8))
    before = row_counts(session)
    backwards = caregiver.patch(
        f"/attendance/{record['id']}",
        {"check_in_at": "2026-03-10T09:00:00+08:00", "check_out_at": "2026-03-10T08:00:00+08:00"},
    )
    assert backwards.status_code == 422
    assert error_code(backwards) == "checkout_before_checkin"
    naive = caregiver.patch(f"/attendance/{record['id']}", {"check_out_at": "2026-03-10T16:00:00"})
    assert naive.status_code == 422
    assert error_fields(naive) == {"check_out_at"}
    assert row_counts(session) == before

    fixed = caregiver.patch(
        f"/attendance/{record['id']}",
        {"check_in_at": "2026-03-10T08:45:00+08:00", "check_out_at": "2026-03-10T16:30:00+08:00"},
    )
    assert fixed.status_code == 200, fixed.get_json()
    assert fixed.get_json()["check_in_at"] == "2026-03-10T08:45:00+08:00"
    assert fixed.get_json()["check_out_at"] == "2026-03-10T16:30:00+08:00"
    entry = session.query(AuditEntry).filter_by(action="correct", entity="attendance").one()
    assert entry.entity_id == record["id"]


def test_correcting_a_missing_record_is_404(caregiver, world):
    response = caregiver.patch("/attendance/424242", {"reason": "x"})
    assert response.status_code == 404
    assert error_code(response) == "attendance_not_found"


# --- duty -------------------------------------------------------------------------------


def test_duty_clock_in_and_out(caregiver, director, world, session, clock):
    started = caregiver.post(
        "/duty/clock-in", {"staff_id": world.staff_a.id, "class_id": world.room_a.id}
    )
    assert started.status_code == 201
    assert [d["staff_id"] for d in caregiver.get("/duty").get_json()["items"]] == [world.staff_a.id]
    classes = {c["id"]: c for c in director.get("/classes").get_json()["items"]}
    assert classes[world.room_a.id]["status"]["caregivers"] == 1

    before = row_counts(session)
    elsewhere = director.post(
        "/duty/clock-in", {"staff_id": world.staff_a.id, "class_id": world.room_b.id}
    )
    assert elsewhere.status_code == 409
    assert error_code(elsewhere) == "on_duty_elsewhere"
    twice = caregiver.post(
        "/duty/clock-in", {"staff_id": world.staff_a.id, "class_id": world.room_a.id}
    )
    assert error_code(twice) == "already_on_duty"
    assert row_counts(session) == before

    clock.advance(timedelta(hours=4))
    ended = caregiver.post("/duty/clock-out", {"staff_id": world.staff_a.id})
    assert ended.status_code == 200
    assert ended.get_json()["end_at"] == "2026-03-10T13:00:00+08:00"
    assert caregiver.get("/duty").get_json()["items"] == []
    again = caregiver.post("/duty/clock-out", {"staff_id": world.staff_a.id})
    assert again.status_code == 409
    assert error_code(again) == "not_on_duty"


def test_clock_in_of_unknown_staff_or_class(director, world, session):
    before = row_counts(session)
    nobody = director.post("/duty/clock-in", {"staff_id": 4242, "class_id": world.room_a.id})
    assert nobody.status_code == 404
    assert error_code(nobody) == "staff_not_found"
    noclass = director.post("/duty/clock-in", {"staff_id": world.staff_a.id, "class_id": 4242})
    assert error_code(noclass) == "class_not_found"
    missing = director.post("/duty/clock-in", {"staff_id": world.staff_a.id})
    assert error_fields(missing) == {"class_id"}
    assert row_counts(session) == before


# --- breaches, alerts, overview and audit -----------------------------------------------


def test_breach_history_alerts_overview_and_ack(caregiver, director, world, session, clock):
    # A child arrives while nobody is on duty: the class is out of ratio until a caregiver comes.
    assert check_in(caregiver, world.child_a).status_code == 201
    clock.advance(timedelta(minutes=20))
    caregiver.post("/duty/clock-in", {"staff_id": world.staff_a.id, "class_id": world.room_a.id})

    history = director.get(f"/classes/{world.room_a.id}/breaches").get_json()["items"]
    assert len(history) == 1
    assert history[0]["kind"] == "ratio"
    assert history[0]["started_at"] == "2026-03-10T09:00:00+08:00"
    assert history[0]["ended_at"] == "2026-03-10T09:20:00+08:00"
    old = director.get(f"/classes/{world.room_a.id}/breaches?from=2026-01-01&to=2026-03-09")
    assert old.get_json()["items"] == []
    backwards = director.get(f"/classes/{world.room_a.id}/breaches?from=2026-03-10&to=2026-03-01")
    assert backwards.status_code == 422
    too_long = director.get(f"/classes/{world.room_a.id}/breaches?from=2024-01-01&to=2026-03-10")
    assert too_long.status_code == 422

    alerts = director.get("/alerts").get_json()["items"]
    assert [a["kind"] for a in alerts] == ["ratio_breach"]
    assert alerts[0]["message"]

    view = director.get("/overview/today").get_json()
    line = next(c for c in view["classes"] if c["id"] == world.room_a.id)
    assert line["counts"]["present"] == 1
    assert line["enrolled"] == 1
    assert line["status"]["caregivers"] == 1
    assert [b["kind"] for b in line["breaches_today"]] == ["ratio"]
    assert [r["child"]["id"] for r in view["open_checkins"]] == [world.child_a.id]
    assert view["totals"]["expected"] == 1  # child B not yet arrived
    assert view["enrolled"] == 2

    acked = director.post(f"/alerts/{alerts[0]['id']}/ack")
    assert acked.status_code == 200
    assert acked.get_json()["acknowledged_at"] == "2026-03-10T09:20:00+08:00"
    assert director.get("/alerts").get_json()["items"] == []
    assert len(director.get("/alerts?state=all").get_json()["items"]) == 1
    assert error_code(director.post("/alerts/424242/ack")) == "alert_not_found"


def test_audit_log_is_filtered_and_paged(director, world):
    entries = director.get(f"/audit?entity=child&entity_id={world.child_a.id}").get_json()
    assert [e["action"] for e in entries["items"]] == ["create"]
    assert entries["items"][0]["after"]["name"] == "王小明"
    page = director.get("/audit?limit=2&offset=1").get_json()["items"]
    assert len(page) == 2
    everything = director.get("/audit?limit=500").get_json()["items"]
    assert page == everything[1:3]


def test_door_list_for_another_day_and_class(director, world, session):
    children.end_enrolment(
        session, SYSTEM, world.child_b.enrolments[0], now=T0, end_date=date(2026, 3, 12)
    )
    session.commit()
    later = door(director, day="2026-03-13")
    assert set(later) == {world.child_a.id}
    only_b = door(director, class_id=world.room_b.id)
    assert set(only_b) == {world.child_b.id}
    assert director.get("/attendance?class_id=4242").status_code == 404
