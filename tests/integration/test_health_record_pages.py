"""A child's health record page: what it shows, who may open it, and that reads are audited."""

from __future__ import annotations

from decimal import Decimal

from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.attendance import service as attendance
from facility_app.health import service as health
from tests.conftest import T0
from tests.integration.management_support import (
    TODDLER_BIRTH,
    audit_for,
    signed_in_director,
    text,
)


def _checked_child(build, session, s):  # type: ignore[no-untyped-def]
    kid = build.child(s.fac, s.room, birth_date=TODDLER_BIRTH, name="王小明")
    attendance.check_in(session, SYSTEM, s.fac, kid, now=T0, dropped_off_by_id=kid.guardians[0].id)
    health.record_check(
        session, SYSTEM, s.fac, kid, now=T0, kind="morning", temperature_c=Decimal("37.6"),
        abnormal=["skin"], action="observe", note="手背皮疹",
    )  # fmt: skip
    session.commit()
    return kid


def test_the_record_shows_checks_and_each_read_is_audited(client, auth, build, session):  # type: ignore[no-untyped-def]
    s = signed_in_director(build, session, auth)
    kid = _checked_child(build, session, s)
    page = text(client.get(f"/health/children/{kid.id}"))
    assert "王小明" in page and "37.6" in page and "手背皮疹" in page
    assert "Keep under observation" in page and "Skin" in page
    client.get(f"/health/children/{kid.id}")
    reads = audit_for(session, "child_health", "read")
    assert [(r.entity_id, r.user_id, r.after["section"]) for r in reads] == [
        (kid.id, s.director.id, "record"),
        (kid.id, s.director.id, "record"),
    ]
    assert reads[0].at == T0


def test_list_pages_of_health_data_are_audited_too(client, auth, build, session):  # type: ignore[no-untyped-def]
    s = signed_in_director(build, session, auth)
    _checked_child(build, session, s)
    assert client.get(f"/health/checks?class_id={s.room.id}").status_code == 200
    assert client.get("/health/illness").status_code == 200
    reads = audit_for(session, "health_list", "read")
    assert [(r.entity_id, r.after["section"]) for r in reads] == [
        (None, "morning_checks"),
        (None, "illness"),
    ]
    assert reads[0].after["class_id"] == s.room.id


def test_roles_without_health_access_see_nothing_and_leave_no_read(client, auth, build, session):  # type: ignore[no-untyped-def]
    s = signed_in_director(build, session, auth)
    kid = _checked_child(build, session, s)
    regulator = build.user(Role.REGULATOR)
    session.commit()
    auth.logout()
    auth.login(regulator)
    response = client.get(f"/health/children/{kid.id}")
    assert response.status_code == 403 and "37.6" not in text(response)
    assert audit_for(session, "child_health", "read") == []


def test_the_audit_page_lists_who_read_a_record(client, auth, build, session):  # type: ignore[no-untyped-def]
    s = signed_in_director(build, session, auth)
    kid = _checked_child(build, session, s)
    client.get(f"/health/children/{kid.id}")
    page = text(client.get(f"/audit/?entity=child_health&entity_id={kid.id}"))
    assert "Child's health record" in page and "Read" in page


def test_the_regulator_sees_who_touched_health_records_but_not_what(client, auth, build, session):  # type: ignore[no-untyped-def]
    s = signed_in_director(build, session, auth)
    kid = _checked_child(build, session, s)  # a morning check with 37.6 and a rash note
    client.get(f"/health/children/{kid.id}")
    regulator = build.user(Role.REGULATOR)
    session.commit()
    auth.logout()
    auth.login(regulator)
    page = text(client.get("/audit/?entity=health_check"))
    assert "Health data: details visible to health staff only" in page
    assert "37.6" not in page and "手背皮疹" not in page
    entries = client.get("/api/v1/audit?entity=health_check").get_json()["items"]
    assert len(entries) == 1
    assert entries[0]["after"] is None and entries[0]["before"] is None
    # Entries that hold no health data keep their contents.
    child_entry = client.get("/api/v1/audit?entity=child").get_json()["items"][0]
    assert child_entry["after"]["name"] == "王小明"
    # The director, who may read health records, sees the values.
    auth.logout()
    auth.login(s.director)
    entries = client.get("/api/v1/audit?entity=health_check").get_json()["items"]
    assert entries[0]["after"]["temperature_c"] == "37.6"
