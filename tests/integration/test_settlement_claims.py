"""Hand-worked monthly claims: each grade, an age-band profile, proration at and around
the minimum-days threshold, children joining, leaving and changing class or care type."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from carewatch.policy import ClassType
from facility_app.accounts.permissions import SYSTEM
from facility_app.children import service as children
from facility_app.children.models import CareType
from facility_app.facility.models import ClosedDay, Grade
from facility_app.settlement import service
from tests.conftest import T0
from tests.integration.test_settlement_support import (
    FEB,
    FEB_DAYS,
    INFANT_BIRTH,
    OLDER_BIRTH,
    attend,
    child,
    facility,
)


def _amounts(claim) -> dict[int, Decimal]:  # type: ignore[no-untyped-def]
    return {line.child_id: line.amount for line in claim.lines}


@pytest.mark.parametrize(
    ("grade", "full", "fifteen"),
    [
        (Grade.DEMONSTRATION, "900.00", "675.00"),  # 900 × 15/20
        (Grade.LEVEL1, "900.00", "675.00"),
        (Grade.LEVEL2, "700.00", "525.00"),  # 700 × 15/20
        (Grade.LEVEL3, "500.00", "375.00"),  # 500 × 15/20
    ],
)
def test_each_grade_pays_its_rate_prorated_by_attended_days(build, session, grade, full, fifteen):
    fac = facility(build, grade)
    room = build.room(fac, ClassType.TODDLER)
    every, most = child(build, fac, room), child(build, fac, room)
    attend(session, fac, every, FEB_DAYS)
    attend(session, fac, most, FEB_DAYS[:15])
    claim = service.compute_claim(session, fac, FEB)
    assert claim.service_days == 20
    assert _amounts(claim) == {every.id: Decimal(full), most.id: Decimal(fifteen)}
    assert claim.total == Decimal(full) + Decimal(fifteen)
    [total] = claim.class_totals()
    assert (total.class_id, total.children, total.amount) == (room.id, 2, claim.total)
    line = claim.line_for(most.id)
    assert (line.days_enrolled, line.service_days, line.days_attended) == (20, 20, 15)
    assert line.rule_text == f"grade {grade.value}: {int(Decimal(full))} × 15/20"


def test_ungraded_and_uncertified_facilities_claim_nothing(build, session):
    ungraded = facility(build, Grade.UNGRADED)
    kid = child(build, ungraded, build.room(ungraded))
    attend(session, ungraded, kid, FEB_DAYS)
    assert _amounts(service.compute_claim(session, ungraded, FEB)) == {kid.id: Decimal("0.00")}

    private = build.facility(grade=Grade.LEVEL1, puhui_certified=False)
    other = child(build, private, build.room(private))
    attend(session, private, other, FEB_DAYS)
    claim = service.compute_claim(session, private, FEB)
    assert claim.lines == [] and claim.notes == ["not_puhui"]


@pytest.mark.parametrize(
    ("days", "amount"),
    [(0, "0.00"), (4, "0.00"), (5, "175.00"), (6, "210.00"), (19, "665.00"), (20, "700.00")],
)
def test_proration_at_and_around_the_minimum_days(build, session, days, amount):
    # Level 2, 700 a month; fewer than 5 attended days earn nothing, else 700 × days/20.
    fac = facility(build)
    kid = child(build, fac, build.room(fac))
    attend(session, fac, kid, FEB_DAYS[:days])
    line = service.compute_claim(session, fac, FEB).line_for(kid.id)
    assert line.amount == Decimal(amount)
    assert line.days_attended == days


def test_a_locality_that_pays_in_full_from_a_share_of_days(build, session):
    fac = facility(build, settlement={"default_rule": {"full_rate_from_share": "0.8"}})
    room = build.room(fac)
    at_share, below = child(build, fac, room), child(build, fac, room)
    attend(session, fac, at_share, FEB_DAYS[:16])  # 16/20 = 80 % → the full 700
    attend(session, fac, below, FEB_DAYS[:15])  # 700 × 15/20
    assert _amounts(service.compute_claim(session, fac, FEB)) == {
        at_share.id: Decimal("700.00"),
        below.id: Decimal("525.00"),
    }


def test_amounts_round_half_up_to_the_fen_once_per_child(build, session):
    fac = facility(build)
    session.add(ClosedDay(facility_id=fac.id, day=date(2026, 2, 17), reason="春节"))
    kid = child(build, fac, build.room(fac))
    attend(session, fac, kid, [d for d in FEB_DAYS if d != date(2026, 2, 17)][:15])
    line = service.compute_claim(session, fac, FEB).line_for(kid.id)
    # 19 service days: 700 × 15/19 = 552.6315… → 552.63
    assert (line.service_days, line.amount) == (19, Decimal("552.63"))


def test_half_day_days_count_half(build, session):
    fac = facility(build)
    kid = child(build, fac, build.room(fac), care_type=CareType.HALF_DAY)
    attend(session, fac, kid, FEB_DAYS[:10])
    line = service.compute_claim(session, fac, FEB).line_for(kid.id)
    # 10 half days = 5 units: 700 × 5/20 = 175; the 10 attended days pass the minimum of 5.
    assert (line.days_attended, line.units, line.amount) == (10, Decimal("5.0"), Decimal("175.00"))


def test_hourly_places_and_non_puhui_places_are_not_eligible(build, session):
    fac = facility(build)
    room = build.room(fac)
    hourly = child(build, fac, room, care_type=CareType.HOURLY)
    market = child(build, fac, room, puhui_place=False)
    attend(session, fac, hourly, FEB_DAYS)
    attend(session, fac, market, FEB_DAYS)
    assert service.compute_claim(session, fac, FEB).lines == []


def test_a_child_joining_and_one_leaving_mid_month(build, session):
    fac = facility(build)
    room = build.room(fac)
    joiner = child(build, fac, room, start=date(2026, 2, 16))
    leaver = child(build, fac, room, end=date(2026, 2, 13))
    attend(session, fac, joiner, FEB_DAYS[10:])  # all 10 days from the 16th
    attend(session, fac, leaver, FEB_DAYS[:9])  # 9 of the 10 days to the 13th
    claim = service.compute_claim(session, fac, FEB)
    joined, left = claim.line_for(joiner.id), claim.line_for(leaver.id)
    # Against the month's 20 service days: 700 × 10/20 = 350 and 700 × 9/20 = 315.
    assert (joined.days_enrolled, joined.days_attended, joined.amount) == (10, 10, Decimal("350"))
    assert (left.days_enrolled, left.days_attended, left.amount) == (10, 9, Decimal("315"))


def test_a_child_changing_class_and_care_type_mid_month(build, session):
    fac = facility(build)
    toddlers, mixed = build.room(fac, ClassType.TODDLER), build.room(fac, ClassType.MIXED)
    kid = child(build, fac, toddlers, birth=date(2024, 6, 1), end=date(2026, 2, 13))
    children.add_enrolment(
        session, SYSTEM, fac, kid, now=T0, class_id=mixed.id, care_type=CareType.HALF_DAY,
        start_date=date(2026, 2, 16), puhui_place=True,
    )  # fmt: skip
    session.refresh(kid)
    attend(session, fac, kid, FEB_DAYS)
    claim = service.compute_claim(session, fac, FEB)
    line = claim.line_for(kid.id)
    # 10 full days + 10 half days = 15 units: 700 × 15/20 = 525, counted in the new class.
    assert (line.days_attended, line.units, line.amount) == (20, Decimal("15.0"), Decimal("525"))
    assert (line.class_id, line.class_name) == (mixed.id, mixed.name)
    assert {d["class_id"] for d in line.days} == {toddlers.id, mixed.id}
    assert [t.class_id for t in claim.class_totals()] == [mixed.id]


def test_an_age_band_profile(build, session):
    fac = facility(build, settlement={"default_rule": {"basis": "age_band"}})
    infant = child(build, fac, build.room(fac, ClassType.INFANT), birth=INFANT_BIRTH)
    toddler = child(build, fac, build.room(fac, ClassType.TODDLER))
    older = child(build, fac, build.room(fac, ClassType.OLDER), birth=OLDER_BIRTH)
    # 11 months on 1 February, 12 on the 15th: the age on the first of the month counts.
    turning = child(build, fac, build.room(fac, ClassType.INFANT), birth=date(2025, 2, 15))
    attend(session, fac, infant, FEB_DAYS)
    attend(session, fac, toddler, FEB_DAYS[:10])
    attend(session, fac, older, FEB_DAYS[:15])
    attend(session, fac, turning, FEB_DAYS)
    claim = service.compute_claim(session, fac, FEB)
    assert _amounts(claim) == {
        infant.id: Decimal("600.00"),  # ≤ 12 months: 600 × 20/20
        toddler.id: Decimal("200.00"),  # 12–24 months: 400 × 10/20
        older.id: Decimal("150.00"),  # 24–36 months: 200 × 15/20
        turning.id: Decimal("600.00"),
    }
    assert claim.line_for(toddler.id).rule_text == "age 12-24 m: 400 × 10/20"


def test_a_check_in_without_check_out_counts_and_is_flagged(build, session):
    fac = facility(build)
    kid = child(build, fac, build.room(fac))
    attend(session, fac, kid, FEB_DAYS[:9])
    attend(session, fac, kid, FEB_DAYS[9:10], checkout=False)
    claim = service.compute_claim(session, fac, FEB)
    line = claim.line_for(kid.id)
    assert line.amount == Decimal("350.00")
    assert line.flags == ["missing_checkout:2026-02-13"]
    assert claim.flagged == [line]


def test_every_amount_lists_the_attendance_rows_behind_it(build, session):
    fac = facility(build)
    kid = child(build, fac, build.room(fac))
    records = attend(session, fac, kid, FEB_DAYS[:6])
    line = service.compute_claim(session, fac, FEB).line_for(kid.id)
    assert len(line.days) == 20
    counted = [d for d in line.days if d["weight"] != "0"]
    assert [d["record_id"] for d in counted] == [r.id for r in records]
    assert counted[0] == {
        "day": "2026-02-02", "class_id": kid.enrolments[0].class_id, "care_type": "full_day",
        "eligible": True, "record_id": records[0].id, "status": "present",
        "check_in": "08:00", "check_out": "17:00", "weight": "1",
    }  # fmt: skip
