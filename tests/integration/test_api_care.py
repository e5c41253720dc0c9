"""The care log through the JSON API: entries, naps, checks, outdoor time, a child's day."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from facility_app.accounts.models import Role
from facility_app.care.models import Nap, SleepCheckLapse
from tests.integration.test_api_support import (
    ApiClient,
    error_code,
)


@pytest.fixture
def carer(client, world) -> ApiClient:  # type: ignore[no-untyped-def]
    api = ApiClient(client)
    assert api.login(world.caregiver).status_code == 200
    a = world.child_a
    r = api.post("/attendance/check-in", {"child_id": a.id, "dropped_off_by_id": a.guardians[0].id})
    assert r.status_code == 201
    return api


def test_entry_nap_checks_and_day(carer, world, clock):
    a = world.child_a
    r = carer.post("/care/entries", {"child_id": a.id, "kind": "bottle", "amount_ml": 180})
    assert r.status_code == 201 and r.get_json()["amount_ml"] == 180
    nap = carer.post("/care/naps", {"child_id": a.id}).get_json()
    clock.advance(timedelta(minutes=15))
    room = carer.get(f"/care/classes/{world.room_a.id}/room").get_json()
    assert room["overdue"] is False and room["next_check_due"].startswith("2026-03-10T09:15")
    clock.advance(timedelta(seconds=1))
    assert carer.get(f"/care/classes/{world.room_a.id}/room").get_json()["overdue"] is True
    r = carer.post(
        "/care/sleep-checks",
        {
            "observations": [
                {"nap_id": nap["id"], "state": "breathing_normally", "position": "back"}
            ]
        },
    )
    assert r.status_code == 201
    clock.advance(timedelta(minutes=10))
    r = carer.post(f"/care/naps/{nap['id']}/end", {})
    assert r.status_code == 200 and r.get_json()["ended_at"] is not None
    day = carer.get(f"/care/children/{a.id}/day").get_json()
    # The check came one second after 09:15, when it fell due: a late check.
    kinds = [i["kind"] for i in day["items"]]
    assert kinds == ["arrival", "bottle", "nap", "sleep_check_late", "sleep_check"]


def test_bad_inputs(carer, world, clock):
    a, b = world.child_a, world.child_b
    cases = [
        ({"child_id": a.id, "kind": "bottle", "amount_ml": 2000}, 422, "amount_too_large"),
        ({"child_id": a.id, "kind": "water", "at": "2026-03-10T09:05:00+08:00"}, 422, "in_future"),
        ({"child_id": b.id, "kind": "water"}, 404, "child_not_found"),
    ]
    for body, status, code in cases:
        r = carer.post("/care/entries", body)
        assert (r.status_code, error_code(r)) == (status, code), body
    nap = carer.post("/care/naps", {"child_id": a.id}).get_json()
    r = carer.post(
        f"/care/naps/{nap['id']}/end", {"at": "2026-03-10T08:50:00+08:00", "reason": "x"}
    )
    assert (r.status_code, error_code(r)) == (422, "nap_end_before_start")
    r = carer.post("/care/outdoor/start", {"class_id": world.room_b.id})
    assert (r.status_code, error_code(r)) == (403, "class_not_assigned")


def test_director_sees_but_regulator_cannot(client, world):
    api = ApiClient(client)
    api.login(world.users[Role.REGULATOR])
    r = api.get(f"/care/classes/{world.room_a.id}/room")
    assert r.status_code == 403


def test_check_out_ends_an_open_nap_at_departure(carer, world, clock, session):
    a = world.child_a
    assert carer.post("/care/naps", {"child_id": a.id}).status_code == 201
    clock.advance(timedelta(minutes=20))  # no check at 09:15: missed by the pick-up at 09:20
    out = carer.post(
        "/attendance/check-out", {"child_id": a.id, "picked_up_by_id": a.guardians[0].id}
    )
    assert out.status_code == 200
    session.rollback()
    nap = session.scalar(select(Nap).where(Nap.child_id == a.id))
    assert nap.ended_at == clock.now()
    lapse = session.scalar(select(SleepCheckLapse))
    assert lapse is not None and lapse.missed
