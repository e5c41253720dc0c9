"""Children, enrolments, duty, audit and sign-in rules through the services."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from carewatch.errors import Conflict, DomainError
from carewatch.policy import ClassType, LoginPolicy
from facility_app.accounts.models import LoginAttempt, Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.accounts.service import TooManyAttempts, authenticate
from facility_app.audit.models import AuditEntry
from facility_app.children import service as children
from facility_app.children.models import Enrolment
from facility_app.staff import service as staff_service
from facility_app.staff.models import DutySession
from tests.conftest import T0
from tests.factories import PASSWORD


def test_birth_date_in_the_future_is_refused(build, session, clock):
    fac = build.facility()
    with pytest.raises(DomainError) as err:
        children.save_child(
            session,
            SYSTEM,
            fac,
            now=clock.now(),
            name="未来",
            sex="female",
            birth_date=date(2026, 3, 11),
        )
    assert (err.value.code, err.value.field) == ("birth_date_in_future", "birth_date")


def test_implausibly_old_birth_date_is_refused(build, session, clock):
    fac = build.facility()
    with pytest.raises(DomainError) as err:
        children.save_child(
            session,
            SYSTEM,
            fac,
            now=clock.now(),
            name="老",
            sex="male",
            birth_date=date(2016, 3, 10),
        )
    assert err.value.code == "birth_date_implausible"
    assert err.value.params["months"] == 120


@pytest.mark.parametrize(
    ("class_type", "birth", "code"),
    [
        (ClassType.INFANT, date(2025, 10, 1), "too_young_for_class"),  # 5 months
        (ClassType.INFANT, date(2025, 3, 10), "too_old_for_class"),  # exactly 12 months
        (ClassType.TODDLER, date(2025, 3, 11), "too_young_for_class"),  # 11 months
        (ClassType.OLDER, date(2023, 3, 10), "too_old_for_class"),  # 36 months
        (ClassType.MIXED, date(2024, 9, 11), "too_young_for_class"),  # 17 months
    ],
)
def test_age_must_fit_the_class_type_at_enrolment(build, session, clock, class_type, birth, code):
    fac = build.facility()
    room = build.room(fac, class_type)
    kid = children.save_child(
        session, SYSTEM, fac, now=clock.now(), name="测", sex="female", birth_date=birth
    )
    with pytest.raises(DomainError) as err:
        children.add_enrolment(
            session,
            SYSTEM,
            fac,
            kid,
            now=clock.now(),
            class_id=room.id,
            care_type="full_day",
            start_date=date(2026, 3, 10),
        )
    assert err.value.code == code


def test_overlapping_enrolments_are_refused(build, session, clock):
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER)
    kid = build.child(
        fac, room, birth_date=date(2025, 1, 5), start=date(2026, 3, 1), end=date(2026, 6, 30)
    )
    with pytest.raises(Conflict) as err:
        children.add_enrolment(
            session,
            SYSTEM,
            fac,
            kid,
            now=clock.now(),
            class_id=room.id,
            care_type="half_day",
            start_date=date(2026, 6, 30),
        )
    assert err.value.code == "overlapping_enrolment"
    # The day after the first ends is free.
    children.add_enrolment(
        session,
        SYSTEM,
        fac,
        kid,
        now=clock.now(),
        class_id=room.id,
        care_type="half_day",
        start_date=date(2026, 7, 1),
    )
    session.commit()
    assert session.scalar(select(func.count()).select_from(Enrolment)) == 2


def test_enrolment_ending_before_it_starts_is_refused(build, session, clock):
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER)
    kid = children.save_child(
        session, SYSTEM, fac, now=clock.now(), name="测", sex="female", birth_date=date(2025, 1, 5)
    )
    with pytest.raises(DomainError) as err:
        children.add_enrolment(
            session,
            SYSTEM,
            fac,
            kid,
            now=clock.now(),
            class_id=room.id,
            care_type="full_day",
            start_date=date(2026, 4, 1),
            end_date=date(2026, 3, 31),
        )
    assert err.value.code == "end_before_start"


def test_oversized_and_missing_names_are_refused(build, session, clock):
    fac = build.facility()
    for name, code in (("", "required"), ("长" * 61, "too_long")):
        with pytest.raises(DomainError) as err:
            children.save_child(
                session,
                SYSTEM,
                fac,
                now=clock.now(),
                name=name,
                sex="female",
                birth_date=date(2025, 1, 5),
            )
        assert (err.value.code, err.value.field) == (code, "name")


def test_nobody_is_on_duty_in_two_classes_at_once(build, session, clock):
    fac = build.facility()
    a = build.room(fac, ClassType.TODDLER)
    b = build.room(fac, ClassType.TODDLER)
    carer = build.staff(fac, classes=[a.id, b.id])
    staff_service.clock_in(session, SYSTEM, fac, carer, a.id, now=clock.now())
    with pytest.raises(Conflict) as err:
        staff_service.clock_in(session, SYSTEM, fac, carer, b.id, now=clock.now())
    assert err.value.code == "on_duty_elsewhere"
    with pytest.raises(Conflict) as err:
        staff_service.clock_in(session, SYSTEM, fac, carer, a.id, now=clock.now())
    assert err.value.code == "already_on_duty"
    clock.advance(timedelta(hours=1))
    staff_service.clock_out(session, SYSTEM, fac, carer, now=clock.now())
    staff_service.clock_in(session, SYSTEM, fac, carer, b.id, now=clock.now())
    session.commit()
    sessions = session.scalars(select(DutySession).order_by(DutySession.id)).all()
    assert [(d.class_id, d.start_at, d.end_at) for d in sessions] == [
        (a.id, T0, T0 + timedelta(hours=1)),
        (b.id, T0 + timedelta(hours=1), None),
    ]


def test_duty_entered_after_the_fact_may_not_overlap(build, session, clock):
    fac = build.facility()
    a = build.room(fac, ClassType.TODDLER)
    b = build.room(fac, ClassType.TODDLER)
    carer = build.staff(fac, classes=[a.id, b.id])
    start = T0 - timedelta(days=1)
    staff_service.add_duty_session(
        session,
        SYSTEM,
        fac,
        carer,
        a.id,
        now=clock.now(),
        start_at=start,
        end_at=start + timedelta(hours=4),
        reason="忘记打卡",
    )
    with pytest.raises(Conflict) as err:
        staff_service.add_duty_session(
            session,
            SYSTEM,
            fac,
            carer,
            b.id,
            now=clock.now(),
            start_at=start + timedelta(hours=3),
            end_at=start + timedelta(hours=5),
            reason="忘记打卡",
        )
    assert err.value.code == "duty_overlap"
    with pytest.raises(DomainError) as err:
        staff_service.add_duty_session(
            session,
            SYSTEM,
            fac,
            carer,
            b.id,
            now=clock.now(),
            start_at=start + timedelta(hours=5),
            end_at=start + timedelta(hours=6),
            reason="  ",
        )
    assert err.value.code == "reason_required"


def test_audit_log_is_append_only_in_the_database(build, session):
    build.facility()
    session.commit()
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    fac = build.facility(name="second")
    build.room(fac)
    session.commit()
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == 1
    for statement in ("UPDATE audit_log SET reason = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == 1


def test_sign_in_is_throttled_after_repeated_failures(build, session, clock):
    build.facility()
    user = build.user(Role.DIRECTOR, username="director")
    session.commit()
    policy = LoginPolicy(max_failures=3, window_minutes=15)

    def attempt(password: str, at: datetime):  # type: ignore[no-untyped-def]
        return authenticate(
            session, "director", password, now=at, remote_addr="127.0.0.1", policy=policy
        )

    for i in range(3):
        assert attempt("wrong", T0 + timedelta(minutes=i)) is None
    with pytest.raises(TooManyAttempts) as err:
        attempt(PASSWORD, T0 + timedelta(minutes=3))
    assert err.value.status == 429
    # Once the first failure is older than the window, two remain: the right password works.
    assert attempt(PASSWORD, T0 + timedelta(minutes=15, seconds=1)) == user
    session.commit()
    assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 4
