"""Incident and injury reports: alerts, the guardian told and acknowledging, and the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from carewatch.errors import Conflict, DomainError
from edge_agent.compliance.base import Context, Status, run
from edge_agent.compliance.rules import rule
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.alerts.models import Alert, AlertKind, Severity
from facility_app.health import incidents as inc
from health_records.incidents import IncidentReport
from tests.conftest import T0
from tests.integration.management_support import (
    TODDLER_BIRTH,
    audit_for,
    fresh,
    signed_in_director,
    text,
)
from tests.integration.test_medication import World, _world


def _report(session, w: World, **kw) -> IncidentReport:  # type: ignore[no-untyped-def]
    args = dict(
        occurred_at=T0 - timedelta(minutes=30), location="户外活动区滑梯", severity="minor",
        what_happened="从滑梯下来时摔倒", injury_type="擦伤", body_part="左膝",
        first_aid="清洗伤口并消毒", first_aid_by_staff_id=w.nurse.id, witness_staff_ids=[w.a.id],
    )  # fmt: skip
    args.update(kw)
    return inc.create_incident(session, SYSTEM, w.fac, w.kid, now=T0, **args)


def _alerts(session) -> list[Alert]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(Alert).where(Alert.kind == AlertKind.SERIOUS_INCIDENT)))


def test_a_minor_injury_is_recorded_without_alert_and_audited(build, session):  # type: ignore[no-untyped-def]
    w = _world(build, session)
    report = _report(session, w)
    assert report.is_open and report.class_id == w.room.id
    assert report.witness_staff_ids == [w.a.id] and report.first_aid_by_staff_id == w.nurse.id
    assert _alerts(session) == []
    entry = audit_for(session, "incident_report", "create")[0]
    assert entry.entity_id == report.id and entry.after["severity"] == "minor"
    assert "what_happened" not in entry.after and "body_part" not in entry.after


def test_a_serious_injury_alerts_the_director(build, session):  # type: ignore[no-untyped-def]
    w = _world(build, session)
    report = _report(session, w, severity="serious", sent_to_hospital=True, body_part="头部")
    [alert] = _alerts(session)
    assert (alert.severity, alert.child_id, alert.class_id) == (
        Severity.CRITICAL, w.kid.id, w.room.id,
    )  # fmt: skip
    assert alert.params == {"incident_id": report.id, "location": "户外活动区滑梯"}


def test_what_a_report_needs(build, session):  # type: ignore[no-untyped-def]
    w = _world(build, session)
    with pytest.raises(DomainError) as err:
        _report(session, w, occurred_at=T0 + timedelta(minutes=1))
    assert err.value.code == "time_in_future"
    with pytest.raises(DomainError) as err:
        _report(session, w, body_part="")
    assert err.value.code == "injury_details_required"
    with pytest.raises(DomainError) as err:
        _report(session, w, location=" ")
    assert err.value.code == "required"
    # An incident without injury needs neither.
    assert _report(session, w, severity="none", injury_type="", body_part="").severity == "none"


def test_only_a_guardian_of_the_child_acknowledges_after_being_told(build, session):  # type: ignore[no-untyped-def]
    w = _world(build, session)
    report = _report(session, w)
    mother = w.kid.guardians[0]
    with pytest.raises(DomainError) as err:
        inc.record_acknowledgement(
            session, SYSTEM, w.fac, w.kid, report, now=T0, acknowledged_at=T0,
            guardian_id=mother.id, how="signature",
        )  # fmt: skip
    assert err.value.code == "not_notified"
    inc.record_notification(
        session, SYSTEM, w.fac, report, now=T0, notified_at=T0 - timedelta(minutes=20),
        how="phone", by_staff_id=w.a.id,
    )  # fmt: skip
    other = build.child(w.fac, w.room, birth_date=TODDLER_BIRTH)
    # Someone allowed to pick up but not a guardian cannot sign either.
    mother.is_guardian = False
    for guardian_id in (other.guardians[0].id, mother.id):
        with pytest.raises(DomainError) as err:
            inc.record_acknowledgement(
                session, SYSTEM, w.fac, w.kid, report, now=T0, acknowledged_at=T0,
                guardian_id=guardian_id, how="signature",
            )  # fmt: skip
        assert err.value.code == "not_a_guardian"
    father = w.kid.guardians[1]
    inc.record_acknowledgement(
        session, SYSTEM, w.fac, w.kid, report, now=T0, acknowledged_at=T0,
        guardian_id=father.id, how="signature",
    )  # fmt: skip
    assert not report.is_open and report.acknowledged_by_guardian_id == father.id
    with pytest.raises(Conflict):
        inc.record_acknowledgement(
            session, SYSTEM, w.fac, w.kid, report, now=T0, acknowledged_at=T0,
            guardian_id=father.id, how="in_person",
        )  # fmt: skip
    actions = [e.action for e in audit_for(session, "incident_report")]
    assert actions == ["create", "notify", "acknowledge"]


def test_an_open_report_is_overdue_exactly_at_the_policy_time(build, session):  # type: ignore[no-untyped-def]
    w = _world(build, session)
    report = _report(session, w)  # at 08:30; default 24 hours to acknowledge
    deadline = T0 - timedelta(minutes=30) + timedelta(hours=24)
    assert inc.ack_deadline(w.fac, report) == deadline
    assert not inc.is_overdue(w.fac, report, deadline - timedelta(seconds=1))
    assert inc.is_overdue(w.fac, report, deadline)
    assert [r.id for r in inc.open_incidents(session, [w.room.id])] == [report.id]
    assert inc.open_incidents(session, [w.room.id + 1000]) == []


def test_a_facility_policy_changes_the_time_to_acknowledge(build, session):  # type: ignore[no-untyped-def]
    fac = build.facility(overrides={"medication": {"incident_ack_within_hours": 4}})
    w = _world(build, session, fac)
    report = _report(session, w)
    assert inc.ack_deadline(fac, report) == T0 + timedelta(hours=3, minutes=30)


# --- pages ------------------------------------------------------------------------------


def test_the_record_shows_incidents_and_the_forms_work(client, auth, build, session):  # type: ignore[no-untyped-def]
    s = signed_in_director(build, session, auth)
    w = _world(build, session, s.fac, s.room)
    session.commit()
    url = f"/health/children/{w.kid.id}"
    response = auth.post(
        f"{url}/incidents",
        data={
            "occurred_day": "2026-03-10", "occurred_time": "08:40", "location": "盥洗室",
            "what_happened": "洗手时滑倒", "severity": "serious", "injury_type": "撞伤",
            "body_part": "额头", "first_aid": "冰敷", "first_aid_by_staff_id": w.nurse.id,
            "sent_to_hospital": "on", "witness_staff_ids": [w.a.id, w.b.id],
        },
    )  # fmt: skip
    assert response.status_code == 303
    fresh(session)
    report = session.scalars(select(IncidentReport)).one()
    assert report.witness_staff_ids == sorted([w.a.id, w.b.id]) and report.sent_to_hospital
    assert len(_alerts(session)) == 1
    page = text(client.get(url))
    assert "洗手时滑倒" in page and "Not told yet" in page and "Open until 2026-03-11 08:40" in page
    notify = {"incident_id": report.id, "notified_day": "2026-03-10", "notified_time": "08:50",
              "how": "phone", "by_staff_id": w.a.id}  # fmt: skip
    assert auth.post(f"{url}/incidents/notify", data=notify).status_code == 303
    ack = {"incident_id": report.id, "acknowledged_day": "2026-03-10",
           "acknowledged_time": "08:55", "guardian_id": w.kid.guardians[0].id,
           "how": "phone"}  # fmt: skip
    assert auth.post(f"{url}/incidents/acknowledge", data=ack).status_code == 303
    page = text(client.get(url))
    assert "Acknowledged" in page and "家长1" in page
    reads = audit_for(session, "child_health", "read")
    assert [(r.entity_id, r.after["section"]) for r in reads] == [(w.kid.id, "record")] * 2


def test_the_day_page_lists_open_incidents_and_is_audited(client, auth, build, session, clock):  # type: ignore[no-untyped-def]
    s = signed_in_director(build, session, auth)
    w = _world(build, session, s.fac, s.room)
    _report(session, w)  # 08:30, to be acknowledged by 08:30 the next day
    session.commit()
    page = text(client.get("/health/children/today"))
    assert "李小花" in page and "Open until 2026-03-11 08:30" in page
    clock.advance(timedelta(hours=23, minutes=30))
    assert "Acknowledgement overdue" in text(client.get("/health/children/today"))
    reads = audit_for(session, "health_list", "read")
    assert [(r.entity_id, r.after["section"]) for r in reads] == [(None, "medication_day")] * 2


def test_a_caregiver_of_another_class_sees_no_incident(client, auth, build, session):  # type: ignore[no-untyped-def]
    fac = build.facility()
    room_a, room_b = build.room(fac), build.room(fac)
    w = _world(build, session, fac, room_a)
    other = _world(build, session, fac, room_b)
    _report(session, other, what_happened="另一班的事故")
    caregiver = build.user(Role.CAREGIVER, staff=w.a)
    session.commit()
    auth.login(caregiver)
    response = client.get(f"/health/children/{other.kid.id}")
    assert response.status_code == 303 and "另一班的事故" not in text(response)
    page = text(client.get("/health/children/today"))
    assert "另一班的事故" not in page and "Every incident has been acknowledged." in page
    # The caregiver may read but not write reports.
    response = auth.post(f"/health/children/{w.kid.id}/incidents", data={})
    assert response.status_code == 403


# --- compliance rule --------------------------------------------------------------------


def _rule(session, fac, now):  # type: ignore[no-untyped-def]
    return run(rule("health.incidents"), Context.for_facility(session, fac, now, providers={}))


def test_the_incident_rule_warns_then_fails_and_reports_counts_only(build, session):  # type: ignore[no-untyped-def]
    w = _world(build, session)
    assert _rule(session, w.fac, T0).status is Status.UNKNOWN  # nothing recorded yet
    minor = _report(session, w)  # 08:30, due 08:30 the next day
    assert _rule(session, w.fac, T0).status is Status.PASS
    due = T0 - timedelta(minutes=30) + timedelta(hours=24)
    assert _rule(session, w.fac, due - timedelta(seconds=1)).status is Status.PASS
    late = _rule(session, w.fac, due)
    assert (late.status, late.value, late.threshold) == (Status.WARN, 1, 24)
    assert late.evidence == {"open": 1, "overdue": 1, "serious_overdue": 0}
    _report(session, w, severity="serious", occurred_at=T0 - timedelta(minutes=10))
    assert _rule(session, w.fac, due).status is Status.WARN  # the serious one is not late yet
    failed = _rule(session, w.fac, due + timedelta(minutes=20))
    assert (failed.status, failed.value) == (Status.FAIL, 1)
    assert failed.evidence == {"open": 2, "overdue": 2, "serious_overdue": 1}
    assert "李小花" not in str(failed.as_report()) and "滑梯" not in str(failed.as_report())
    minor.acknowledged_at = T0  # closed reports no longer count
    assert _rule(session, w.fac, due + timedelta(minutes=20)).evidence["open"] == 1


def test_the_api_reports_incidents_and_refuses_a_stranger_acknowledging(
    client, auth, build, session
):  # type: ignore[no-untyped-def]
    s = signed_in_director(build, session, auth)
    w = _world(build, session, s.fac, s.room)
    stranger = build.child(w.fac, w.room, birth_date=TODDLER_BIRTH).guardians[0]
    session.commit()
    url = f"/api/v1/children/{w.kid.id}/incidents"
    created = auth.api("POST", url, {
        "occurred_at": "2026-03-10T08:40:00+08:00", "location": "楼梯", "severity": "serious",
        "what_happened": "摔下两级台阶", "injury_type": "骨折可能", "body_part": "右臂",
        "sent_to_hospital": True,
    })  # fmt: skip
    assert created.status_code == 201, created.get_json()
    report_id = created.get_json()["id"]
    assert len(_alerts(session)) == 1
    told = auth.api("POST", f"{url}/notify", {
        "incident_id": report_id, "notified_at": "2026-03-10T08:45:00+08:00", "how": "phone",
        "by_staff_id": w.a.id,
    })  # fmt: skip
    assert told.status_code == 200 and told.get_json()["notified_how"] == "phone"
    ack = {"incident_id": report_id, "acknowledged_at": "2026-03-10T08:50:00+08:00",
           "guardian_id": stranger.id, "how": "phone"}  # fmt: skip
    refused = auth.api("POST", f"{url}/acknowledge", ack)
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "not_a_guardian"
    listed = auth.api("GET", url).get_json()["items"]
    assert [(i["id"], i["acknowledged_at"], i["overdue"]) for i in listed] == [
        (report_id, None, False)
    ]
    reads = audit_for(session, "child_health", "read")
    assert [(r.entity_id, r.after["section"]) for r in reads] == [(w.kid.id, "incidents")]
