"""The fee schedule of a 普惠 facility within its caps: service, API and page."""

from __future__ import annotations

from decimal import Decimal

import pytest

from carewatch.errors import DomainError
from carewatch.policy import ClassType
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.children.models import CareType
from facility_app.facility.models import Ownership
from facility_app.fees import service as fees
from facility_app.fees.models import FeeItem
from tests.conftest import T0
from tests.integration.test_api_support import ApiClient, error_code, row_counts

INCOME = {"fees": {"per_capita_disposable_income": "60000", "income_year": 2025}}


def _set(session, fac, class_type, care_type, amount, months=1):  # type: ignore[no-untyped-def]
    return fees.set_fee(
        session, SYSTEM, fac, now=T0, class_type=class_type, care_type=care_type,
        amount=amount, billing_months=months,
    )  # fmt: skip


def test_full_day_fees_at_the_cap_pass_and_one_yuan_above_is_refused(build, session):
    fac = build.facility(overrides=INCOME)
    for class_type, cap in [("older", "2250"), ("toddler", "2600"), ("infant", "3000")]:
        assert _set(session, fac, class_type, "full_day", cap).amount == Decimal(cap)
        with pytest.raises(DomainError) as err:
            _set(session, fac, class_type, "full_day", str(int(cap) + 1))
        assert err.value.code == "full_day_over_cap"
        assert err.value.params["cap"] == f"{cap}.00" and err.value.params["income"] == "60000"


def test_state_or_collective_assets_have_lower_caps(build, session):
    fac = build.facility(overrides=INCOME)
    fac.ownership = Ownership.STATE_COLLECTIVE
    _set(session, fac, "older", "full_day", "2000")
    with pytest.raises(DomainError) as err:
        _set(session, fac, "older", "full_day", "2001")
    assert "40%" in str(err.value)


def test_dependent_fees_follow_the_full_day_fee(build, session):
    fac = build.facility(overrides=INCOME)
    _set(session, fac, "toddler", "full_day", "2175")
    _set(session, fac, "toddler", "half_day", "1522.50")  # exactly 70 %
    _set(session, fac, "toddler", "hourly", "30")  # 2175 ÷ 21.75 × 30 %
    _set(session, fac, "toddler", "temporary", "100")
    for care, amount, code in [
        ("half_day", "1523.50", "half_day_over_cap"),
        ("hourly", "31", "hourly_over_cap"),
        ("temporary", "101", "temporary_over_cap"),
    ]:
        with pytest.raises(DomainError) as err:
            _set(session, fac, "toddler", care, amount)
        assert err.value.code == code
    # Lowering the full-day fee would push the half-day fee over its cap: refused.
    with pytest.raises(DomainError) as err:
        _set(session, fac, "toddler", "full_day", "2000")
    assert err.value.code == "half_day_over_cap" and err.value.params["full"] == "2000.00"
    assert fees.fee_items(session, fac)[("toddler", "full_day")].amount == Decimal("2175.00")


def test_fees_left_over_a_lowered_cap_are_found(build, session):
    fac = build.facility(overrides=INCOME)
    _set(session, fac, "older", "full_day", "2250")
    _set(session, fac, "older", "half_day", "1575")
    assert fees.over_cap(session, fac) == []
    fac.policy_profile.overrides = {"fees": {"per_capita_disposable_income": "48000"}}
    [row] = fees.over_cap(session, fac)  # 45 % of 4 000 = 1 800; the half-day follows 2 250
    assert (row.care_type, row.item.amount, row.cap.limit) == (
        CareType.FULL_DAY, Decimal("2250.00"), Decimal("1800.00"),
    )  # fmt: skip


def test_no_charge_for_more_than_three_months(build, session):
    fac = build.facility(overrides=INCOME)
    assert _set(session, fac, "older", "full_day", "2000", months=3).billing_months == 3
    for months, care in [(4, "full_day"), (0, "full_day"), (2, "hourly")]:
        with pytest.raises(DomainError):
            _set(session, fac, "older", care, "10", months=months)


def test_a_facility_that_is_not_puhui_has_no_caps(build, session):
    fac = build.facility(overrides=INCOME, puhui_certified=False)
    assert _set(session, fac, "older", "full_day", "8000").amount == Decimal(8000)
    rows = fees.schedule(session, SYSTEM, fac)
    assert all(r.cap is None for r in rows) and len(rows) == len(ClassType) * len(CareType)


@pytest.fixture
def api(build, session, client):  # type: ignore[no-untyped-def]
    """A director signed in to a 普惠 facility whose profile gives the income figure."""
    build.facility(overrides=INCOME)
    user = build.user(Role.DIRECTOR)
    session.commit()
    out = ApiClient(client)
    assert out.login(user).status_code == 200
    return out


def test_api_sets_fees_and_refuses_bad_ones_writing_nothing(api, session):
    ok = api.post("/fees", {"class_type": "older", "care_type": "full_day", "amount": "2250.00"})
    assert ok.status_code == 200, ok.get_json()
    item = next(
        i
        for i in ok.get_json()["items"]
        if i["class_type"] == "older" and i["care_type"] == "full_day"
    )
    assert (item["amount"], item["cap"]) == ("2250.00", "2250.00")
    assert item["cap_basis"]["share"] == "45"
    before = row_counts(session)
    older = {"class_type": "older", "care_type": "full_day"}
    for body, status, code in [
        ({**older, "amount": 2251}, 422, "full_day_over_cap"),
        ({**older, "amount": "two thousand"}, 422, "invalid_amount"),
        ({**older, "amount": "-1"}, 422, "negative_amount"),
        ({**older, "amount": -1}, 422, "negative_amount"),
        ({**older, "care_type": "nightly", "amount": "1"}, 422, "invalid_input"),
        ({**older, "amount": "1", "billing_months": 6}, 422, "charge_too_long"),
    ]:  # fmt: skip
        response = api.post("/fees", body)
        assert (response.status_code, error_code(response)) == (status, code), body
    refused = api.post("/fees", {"class_type": "older", "care_type": "full_day", "amount": 2251})
    message = refused.get_json()["error"]["message"]
    assert "2250.00" in message and "60000" in message and "45%" in message
    assert row_counts(session) == before


def test_fee_page_shows_caps_and_refuses_a_fee_over_the_cap(build, session, client, auth):
    build.facility(overrides=INCOME)
    user = build.user(Role.DIRECTOR)
    session.commit()
    auth.login(user)
    page = client.get("/finance/fees")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-fee="older-full_day"' in text and "2250.00" in text
    form = {"class_type": "older", "care_type": "full_day", "amount": "2251", "billing_months": "1"}
    refused = auth.post("/finance/fees", form, follow_redirects=True)
    assert "over the cap of 2250.00 yuan" in refused.get_data(as_text=True)
    assert session.query(FeeItem).count() == 0
    session.commit()  # end the read transaction, so the app's commit is visible
    saved = auth.post("/finance/fees", {**form, "amount": "2250"}, follow_redirects=True)
    assert "Fee saved." in saved.get_data(as_text=True)
    session.commit()
    assert session.query(FeeItem).one().amount_fen == 225000
