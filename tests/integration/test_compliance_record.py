"""Recording snapshots: states and ``since``, alerts on changes, signed reports, no names."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from carewatch.policy import ClassType
from carewatch.reports import Kind, verify
from edge_agent.compliance import Change, Status, daily_body, evaluate, record
from edge_agent.models import ComplianceRuleState, ComplianceSnapshot, OutboxReport, ReportCounter
from edge_agent.outbox import OutboxFull
from edge_agent.reporter import Reporter
from facility_app.accounts.permissions import SYSTEM
from facility_app.alerts.models import Alert, AlertKind, Severity
from facility_app.attendance import service as attendance
from facility_app.care import service as care
from facility_app.care.service import Observation
from facility_app.children import service as children
from facility_app.facility import service as facilities
from facility_app.staff import service as staff_service
from tests.conftest import T0

M = timedelta(minutes=1)
TODDLER_BIRTH = date(2025, 1, 5)
UTC_T0 = "2026-03-10T01:00:00.000Z"


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def reporter(key: Ed25519PrivateKey, limit: int = 1000) -> Reporter:
    return Reporter(key=key, facility="F1", prefix="carewatch/v1", limit=limit)


def outbox(session, key) -> list:  # type: ignore[no-untyped-def]
    """Every queued report, verified with the facility's public key, in order."""
    rows = session.scalars(select(OutboxReport).order_by(OutboxReport.id)).all()
    return [(row, verify(row.payload, key.public_key())) for row in rows]


def run(session, fac, now: datetime, publish):  # type: ignore[no-untyped-def]
    return record(session, evaluate(session, fac, now, providers={}), now=now, publish=publish)


@pytest.fixture
def oversized(build, session):  # type: ignore[no-untyped-def]
    """A facility whose only class has one place and two children: class.size fails."""
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER, capacity=1)
    for _ in range(2):
        build.child(fac, room, birth_date=TODDLER_BIRTH)
    session.commit()
    return fac, room


def test_record_keeps_since_and_alerts_exactly_on_changes(oversized, session, key):
    fac, room = oversized
    publish = reporter(key)
    first = run(session, fac, T0, publish)
    session.commit()
    # Only class.size has something to act on; rules first seen as pass or unknown are quiet.
    assert first.changes == [
        Change("class.size", None, Status.FAIL, T0, "1 class(es) over their size limit")
    ]
    reports = outbox(session, key)
    assert [(r.kind, r.seq) for _, r in reports] == [(Kind.ALERTS, 1), (Kind.COMPLIANCE, 2)]
    assert reports[0][1].body == {
        "rule": "class.size",
        "from": None,
        "to": "fail",
        "at": UTC_T0,
        "message": "1 class(es) over their size limit",
    }
    body = reports[1][1].body
    assert body["overall"] == "fail"
    assert body["counts"] == {"pass": 8, "warn": 0, "fail": 1, "unknown": 14}
    assert len(body["rules"]) == 23
    size = next(r for r in body["rules"] if r["id"] == "class.size")
    assert size == {
        "id": "class.size",
        "status": "fail",
        "value": 1,
        "threshold": 0,
        "evidence": {"classes": [{"class": room.id, "type": "toddler", "enrolled": 2, "limit": 1}]},
        "since": UTC_T0,
    }
    snap = session.scalars(select(ComplianceSnapshot)).one()
    assert (snap.overall, snap.report_seq, snap.made_at) == ("fail", 2, T0)
    alert = session.scalars(select(Alert)).one()
    assert (alert.kind, alert.severity, alert.params) == (
        AlertKind.COMPLIANCE_CHANGE,
        Severity.CRITICAL,
        {"rule": "class.size", "from": "", "to": "fail"},
    )
    assert session.scalar(select(func.count()).select_from(ComplianceRuleState)) == 23

    # Same statuses a minute later: no change, no alert, ``since`` kept.
    second = run(session, fac, T0 + M, publish)
    session.commit()
    assert second.changes == []
    assert [r.kind for _, r in outbox(session, key)][2:] == [Kind.COMPLIANCE]
    assert session.scalar(select(func.count()).select_from(Alert)) == 1
    state = session.get(ComplianceRuleState, "class.size")
    assert (state.status, state.since, state.evaluated_at) == ("fail", T0, T0 + M)
    assert {r.since for r in second.snapshot.results} == {T0}

    # The class gets a second place: class.size passes from now on.
    facilities.save_class(
        session,
        SYSTEM,
        fac,
        now=T0 + 2 * M,
        name=room.name,
        class_type="toddler",
        capacity=2,
        class_id=room.id,
    )
    third = run(session, fac, T0 + 2 * M, publish)
    session.commit()
    assert third.changes == [
        Change("class.size", Status.FAIL, Status.PASS, T0 + 2 * M, "every class within its limit")
    ]
    kinds = [(r.kind, r.seq) for _, r in outbox(session, key)]
    assert kinds[3:] == [(Kind.ALERTS, 4), (Kind.COMPLIANCE, 5)]
    alerts_body = outbox(session, key)[3][1].body
    assert (alerts_body["from"], alerts_body["to"]) == ("fail", "pass")
    since = {r.rule_id: r.since for r in third.snapshot.results}
    assert since["class.size"] == T0 + 2 * M and since["class.ratio"] == T0
    assert third.snapshot.overall is Status.UNKNOWN
    newest = session.scalars(select(Alert).order_by(Alert.id.desc())).first()
    assert (newest.severity, newest.params["to"]) == (Severity.INFO, "pass")


def test_everything_is_written_in_the_callers_transaction(oversized, session, key):
    fac, _ = oversized
    run(session, fac, T0, reporter(key))
    assert session.scalar(select(func.count()).select_from(OutboxReport)) == 2
    session.rollback()
    for table in (OutboxReport, ComplianceSnapshot, ComplianceRuleState, Alert, ReportCounter):
        assert session.scalar(select(func.count()).select_from(table)) == 0, table
    # The rolled-back numbers are handed out again: no gap at the hub. Reports made while
    # the broker is unreachable are marked historical.
    offline = Reporter(
        key=key, facility="F1", prefix="carewatch/v1", limit=1000, online=lambda: False
    )
    run(session, fac, T0 + M, offline)
    session.commit()
    assert [(r.seq, r.historical) for _, r in outbox(session, key)] == [(1, True), (2, True)]


def test_a_full_outbox_keeps_the_snapshot_locally_and_still_takes_alerts(oversized, session, key):
    fac, room = oversized
    publish = reporter(key, limit=10)  # compliance held at 10 waiting, alerts taken up to 11
    for n in range(10):
        publish(session, Kind.DAILY, {"n": n}, T0)
    session.commit()
    done = run(session, fac, T0, publish)
    session.commit()
    assert done.row.report_seq is None
    assert session.scalars(select(ComplianceSnapshot.overall)).one() == "fail"
    assert [r.kind for _, r in outbox(session, key)][10:] == [Kind.ALERTS]
    # At the hard bound an alert cannot be queued: the whole record fails, nothing is half-kept.
    facilities.save_class(
        session,
        SYSTEM,
        fac,
        now=T0 + M,
        name=room.name,
        class_type="toddler",
        capacity=2,
        class_id=room.id,
    )
    session.commit()
    with pytest.raises(OutboxFull):
        run(session, fac, T0 + 2 * M, publish)
    session.rollback()
    assert session.get(ComplianceRuleState, "class.size").status == "fail"
    assert session.scalar(select(func.count()).select_from(ComplianceSnapshot)) == 1


def test_alert_message_is_rendered_in_chinese(oversized, session, key, app):
    from facility_app.web.templating import alert_message

    fac, _ = oversized
    run(session, fac, T0, reporter(key))
    session.commit()
    alert = session.scalars(select(Alert)).one()
    with app.test_request_context():
        assert alert_message(alert) == "合规检查 class.size 由“未评估”变为“不合格”。"


# --- no names in any report -------------------------------------------------------------


def test_reports_carry_no_names_or_contact_details(build, session, key, clock):
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER, capacity=1)
    other = build.room(fac, ClassType.TODDLER)
    kids = [
        build.child(fac, room, birth_date=TODDLER_BIRTH, name="欧阳晓雨", start=date(2026, 3, 1)),
        build.child(fac, room, birth_date=TODDLER_BIRTH, name="司马小龙", start=date(2026, 3, 1)),
        build.child(fac, other, birth_date=TODDLER_BIRTH, name="诸葛明月", start=date(2026, 3, 1)),
    ]
    for i, kid in enumerate(kids):
        children.save_guardian(
            session,
            SYSTEM,
            kid,
            now=T0,
            name=f"上官监护{i}",
            relationship="grandmother",
            phone=f"1390000{i:04d}",
        )
    carer = build.staff(fac, classes=[room.id], name="慕容老师")
    session.flush()
    for kid in kids:
        session.refresh(kid)
    monday = T0 - timedelta(days=1)
    staff_service.clock_in(session, SYSTEM, fac, carer, room.id, now=monday)
    for kid in kids:
        attendance.check_in(
            session, SYSTEM, fac, kid, now=monday, dropped_off_by_id=kid.guardians[-1].id
        )
    nap = care.start_nap(session, SYSTEM, fac, kids[0], now=monday + 180 * M)
    care.record_sleep_check(
        session,
        SYSTEM,
        fac,
        now=monday + 200 * M,
        observations=[Observation(nap.id, "breathing_normally", "side")],
    )
    care.end_nap(session, SYSTEM, fac, nap.id, now=monday + 240 * M)
    with pytest.raises(attendance.UnauthorisedPickup) as refused:
        attendance.check_out(
            session, SYSTEM, fac, kids[0], now=monday + 400 * M, other_person="东方陌生"
        )
    refused.value.follow_up(session)
    attendance.check_out(
        session,
        SYSTEM,
        fac,
        kids[1],
        now=monday + 420 * M,
        picked_up_by_id=kids[1].guardians[-1].id,
    )
    session.commit()
    publish = reporter(key)
    run(session, fac, T0, publish)
    publish(session, Kind.DAILY, daily_body(session, fac, monday.date()), T0)
    session.commit()
    reports = outbox(session, key)
    assert [r.kind for _, r in reports].count(Kind.ALERTS) >= 2  # something to leak through
    forbidden = ["欧阳晓雨", "司马小龙", "诸葛明月", "慕容老师", "东方陌生", "家长1", "家长2"]
    forbidden += [f"上官监护{i}" for i in range(3)] + [f"1390000{i:04d}" for i in range(3)]
    texts = [row.payload.decode("utf-8") for row, _ in reports]
    texts += [
        json.dumps(s.results, ensure_ascii=False)
        for s in session.scalars(select(ComplianceSnapshot))
    ]
    texts += [
        json.dumps(s.result, ensure_ascii=False)
        for s in session.scalars(select(ComplianceRuleState))
    ]
    for content in texts:
        for word in forbidden:
            assert word not in content
    # The pseudonymous ids a report may carry are the class ids.
    body = next(r.body for _, r in reports if r.kind is Kind.COMPLIANCE)
    pickup = next(r for r in body["rules"] if r["id"] == "attendance.complete")
    assert pickup["evidence"]["classes"] == {str(room.id): 1, str(other.id): 1}


def test_the_agent_jobs_evaluate_and_report_through_the_engine(oversized, db_url, key, clock):
    from carewatch.db import make_engine, make_session_factory
    from edge_agent import jobs

    engine = make_engine(db_url, durable=True)
    try:
        factory = make_session_factory(engine)
        publish = reporter(key)
        assert jobs.run_compliance(factory, clock, publish) == "fail"
        clock.advance(M)
        assert jobs.run_compliance(factory, clock, publish) == "fail"
        # 09:01 on Tuesday: the last closed day is Monday.
        assert jobs.run_daily(factory, clock, publish) == [date(2026, 3, 9)]
        with factory() as session:
            kinds = [r.kind for _, r in outbox(session, key)]
            daily = outbox(session, key)[-1][1].body
    finally:
        engine.dispose()
    assert kinds == [Kind.ALERTS, Kind.COMPLIANCE, Kind.COMPLIANCE, Kind.DAILY]
    assert (daily["day"], daily["children_enrolled"]) == ("2026-03-09", 0)


def test_each_status_change_of_a_rule_alerts_once_with_its_severity(build, session, key):
    fac = build.facility()
    room = build.room(fac, ClassType.INFANT)  # 1:3
    kids = [build.child(fac, room, birth_date=date(2025, 6, 1)) for _ in range(4)]
    carers = [build.staff(fac, classes=[room.id]) for _ in range(2)]
    staff_service.clock_in(session, SYSTEM, fac, carers[0], room.id, now=T0)
    session.commit()
    publish = reporter(key)
    run(session, fac, T0, publish)  # first sight of class.ratio: pass, no alert
    for kid in kids:
        attendance.check_in(
            session, SYSTEM, fac, kid, now=T0 + M, dropped_off_by_id=kid.guardians[0].id
        )
    run(session, fac, T0 + 2 * M, publish)  # 4 infants, 1 caregiver: fail
    run(session, fac, T0 + 3 * M, publish)  # still failing: nothing new
    staff_service.clock_in(session, SYSTEM, fac, carers[1], room.id, now=T0 + 4 * M)
    run(session, fac, T0 + 5 * M, publish)  # in ratio, but breached earlier today: warn
    session.commit()
    ratio = [
        (a.params["from"], a.params["to"], a.severity)
        for a in session.scalars(
            select(Alert).where(Alert.kind == AlertKind.COMPLIANCE_CHANGE).order_by(Alert.id)
        )
        if a.params["rule"] == "class.ratio"
    ]
    assert ratio == [("pass", "fail", Severity.CRITICAL), ("fail", "warn", Severity.WARNING)]
    reported = [
        (r.body["from"], r.body["to"])
        for _, r in outbox(session, key)
        if r.kind is Kind.ALERTS and r.body["rule"] == "class.ratio"
    ]
    assert reported == [("pass", "fail"), ("fail", "warn")]
    assert session.get(ComplianceRuleState, "class.ratio").since == T0 + 5 * M
