"""Two check-ins at the same moment in one class: the second sees the first."""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import select

from carewatch.db import make_engine, make_session_factory, transaction
from carewatch.policy import ClassType
from facility_app.accounts.permissions import SYSTEM
from facility_app.attendance import service as attendance
from facility_app.children.service import get_child
from facility_app.facility.service import get_facility
from facility_app.ratio.models import BreachKind, ClassBreach
from facility_app.staff import service as staff_service


def test_simultaneous_check_ins_cannot_hide_a_breach(build, session, clock, db_url):
    # Toddler class 1:5 with one caregiver and four children present: one more child is
    # fine, two more are a breach. Each check-in alone sees five children; only if the
    # second waits for the first (class lock, or SQLite's single writer) is the breach seen.
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER)
    kids = [build.child(fac, room, birth_date=date(2025, 1, 5)) for _ in range(6)]
    staff_service.clock_in(session, SYSTEM, fac, build.staff(fac), room.id, now=clock.now())
    for k in kids[:4]:
        attendance.check_in(
            session, SYSTEM, fac, k, now=clock.now(), dropped_off_by_id=k.guardians[0].id
        )
    session.commit()
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    first_done = threading.Event()
    release_first = threading.Event()
    errors: list[BaseException] = []

    def check_in(child_id: int, hold: bool) -> None:
        try:
            with transaction(factory) as s:
                facility = get_facility(s)
                child = get_child(s, SYSTEM, child_id)
                attendance.check_in(
                    s,
                    SYSTEM,
                    facility,
                    child,
                    now=clock.now(),
                    dropped_off_by_id=child.guardians[0].id,
                )
                if hold:
                    first_done.set()
                    # Keep the transaction open while the other check-in runs.
                    release_first.wait(timeout=10)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    a = threading.Thread(target=check_in, args=(kids[4].id, True))
    a.start()
    assert first_done.wait(timeout=10)
    b = threading.Thread(target=check_in, args=(kids[5].id, False))
    b.start()
    b.join(timeout=0.5)  # B must be waiting for A, not finished on a stale view
    release_first.set()
    a.join(timeout=10)
    b.join(timeout=10)
    engine.dispose()
    assert errors == []
    session.expire_all()
    breaches = session.scalars(select(ClassBreach)).all()
    assert [(x.kind, x.peak_children, x.min_caregivers, x.ended_at) for x in breaches] == [
        (BreachKind.RATIO, 6, 1, None)
    ]
