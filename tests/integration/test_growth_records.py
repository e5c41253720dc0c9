"""Growth records: refusing impossible values, flagging implausible ones, the record page
section with its charts, and the JSON API.

Figures are worked by hand from WHO's table rows. Boys, 365 days, weight-for-age:
L = 0.0645, M = 9.646, S = 0.10925; 7.70 kg gives
((7.70 / 9.646)^0.0645 − 1) / (0.0645 × 0.10925) = −0.014431 / 0.0070466 = −2.05 (underweight).
4.00 kg lies below −3 SD (6.926 kg), so the restricted tail applies:
−3 + (4.00 − 6.926) / (7.741 − 6.926) = −3 − 3.59 = −6.59, beyond WHO's −6 flag.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from carewatch.errors import DomainError
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.children.models import Sex
from facility_app.health import growth as growth_service
from health_records.growth_models import GrowthMeasurement, MeasuredPosition
from tests.conftest import T0
from tests.integration.management_support import audit_for, count, signed_in_director, text

#: Exactly 365 days old on T0's day (2026-03-10): no 29 February in between.
BIRTH = date(2025, 3, 10)
TODAY = date(2026, 3, 10)


def _boy(build, session, fac, room, name="李小龙"):  # type: ignore[no-untyped-def]
    kid = build.child(fac, room, birth_date=BIRTH, name=name)
    kid.sex = Sex.MALE
    session.commit()
    return kid


@pytest.fixture
def scene(build, session):  # type: ignore[no-untyped-def]
    """A facility, a class and a one-year-old boy."""
    from carewatch.policy import ClassType

    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER, name="托小一班")
    kid = _boy(build, session, fac, room)
    return fac, room, kid


def _record(session, fac, kid, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("measured_on", TODAY)
    return growth_service.record_measurement(session, SYSTEM, fac, kid, now=T0, **kw)


# --- service (both backends) -------------------------------------------------------------


def test_a_measurement_is_stored_with_z_scores_computed_on_read(scene, session):
    fac, _room, kid = scene
    row = _record(session, fac, kid, weight_kg="7.70", length_cm="75.7", measured_by="王医生")
    session.commit()
    assert (row.z.age_days, row.z.waz, row.assessment.wfa) == (365, -2.05, "underweight")
    assert row.measurement.position is MeasuredPosition.LYING  # WHO's way under two years
    assert row.flagged == []
    stored = session.scalars(select(GrowthMeasurement)).one()
    assert (stored.weight_kg, stored.length_cm) == (Decimal("7.70"), Decimal("75.7"))
    [listed] = growth_service.measurements(session, fac, kid)
    assert listed.z == row.z
    assert [e.action for e in audit_for(session, "growth_measurement")] == ["create"]


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"weight_kg": "45"}, "weight_impossible", "weight_kg"),
        ({"weight_kg": "0.3"}, "weight_impossible", "weight_kg"),
        ({"length_cm": "135"}, "length_impossible", "length_cm"),
        ({"length_cm": "35", "weight_kg": "9"}, "length_impossible", "length_cm"),
        ({"weight_kg": "nine"}, "invalid_number", "weight_kg"),
        ({}, "nothing_measured", "weight_kg"),
        ({"weight_kg": "9", "measured_on": date(2026, 3, 11)}, "date_in_future", "measured_on"),
        ({"weight_kg": "3", "measured_on": date(2025, 3, 9)}, "before_birth", "measured_on"),
        ({"length_cm": "75", "position": "sitting"}, "invalid_choice", "position"),
    ],
)
def test_impossible_values_are_refused_with_a_clear_reason(scene, session, fields, code, field):
    fac, _room, kid = scene
    with pytest.raises(DomainError) as refused:
        _record(session, fac, kid, **fields)
    assert (refused.value.code, refused.value.field, refused.value.status) == (code, field, 422)
    session.rollback()
    assert session.scalars(select(GrowthMeasurement)).all() == []


def test_the_message_names_the_value_and_the_limits(scene, session):
    fac, _room, kid = scene
    with pytest.raises(DomainError) as refused:
        _record(session, fac, kid, weight_kg="45")
    assert "45.00 kg" in str(refused.value) and "0.5–40 kg" in str(refused.value)


def test_children_past_the_who_standards_are_refused(session, scene):
    fac, _room, kid = scene
    kid.birth_date = date(2021, 1, 1)  # 62 months old: no class takes them, nor does WHO
    with pytest.raises(DomainError) as refused:
        _record(session, fac, kid, weight_kg="20")
    assert refused.value.code == "too_old_for_standard"


def test_implausible_values_are_stored_and_flagged(scene, session):
    fac, _room, kid = scene
    row = _record(session, fac, kid, weight_kg="4.00", length_cm="75.0")
    session.commit()
    assert row.z.waz == -6.59 and row.assessment.wfa == "flagged"
    assert "wfa" in row.flagged
    assert session.scalars(select(GrowthMeasurement)).one().weight_kg == Decimal("4.00")


def test_a_second_measurement_on_the_same_day_corrects_the_first(scene, session):
    fac, _room, kid = scene
    _record(session, fac, kid, weight_kg="7.70")
    _record(session, fac, kid, weight_kg="9.65", length_cm="75.0", position="standing")
    session.commit()
    [row] = growth_service.measurements(session, fac, kid)
    assert row.measurement.weight_kg == Decimal("9.65") and row.z.waz == 0.0
    assert row.z.length_used_cm == 75.7  # standing under two years: + 0.7 cm
    updates = audit_for(session, "growth_measurement")
    assert [e.action for e in updates] == ["create", "update"]
    assert updates[1].before["weight_kg"] == "7.70"


# --- pages and API ----------------------------------------------------------------------


def test_the_record_page_shows_z_scores_charts_and_audits_the_read(client, auth, build, session):
    s = signed_in_director(build, session, auth)
    kid = _boy(build, session, s.fac, s.room)
    _record(session, s.fac, kid, weight_kg="7.70", length_cm="75.7", measured_on=TODAY)
    _record(session, s.fac, kid, weight_kg="6.10", measured_on=date(2025, 9, 10))
    session.commit()
    response = client.get(f"/health/children/{kid.id}")
    page = text(response)
    assert response.status_code == 200
    assert 'id="section-growth"' in page and "−2.05" in page and "Underweight" in page
    assert page.count("<svg") == 2 and page.count('class="sd-line"') == 10
    assert "Weight-for-age of 李小龙 (kg)" in page and 'role="img"' in page
    assert page.count('class="child-point"') == 3  # two weights, one length
    assert "2026-03-10 · 7.70 kg · z −2.05" in page
    reads = audit_for(session, "child_health", "read")
    assert [(r.entity_id, r.after["section"]) for r in reads] == [(kid.id, "record")]


def test_the_form_saves_and_a_refusal_comes_back_with_422(client, auth, build, session):
    s = signed_in_director(build, session, auth)
    kid = _boy(build, session, s.fac, s.room)
    url = f"/health/children/{kid.id}/growth"
    refused = auth.post(url, {"measured_on": "2026-03-10", "weight_kg": "45", "note": "称重"})
    page = text(refused)
    assert refused.status_code == 422
    assert "A weight of 45.00 kg is not possible" in page
    assert 'value="45"' in page and 'value="称重"' in page and 'aria-invalid="true"' in page
    assert count(session, GrowthMeasurement) == 0
    saved = auth.post(url, {"measured_on": "2026-03-10", "weight_kg": "4.0"})
    assert saved.status_code == 303 and saved.location.endswith("#section-growth")
    assert count(session, GrowthMeasurement) == 1
    after = text(client.get(f"/health/children/{kid.id}"))
    assert "outside what WHO considers plausible" in after
    assert "Implausible value: measure again" in after


def test_the_api_records_and_lists_with_z_scores(client, auth, build, session):
    s = signed_in_director(build, session, auth)
    kid = _boy(build, session, s.fac, s.room)
    url = f"/api/v1/children/{kid.id}/growth"
    created = auth.api("POST", url, {"measured_on": "2026-03-10", "weight_kg": 7.7})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["weight_kg"] == "7.70" and body["age_days"] == 365
    assert body["z"]["wfa"] == -2.05 and body["z"]["wfa_class"] == "underweight"
    refused = auth.api("POST", url, {"measured_on": "2026-03-10", "length_cm": 200})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "length_impossible"
    assert refused.get_json()["error"]["field"] == "length_cm"
    flagged = auth.api("POST", url, {"measured_on": "2026-03-01", "weight_kg": "4.0"})
    assert flagged.get_json()["z"]["flagged"] == ["wfa"]
    listed = auth.api("GET", url).get_json()
    assert [i["measured_on"] for i in listed["items"]] == ["2026-03-01", "2026-03-10"]
    assert listed["sex"] == "male"
    reads = audit_for(session, "child_health", "read")
    assert [(r.entity_id, r.after["section"]) for r in reads] == [(kid.id, "growth")]


def test_the_regulator_sees_no_growth_data(client, auth, build, session):
    s = signed_in_director(build, session, auth)
    kid = _boy(build, session, s.fac, s.room)
    _record(session, s.fac, kid, weight_kg="7.70")
    regulator = build.user(Role.REGULATOR)
    session.commit()
    auth.logout()
    auth.login(regulator)
    url = f"/api/v1/children/{kid.id}/growth"
    assert client.get(f"/health/children/{kid.id}").status_code == 403
    listed = auth.api("GET", url)
    assert listed.status_code == 403 and "7.70" not in text(listed)
    posted = auth.api("POST", url, {"measured_on": "2026-03-10", "weight_kg": 9})
    assert posted.status_code == 403
    form = auth.post(f"/health/children/{kid.id}/growth", {"weight_kg": "9"})
    assert form.status_code == 403
    assert count(session, GrowthMeasurement) == 1
    assert audit_for(session, "child_health", "read") == []
