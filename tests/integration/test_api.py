"""The JSON API: records of the facility, classes, children, enrolments, guardians and staff,
and how every bad input is answered (exact status and code, nothing half-written)."""

from __future__ import annotations

from datetime import date

import pytest

from facility_app.audit.models import AuditEntry
from tests.integration.test_api_support import (
    API,
    TODDLER_BIRTH,
    error_code,
    error_fields,
    row_counts,
)


def new_child(**overrides):  # type: ignore[no-untyped-def]
    """A valid body for POST /children."""
    return {"name": "赵小宝", "sex": "male", "birth_date": "2025-01-15"} | overrides


# --- the facility and its classes -------------------------------------------------------


def test_facility_profile_can_be_read_and_changed(director, world, session):
    assert director.get("/facility").get_json()["name"] == "阳光托育中心"
    response = director.patch(
        "/facility",
        {"grade": "level1", "opening_time": "07:00", "registration_no": "REG-2026-9"},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["grade"] == "level1"
    assert body["opening_time"] == "07:00:00"
    assert body["registration_no"] == "REG-2026-9"
    entry = session.query(AuditEntry).filter_by(entity="facility").one()
    assert entry.after["grade"] == "level1"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"opening_time": "18:00"}, 422, "closing_before_opening"),
        ({"timezone": "Mars/Olympus"}, 422, "invalid_timezone"),
        ({"grade": "level9"}, 422, "invalid_input"),
        ({"name": None}, 422, "invalid_input"),
        ({"name": "x" * 121}, 422, "invalid_input"),
        ({"colour": "blue"}, 422, "invalid_input"),
    ],
)
def test_bad_facility_changes_are_refused(director, session, body, status, code):
    before = row_counts(session)
    response = director.patch("/facility", body)
    assert response.status_code == status
    assert error_code(response) == code
    assert row_counts(session) == before
    assert director.get("/facility").get_json()["opening_time"] == "07:30:00"


def test_classes_are_listed_with_live_status_and_can_be_created(director, world):
    listed = director.get("/classes").get_json()["items"]
    assert [c["name"] for c in listed] == ["小一班", "大一班"]
    assert listed[0]["status"] == {
        "present": 0,
        "caregivers": 0,
        "required": 0,
        "size_limit": 15,
        "children_per_caregiver": 5,
        "ratio_ok": True,
        "capacity_ok": True,
        "ok": True,
    }
    created = director.post(
        "/classes", {"name": "乳儿班", "class_type": "infant", "capacity": 8, "room": "101"}
    )
    assert created.status_code == 201
    assert created.get_json()["class_type"] == "infant"
    changed = director.patch(f"/classes/{created.get_json()['id']}", {"capacity": 10})
    assert changed.status_code == 200
    assert changed.get_json()["capacity"] == 10


def new_class(**overrides):  # type: ignore[no-untyped-def]
    """A valid body for POST /classes."""
    return {"name": "小班", "class_type": "infant", "capacity": 5} | overrides


@pytest.mark.parametrize(
    ("body", "status", "code", "fields"),
    [
        (new_class(capacity=11), 422, "capacity_over_limit", None),
        (new_class(name="小一班"), 409, "class_name_taken", None),
        (new_class(class_type="nursery"), 422, "invalid_input", {"class_type"}),
        (new_class(name="", capacity=0), 422, "invalid_input", {"name", "capacity"}),
        ({"class_type": "infant"}, 422, "invalid_input", {"name", "capacity"}),
        (new_class(capacity="5"), 422, "invalid_input", {"capacity"}),
    ],
)
def test_bad_classes_are_refused(director, world, session, body, status, code, fields):
    before = row_counts(session)
    response = director.post("/classes", body)
    assert response.status_code == status, response.get_json()
    assert error_code(response) == code
    if fields is not None:
        assert error_fields(response) == fields
    assert row_counts(session) == before


def test_class_type_change_is_checked_against_capacity(director, world, session):
    before = row_counts(session)
    response = director.patch(f"/classes/{world.room_a.id}", {"class_type": "infant"})
    assert response.status_code == 422
    assert error_code(response) == "capacity_over_limit"
    assert row_counts(session) == before


# --- children ---------------------------------------------------------------------------


def test_child_is_recorded_read_and_changed_with_audit(director, world, session):
    created = director.post("/children", new_child(allergies="花生"))
    assert created.status_code == 201
    child = created.get_json()
    assert child["allergies"] == "花生"
    assert child["enrolments"] == [] and child["guardians"] == []

    changed = director.patch(
        f"/children/{child['id']}", {"notes": "午睡需安抚", "reason": "家长告知"}
    )
    assert changed.status_code == 200
    assert changed.get_json()["notes"] == "午睡需安抚"
    assert changed.get_json()["name"] == "赵小宝"

    log = director.get(f"/audit?entity=child&entity_id={child['id']}").get_json()["items"]
    assert [e["action"] for e in log] == ["update", "create"]
    assert log[0]["reason"] == "家长告知"


def test_child_detail_has_enrolments_and_guardians(director, world):
    body = director.get(f"/children/{world.child_a.id}").get_json()
    assert body["name"] == "王小明"
    assert [e["class_id"] for e in body["enrolments"]] == [world.room_a.id]
    assert [g["relationship"] for g in body["guardians"]] == ["mother", "father"]
    listed = director.get("/children").get_json()["items"]
    assert {c["name"] for c in listed} == {"王小明", "李小红"}


@pytest.mark.parametrize(
    ("body", "code", "fields"),
    [
        (new_child(birth_date="2026-03-11"), "birth_date_in_future", None),
        (new_child(birth_date="2019-03-10"), "birth_date_implausible", None),
        (new_child(birth_date="2025-02-30"), "invalid_input", {"birth_date"}),
        (new_child(birth_date=20250115), "invalid_input", {"birth_date"}),
        ({"sex": "male"}, "invalid_input", {"name", "birth_date"}),
        (new_child(name="   "), "invalid_input", {"name"}),
        (new_child(name="长" * 61), "invalid_input", {"name"}),
        (new_child(notes="x" * 1001, allergies="y" * 501), "invalid_input", {"notes", "allergies"}),
        (new_child(sex="unknown"), "invalid_input", {"sex"}),
        (new_child(id=5), "invalid_input", {"id"}),
        ([new_child()], "invalid_input", {"body"}),
    ],
)
def test_impossible_children_are_refused_and_nothing_is_written(
    director, world, session, body, code, fields
):
    before = row_counts(session)
    response = director.post("/children", body)
    assert response.status_code == 422, response.get_json()
    assert error_code(response) == code
    if fields is not None:
        assert error_fields(response) == fields
    else:
        assert response.get_json()["error"]["field"] == "birth_date"
    assert row_counts(session) == before


def test_patch_child_refuses_null_and_future_birth_date(director, world, session):
    before = row_counts(session)
    nulled = director.patch(f"/children/{world.child_a.id}", {"name": None})
    assert nulled.status_code == 422
    assert error_fields(nulled) == {"name"}
    future = director.patch(f"/children/{world.child_a.id}", {"birth_date": "2027-01-01"})
    assert error_code(future) == "birth_date_in_future"
    assert row_counts(session) == before


def test_unknown_and_out_of_range_ids_are_404(director, world):
    missing = director.get("/children/999999")
    assert missing.status_code == 404
    assert error_code(missing) == "child_not_found"
    assert director.get("/children/99999999999").status_code == 404
    assert director.patch("/guardians/999999", {"phone": "1"}).status_code == 404
    assert error_code(director.patch("/enrolments/999999", {"end_date": "2026-06-30"})) == (
        "enrolment_not_found"
    )


# --- enrolments -------------------------------------------------------------------------


def _enrol(api, child_id, class_id, start, **extra):  # type: ignore[no-untyped-def]
    body = {"class_id": class_id, "care_type": "full_day", "start_date": start} | extra
    return api.post(f"/children/{child_id}/enrolments", body)


def test_enrolment_is_created_and_ended(director, world, session):
    child = director.post("/children", new_child(birth_date="2025-01-15")).get_json()
    created = _enrol(director, child["id"], world.room_a.id, "2026-03-16", puhui_place=True)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["puhui_place"] is True
    ended = director.patch(
        f"/enrolments/{created.get_json()['id']}", {"end_date": "2026-07-31", "reason": "毕业"}
    )
    assert ended.status_code == 200
    assert ended.get_json()["end_date"] == "2026-07-31"


@pytest.mark.parametrize(
    ("birth", "room", "start", "status", "code"),
    [
        ("2025-12-01", "a", "2026-03-16", 422, "too_young_for_class"),
        ("2023-09-01", "a", "2026-03-16", 422, "too_old_for_class"),
        ("2025-01-15", "b", "2026-03-16", 422, "too_young_for_class"),
        ("2025-01-15", "a", "2025-01-01", 422, "start_before_birth"),
    ],
)
def test_age_must_fit_the_class(director, world, session, birth, room, start, status, code):
    child = director.post("/children", new_child(birth_date=birth)).get_json()
    class_id = world.room_a.id if room == "a" else world.room_b.id
    before = row_counts(session)
    response = _enrol(director, child["id"], class_id, start)
    assert response.status_code == status
    assert error_code(response) == code
    assert row_counts(session) == before


def test_overlapping_enrolments_are_refused(director, world, session):
    before = row_counts(session)
    # child_a is enrolled in class A from today without an end date.
    response = _enrol(director, world.child_a.id, world.room_a.id, "2026-06-01")
    assert response.status_code == 409
    assert error_code(response) == "overlapping_enrolment"
    assert row_counts(session) == before


def test_moving_an_end_date_into_the_next_enrolment_is_refused(director, world, session):
    child = director.post("/children", new_child(birth_date="2025-01-15")).get_json()
    first = _enrol(director, child["id"], world.room_a.id, "2026-03-10", end_date="2026-05-31")
    second = _enrol(director, child["id"], world.room_a.id, "2026-06-01")
    assert first.status_code == second.status_code == 201
    before = row_counts(session)
    response = director.patch(f"/enrolments/{first.get_json()['id']}", {"end_date": "2026-06-30"})
    assert response.status_code == 409
    assert error_code(response) == "overlapping_enrolment"
    early = director.patch(f"/enrolments/{first.get_json()['id']}", {"end_date": "2026-03-01"})
    assert early.status_code == 422
    assert error_code(early) == "end_before_start"
    assert row_counts(session) == before


def test_enrolment_in_a_missing_class_is_404(director, world, session):
    before = row_counts(session)
    response = _enrol(director, world.child_a.id, 424242, "2027-01-01")
    assert response.status_code == 404
    assert error_code(response) == "class_not_found"
    assert row_counts(session) == before


# --- guardians --------------------------------------------------------------------------


def test_guardians_are_added_and_withdrawn(director, world):
    added = director.post(
        f"/children/{world.child_a.id}/guardians",
        {"name": "王奶奶", "relationship": "grandmother", "phone": "13800000000"},
    )
    assert added.status_code == 201
    guardian = added.get_json()
    assert guardian["can_pick_up"] is True
    withdrawn = director.patch(f"/guardians/{guardian['id']}", {"can_pick_up": False})
    assert withdrawn.status_code == 200
    assert withdrawn.get_json()["can_pick_up"] is False
    assert withdrawn.get_json()["name"] == "王奶奶"


def test_bad_guardians_are_refused(director, world, session):
    before = row_counts(session)
    response = director.post(
        f"/children/{world.child_a.id}/guardians",
        {"name": "", "relationship": "r" * 31, "phone": "1" * 31, "can_pick_up": "yes"},
    )
    assert response.status_code == 422
    assert error_fields(response) == {"name", "relationship", "phone", "can_pick_up"}
    assert row_counts(session) == before


# --- staff ------------------------------------------------------------------------------


def test_staff_are_recorded_and_reassigned(director, world, session):
    created = director.post("/staff", new_staff(class_ids=[world.room_a.id]))
    assert created.status_code == 201
    member = created.get_json()
    assert member["class_ids"] == [world.room_a.id]
    moved = director.patch(f"/staff/{member['id']}", {"class_ids": [world.room_b.id]})
    assert moved.get_json()["class_ids"] == [world.room_b.id]
    left = director.patch(f"/staff/{member['id']}", {"leave_date": "2026-06-30"})
    assert left.get_json()["leave_date"] == "2026-06-30"
    back = director.patch(f"/staff/{member['id']}", {"leave_date": None})
    assert back.get_json()["leave_date"] is None
    assert back.get_json()["class_ids"] == [world.room_b.id]
    names = {s["name"] for s in director.get("/staff").get_json()["items"]}
    assert {"张老师", "陈老师", "刘老师"} <= names


def new_staff(**overrides):  # type: ignore[no-untyped-def]
    """A valid body for POST /staff."""
    return {"name": "刘老师", "role": "caregiver", "hire_date": "2025-09-01"} | overrides


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (new_staff(class_ids=[4242]), 404, "class_not_found"),
        (new_staff(leave_date="2025-01-01"), 422, "leave_before_hire"),
        (new_staff(role="janitor"), 422, "invalid_input"),
        (new_staff(class_ids=list(range(1, 60))), 422, "invalid_input"),
        (new_staff(name="x" * 61, phone="1" * 31), 422, "invalid_input"),
    ],
)
def test_bad_staff_are_refused(director, world, session, body, status, code):
    before = row_counts(session)
    response = director.post("/staff", body)
    assert response.status_code == status, response.get_json()
    assert error_code(response) == code
    assert row_counts(session) == before


# --- the body itself --------------------------------------------------------------------


def test_malformed_json_is_400(director, world, session):
    before = row_counts(session)
    for raw in ("{bad json", "", '{"name": "a",}', "[" * 5000):
        response = director.call(
            "POST", f"{API}/children", data=raw, content_type="application/json"
        )
        assert response.status_code == 400, raw[:20]
        assert error_code(response) == "invalid_json"
    assert row_counts(session) == before


def test_wrong_content_type_is_415(director, world, session):
    before = row_counts(session)
    form = director.call("POST", f"{API}/children", data=new_child())
    assert form.status_code == 415
    assert error_code(form) == "unsupported_media_type"
    text = director.call("POST", f"{API}/children", data='{"name": "x"}', content_type="text/plain")
    assert text.status_code == 415
    assert row_counts(session) == before


def test_oversized_body_is_413(director, world, session):
    before = row_counts(session)
    response = director.post("/children", new_child(notes="x" * 70_000))
    assert response.status_code == 413
    assert error_code(response) == "body_too_large"
    huge = director.post("/children", new_child(notes="x" * 1_100_000))
    assert huge.status_code == 413
    assert row_counts(session) == before


def test_unknown_query_parameters_and_bad_values_are_422(director, world):
    response = director.get("/attendance?day=yesterday&colour=red")
    assert response.status_code == 422
    assert error_fields(response) == {"day", "colour"}
    assert director.get("/audit?limit=0").status_code == 422


def test_unknown_api_path_and_method_answer_json(director):
    missing = director.get("/nothing-here")
    assert missing.status_code == 404
    assert error_code(missing) == "not_found"
    wrong = director.call("PUT", f"{API}/children")
    assert wrong.status_code == 405
    assert error_code(wrong) == "method_not_allowed"


def test_birth_date_on_the_age_limit(director, world):
    # 72 months is the policy's plausibility limit; one day younger is still accepted.
    assert director.post("/children", new_child(birth_date="2020-03-11")).status_code == 201
    assert date(2026, 3, 10) > TODDLER_BIRTH


def test_a_constraint_hit_by_a_race_is_a_409_not_a_500(director, world, session, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    from facility_app.web.api import facility as facility_api

    def racing(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise IntegrityError("INSERT INTO class_room", {}, Exception("unique violation"))

    monkeypatch.setattr(facility_api.facilities, "save_class", racing)
    before = row_counts(session)
    response = director.post("/classes", new_class())
    assert response.status_code == 409
    assert error_code(response) == "conflict"
    assert row_counts(session) == before
