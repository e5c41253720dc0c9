"""Claims through the API, the pages, the exports and ``carewatch settle``."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from carewatch import cli
from carewatch.config import get_settings
from facility_app.accounts.models import Role
from facility_app.attendance.models import AttendanceRecord
from facility_app.settlement.models import Settlement
from tests.conftest import T0, AuthActions
from tests.integration.test_api_support import ApiClient, error_code, row_counts
from tests.integration.test_settlement_support import (
    FEB,
    FEB_DAYS,
    attend,
    child,
    correct_to_absent,
    facility,
)


@pytest.fixture
def feb(build, session):  # type: ignore[no-untyped-def]
    """Two children in February (15 and 20 days: 525 + 700) and a user per role."""
    fac = facility(build)
    room = build.room(fac, name="小一班")
    a = child(build, fac, room)
    b = child(build, fac, room)
    attend(session, fac, a, FEB_DAYS[:14])
    attend(session, fac, a, FEB_DAYS[14:15], checkout=False)
    attend(session, fac, b, FEB_DAYS)
    users = {role: build.user(role) for role in (Role.DIRECTOR, Role.REGULATOR)}
    session.commit()
    return fac, a, b, users


def _first_record(session, kid) -> AttendanceRecord:  # type: ignore[no-untyped-def]
    return session.scalars(
        select(AttendanceRecord)
        .where(AttendanceRecord.child_id == kid.id)
        .order_by(AttendanceRecord.day)
    ).first()


def _client(app, user) -> ApiClient:  # type: ignore[no-untyped-def]
    api = ApiClient(app.test_client())
    assert api.login(user).status_code == 200
    return api


def test_api_claim_settle_and_refusals(app, session, feb):
    _fac, a, _b, users = feb
    director = _client(app, users[Role.DIRECTOR])
    draft = director.get(f"/settlements?month={FEB}").get_json()
    assert (draft["settled"], draft["total"], draft["children"]) == (False, "1225.00", 2)
    assert draft["classes"][0]["class_name"] == "小一班"
    line = next(x for x in draft["lines"] if x["child_id"] == a.id)
    assert line["name"] == a.name and line["flags"] == ["missing_checkout:2026-02-20"]
    assert director.get("/settlements").get_json()["month"] == FEB  # the last ended month

    before = row_counts(session)
    for body, status, code in [
        ({"month": "2026-03"}, 422, "month_not_ended"),
        ({"month": "2026-04"}, 422, "month_in_future"),
        ({"month": "2026-13"}, 422, "invalid_month"),
        ({"month": "February"}, 422, "invalid_input"),
        ({"month": 202602}, 422, "invalid_input"),
    ]:
        response = director.post("/settlements", body)
        assert (response.status_code, error_code(response)) == (status, code), body
    assert director.get("/settlements?month=2026-04").status_code == 422
    assert row_counts(session) == before

    settled = director.post("/settlements", {"month": FEB})
    assert settled.status_code == 201, settled.get_json()
    assert settled.get_json()["settled"] is True and settled.get_json()["total"] == "1225.00"
    again = director.post("/settlements", {"month": FEB})
    assert (again.status_code, error_code(again)) == (409, "already_settled")

    drill = director.get(f"/settlements/children/{a.id}?month={FEB}").get_json()
    assert drill["settled"] is True and len(drill["days"]) == 20
    assert sum(Decimal(d["weight"]) for d in drill["days"]) == 15

    body = director.get(f"/settlements/report-body?month={FEB}").get_json()
    assert body["total"] == "1225.00" and a.name not in json.dumps(body, ensure_ascii=False)

    forecast = director.get("/settlements/forecast").get_json()
    assert forecast["month"] == "2026-03" and forecast["lines"][0]["days_attended"] == 0


def test_the_regulator_reads_claims_without_names(app, feb):
    _fac, a, _b, users = feb
    regulator = _client(app, users[Role.REGULATOR])
    claim = regulator.get(f"/settlements?month={FEB}").get_json()
    assert {x["name"] for x in claim["lines"]} == {""}
    page = regulator.call("GET", f"/finance/?month={FEB}").get_data(as_text=True)
    assert a.pseudonym in page and a.name not in page
    csv_body = regulator.call("GET", f"/finance/export?month={FEB}&format=csv").get_data()
    assert a.name.encode() not in csv_body
    refused = regulator.post("/settlements", {"month": FEB})
    assert (refused.status_code, error_code(refused)) == (403, "forbidden")


def test_subsidy_policy_versions_through_the_api(app, session, feb):
    fac, *_rest, users = feb
    director = _client(app, users[Role.DIRECTOR])
    key = fac.policy_profile.key
    made = director.post(
        "/subsidy-policies",
        {
            "profile": key,
            "effective_from": "2026-03-01",
            "rule": {"grade_rates": {"level2": "800"}},
        },
    )
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["rule"]["grade_rates"]["level3"] == "500"  # merged over the default
    before = row_counts(session)
    for body, status, code in [
        ({"profile": "atlantis", "effective_from": "2026-03-01"}, 404, "unknown_profile"),
        ({"profile": key, "effective_from": "2026-03-01", "effective_to": "2026-05-31"}, 409,
         "overlapping_policy_version"),
        ({"profile": key, "effective_from": "2026-03-02"}, 422, "not_month_start"),
    ]:  # fmt: skip
        response = director.post("/subsidy-policies", body)
        assert (response.status_code, error_code(response)) == (status, code), body
    assert row_counts(session) == before
    items = director.get("/subsidy-policies").get_json()["items"]
    assert [i["effective_from"] for i in items] == ["2026-03-01"]


def test_pages_settle_export_and_drill_down(app, client, auth, session, feb):
    fac, a, _b, users = feb
    auth.login(users[Role.DIRECTOR])
    page = client.get(f"/finance/?month={FEB}").get_data(as_text=True)
    assert "Draft, not settled" in page and "Settle and lock 2026-02" in page
    assert "1225.00" in page and a.name in page
    assert "1 children have a check-in without a check-out" in page
    done = auth.post("/finance/settle", {"month": FEB}, follow_redirects=True)
    assert "2026-02 settled: 1225.00 yuan." in done.get_data(as_text=True)
    session.commit()
    assert session.query(Settlement).count() == 1

    csv_body = client.get(f"/finance/export?month={FEB}&format=csv")
    assert (
        csv_body.headers["Content-Disposition"] == 'attachment; filename="settlement-2026-02.csv"'
    )
    raw = csv_body.get_data()
    assert raw.startswith(b"\xef\xbb\xbf") and a.name in raw.decode("utf-8-sig")
    assert "机构合计 facility total" in raw.decode("utf-8-sig")

    xlsx = client.get(f"/finance/export?month={FEB}&format=xlsx").get_data()
    sheet = load_workbook(io.BytesIO(xlsx)).active
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert values[1][0] == "类型 Kind" and values[-1][-3] == 1225.0

    printable = client.get(f"/finance/export?month={FEB}&format=html").get_data(as_text=True)
    assert fac.name in printable and "机构负责人签字" in printable and "REG-1" in printable

    drill = client.get(f"/finance/child/{a.id}?month={FEB}").get_data(as_text=True)
    assert drill.count("<tr") == 21 and "No check-out" in drill
    assert client.get("/finance/forecast").status_code == 200
    # A correction of the settled February shows on March's draft and drills down.
    correct_to_absent(session, _first_record(session, a), "补录", T0)
    session.commit()
    march = client.get("/finance/?month=2026-03").get_data(as_text=True)
    assert "Adjustments of settled months" in march and "补录" in march and "-35.00" in march
    drill_march = client.get(f"/finance/child/{a.id}?month=2026-03").get_data(as_text=True)
    assert "Adjustment of 2026-02: -35.00 yuan. Reason: 补录" in drill_march
    # March's 22 enrolled service days, then the 20 February rows behind the adjustment.
    assert drill_march.count("<tr") == 1 + 22 + 1 + 20
    bad = client.get("/finance/?month=2026-04", follow_redirects=True).get_data(as_text=True)
    assert "2026-04 is in the future." in bad
    assert client.get(f"/finance/export?month={FEB}&format=pdf").status_code == 303


def test_cli_settles_prints_and_exports(feb, db_url, monkeypatch, tmp_path):
    _fac, a, _b, _users = feb
    monkeypatch.setenv("CAREWATCH_DATABASE_URL", db_url)
    monkeypatch.setenv("CAREWATCH_DATA_DIR", str(tmp_path / "var"))

    def run(*args: str):  # type: ignore[no-untyped-def]
        get_settings.cache_clear()
        return CliRunner().invoke(cli.cli, ["settle", *args], catch_exceptions=False)

    now = ["--now", "2026-03-10T09:00+08:00"]
    early = run("--month", "2026-03", *now)
    assert early.exit_code == 1 and "2026-03 has not ended yet" in early.output
    dry = run("--month", FEB, "--dry-run", *now)
    assert dry.exit_code == 0 and "draft, not settled" in dry.output
    out = tmp_path / "feb.xlsx"
    done = run("--month", FEB, "--export", "xlsx", "--out", str(out), *now)
    assert done.exit_code == 0, done.output
    assert "2026-02 settled and locked" in done.output and "total 1225.00 yuan" in done.output
    assert "warning: 1 children have a check-in without a check-out" in done.output
    # Title, headings, two lines, the class, the adjustments and the facility total.
    assert load_workbook(out).active.max_row == 7
    shown = run("--month", FEB, "--json", *now)
    body = json.loads(shown.output)
    assert body["settled"] is True and body["total"] == "1225.00"
    assert a.pseudonym in shown.output and a.name not in shown.output
    get_settings.cache_clear()


def test_the_claim_page_in_chinese(app, session, feb):
    *_rest, users = feb
    client = app.test_client()
    AuthActions(client, language=None).login(users[Role.DIRECTOR])
    page = client.get(f"/finance/?month={FEB}").get_data(as_text=True)
    assert "补贴结算" in page and "草稿，未结算" in page and "按等级" in page
    assert "有 1 名幼儿有入园未离园记录" in page
    future = client.get("/finance/?month=2026-05", follow_redirects=True).get_data(as_text=True)
    assert "2026-05 是将来的月份。" in future
