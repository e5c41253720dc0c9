"""Settling: only ended months, once; the snapshot is locked; corrections after locking
become adjustment lines of the next claim with the reason from the audit log."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from carewatch.errors import Conflict, DomainError, NotFound
from facility_app.accounts.permissions import SYSTEM
from facility_app.attendance import service as attendance
from facility_app.audit import service as audit
from facility_app.facility.models import Grade
from facility_app.facility.service import at_local
from facility_app.settlement import adjustments, service, versions, views
from facility_app.settlement.models import LineKind, Settlement
from tests.conftest import SHANGHAI, T0
from tests.integration.test_settlement_support import (
    FEB,
    FEB_DAYS,
    attend,
    child,
    correct_to_absent,
    facility,
)

APRIL_2 = datetime(2026, 4, 2, 9, 0, tzinfo=SHANGHAI)
MAY_2 = datetime(2026, 5, 2, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def feb(build, session):  # type: ignore[no-untyped-def]
    """A level-2 facility with two children in February: 15 and 20 days attended."""
    fac = facility(build)
    room = build.room(fac)
    a, b = child(build, fac, room), child(build, fac, room)
    records = attend(session, fac, a, FEB_DAYS[:15])
    attend(session, fac, b, FEB_DAYS)
    session.commit()
    return fac, a, b, records


def test_a_month_is_settled_once_after_it_ends(session, feb):
    fac = feb[0]
    with pytest.raises(DomainError) as err:
        service.settle_month(session, SYSTEM, fac, "2026-03", now=T0)
    assert err.value.code == "month_not_ended"
    assert "from 2026-04-01" in str(err.value)
    with pytest.raises(DomainError) as err:
        service.settle_month(session, SYSTEM, fac, "2026-04", now=T0)
    assert err.value.code == "month_in_future"
    for bad in ("2026-13", "26-02", "February", ""):
        with pytest.raises(DomainError) as err:
            service.settle_month(session, SYSTEM, fac, bad, now=T0)
        assert err.value.code == "invalid_month"
    settled = service.settle_month(session, SYSTEM, fac, FEB, now=T0)
    session.commit()
    assert (settled.total, len(settled.lines), settled.service_days) == (Decimal("1225"), 2, 20)
    with pytest.raises(Conflict) as err:
        service.settle_month(session, SYSTEM, fac, FEB, now=T0)
    assert err.value.code == "already_settled"
    entry = audit.entries(session, entity="settlement")[0]
    assert entry.after["total"] == "1225.00" and entry.entity_id == settled.id


def test_the_database_refuses_to_change_a_settled_month(session, feb, backend):
    settled = service.settle_month(session, SYSTEM, feb[0], FEB, now=T0)
    session.commit()
    for sql in (
        "UPDATE settlement_line SET amount_fen = 1 WHERE settlement_id = :id",
        "DELETE FROM settlement_line WHERE settlement_id = :id",
        "UPDATE settlement SET total_fen = 1 WHERE id = :id",
    ):
        with pytest.raises(DBAPIError):
            session.execute(text(sql), {"id": settled.id})
        session.rollback()
    assert session.get(Settlement, settled.id).total_fen == 122500


def test_a_correction_after_locking_becomes_an_adjustment_of_the_next_claim(session, feb):
    fac, a, _b, records = feb
    service.settle_month(session, SYSTEM, fac, FEB, now=T0)
    session.commit()
    correct_to_absent(session, records[0], "家长确认2月2日未入园", T0 + timedelta(hours=1))
    session.commit()

    # The settled month does not move.
    locked = service.claim(session, SYSTEM, fac, FEB, now=T0)
    assert locked.settled and locked.line_for(a.id).amount == Decimal("525.00")
    assert locked.line_for(a.id).days[0]["status"] == "present"

    march = service.compute_claim(session, fac, "2026-03")
    [adj] = march.adjustments
    # 15 → 14 days: 700 × 14/20 = 490, paid 525: −35.
    assert (adj.kind, adj.child_id, adj.adjusts_month) == (LineKind.ADJUSTMENT, a.id, FEB)
    assert adj.amount == Decimal("-35.00")
    assert adj.reason == "家长确认2月2日未入园"
    assert adj.rule_text == "490.00 − 525.00 paid"
    assert march.total == march.claim_total - Decimal(35)

    # Settled with March, the adjustment is paid; April carries nothing more.
    settled_march = service.settle_month(session, SYSTEM, fac, "2026-03", now=APRIL_2)
    session.commit()
    assert [x.amount_fen for x in settled_march.lines if x.kind == LineKind.ADJUSTMENT] == [-3500]
    assert service.compute_claim(session, fac, "2026-04").adjustments == []


def test_a_correction_that_changes_no_amount_still_shows(session, feb):
    fac, a, _b, records = feb
    service.settle_month(session, SYSTEM, fac, FEB, now=T0)
    session.commit()
    rec = records[3]
    attendance.correct_times(
        session, SYSTEM, fac, rec.id, now=T0,
        check_in_at=at_local(fac, rec.day, time(8, 30)),
        check_out_at=at_local(fac, rec.day, time(16, 0)),
        reason="门口平板时间有误",
    )  # fmt: skip
    session.commit()
    [adj] = service.compute_claim(session, fac, "2026-03").adjustments
    assert (adj.child_id, adj.amount, adj.reason) == (a.id, Decimal("0.00"), "门口平板时间有误")


def test_policy_versions_take_effect_by_month_and_settled_months_keep_theirs(session, feb):
    fac, _a, b, _ = feb
    service.settle_month(session, SYSTEM, fac, FEB, now=T0)
    key = fac.policy_profile.key
    rule = {"grade_rates": {"level2": "800"}}
    v1 = versions.add_policy_version(
        session, SYSTEM, now=T0, profile_key=key, effective_from=date(2026, 2, 1),
        effective_to=None, rule=rule,
    )  # fmt: skip
    session.commit()
    # February keeps the rule it was settled under; a draft of January would use 700 too.
    assert service.claim(session, SYSTEM, fac, FEB, now=T0).line_for(b.id).amount == Decimal(700)
    assert service.compute_claim(session, fac, "2026-01").rule.grade_rates["level2"] == 700
    assert service.compute_claim(session, fac, "2026-03").version_id == v1.id
    # No silent change either: the settled February is not adjusted to the new rate.
    assert service.compute_claim(session, fac, "2026-03").adjustments == []

    with pytest.raises(Conflict) as err:
        versions.add_policy_version(
            session, SYSTEM, now=T0, profile_key=key, effective_from=date(2026, 2, 1),
            effective_to=date(2026, 6, 30), rule=rule,
        )  # fmt: skip
    assert err.value.code == "overlapping_policy_version"

    # A later open-ended version ends the earlier one the day before.
    v2 = versions.add_policy_version(
        session, SYSTEM, now=T0, profile_key=key, effective_from=date(2026, 7, 1),
        effective_to=None, rule={"grade_rates": {"level2": "850"}},
    )  # fmt: skip
    assert v1.effective_to == date(2026, 6, 30) and v2.effective_to is None
    with pytest.raises(Conflict) as err:
        versions.add_policy_version(
            session, SYSTEM, now=T0, profile_key=key, effective_from=date(2026, 6, 1),
            effective_to=date(2026, 6, 30), rule=rule,
        )  # fmt: skip
    assert err.value.code == "overlapping_policy_version"


def test_a_new_version_cannot_reach_back_into_a_month_settled_under_the_old(session, feb):
    fac = feb[0]
    key = fac.policy_profile.key
    versions.add_policy_version(
        session, SYSTEM, now=T0, profile_key=key, effective_from=date(2026, 1, 1),
        effective_to=None, rule={},
    )  # fmt: skip
    service.settle_month(session, SYSTEM, fac, FEB, now=T0)
    with pytest.raises(Conflict) as err:
        versions.add_policy_version(
            session, SYSTEM, now=T0, profile_key=key, effective_from=date(2026, 2, 1),
            effective_to=None, rule={},
        )  # fmt: skip
    assert err.value.code == "settled_under_version"


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"profile_key": "nowhere"}, "unknown_profile"),
        ({"effective_from": date(2026, 3, 15)}, "not_month_start"),
        ({"effective_to": date(2026, 3, 15)}, "not_month_end"),
        ({"rule": {"basis": "by_mood"}}, "invalid_rule"),
        ({"rule": {"grade_rates": {"level2": "-5"}}}, "invalid_rule"),
        ({"rule": {"min_attended_days": "a few"}}, "invalid_rule"),
    ],
)
def test_bad_policy_versions_are_refused_and_nothing_is_written(session, feb, kw, code):
    args = {
        "profile_key": feb[0].policy_profile.key,
        "effective_from": date(2026, 3, 1),
        "effective_to": None,
        "rule": {},
        **kw,
    }
    with pytest.raises((DomainError, NotFound)) as err:
        versions.add_policy_version(session, SYSTEM, now=T0, **args)
    assert err.value.code == code
    assert versions.policy_versions(session, feb[0].policy_profile_id) == []


def test_the_hub_body_has_counts_amounts_and_pseudonyms_only(session, feb):
    fac, a, b, _ = feb
    service.settle_month(session, SYSTEM, fac, FEB, now=T0)
    body = views.settlement_body(session, fac, FEB)
    text_body = repr(body)
    assert a.name not in text_body and b.name not in text_body
    assert body["settled"] is True and body["total"] == "1225.00" and body["children"] == 2
    assert {line["child"] for line in body["lines"]} == {a.pseudonym, b.pseudonym}
    assert body["lines"][0]["amount"] in ("525.00", "700.00")
    assert body["classes"] == [
        {"class_id": a.enrolments[0].class_id, "children": 2, "amount": "1225.00"}
    ]


def test_forecast_projects_the_month_end(build, session):
    fac = facility(build, Grade.LEVEL2)
    room = build.room(fac)
    steady, low = child(build, fac, room), child(build, fac, room)
    march = [date(2026, 3, d) for d in (2, 3, 4, 5, 6, 9, 10)]  # 7 service days to T0
    attend(session, fac, steady, march)
    attend(session, fac, low, march[:2])
    session.commit()
    fc = views.forecast(session, SYSTEM, fac, "2026-03", now=T0)
    # March 2026 has 22 service days, 7 of them up to and including the 10th.
    assert (fc.service_days, fc.service_days_so_far, fc.as_of) == (22, 7, date(2026, 3, 10))
    by_child = {f.line.child_id: f for f in fc.lines}
    s, lo = by_child[steady.id], by_child[low.id]
    assert (s.line.amount, s.remaining_days, s.projected_days) == (Decimal("222.73"), 15, 22)
    assert s.projected_amount == Decimal("700.00") and not s.low
    # 2 of 7 days so far: 2 + round(2/7 × 15) = 2 + 4 = 6 days → 700 × 6.3/22 = 200.45.
    assert (lo.line.amount, lo.projected_days) == (Decimal("0.00"), 6)
    assert lo.projected_units == Decimal("6.3") and lo.projected_amount == Decimal("200.45")
    assert lo.low and fc.low_count == 1


def test_only_changes_to_a_settled_month_make_it_recomputed(session, feb):
    fac, a, _b, records = feb
    settled = service.settle_month(session, SYSTEM, fac, FEB, now=T0)
    session.commit()
    after = adjustments._settled_entry_id(session, settled)
    first, last = date(2026, 2, 1), date(2026, 2, 28)
    attendance.check_in(session, SYSTEM, fac, a, now=T0, dropped_off_by_id=a.guardians[0].id)
    assert not adjustments._changed_since(session, after, first, last)  # today's check-in
    correct_to_absent(session, records[1], "补录", T0)
    assert adjustments._changed_since(session, after, first, last)
