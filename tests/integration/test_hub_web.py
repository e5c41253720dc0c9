"""The regulator's web view and JSON feed over a hub database filled through ``ingest``."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from carewatch.clock import FixedClock
from carewatch.db import transaction
from carewatch.reports import Kind
from supervision_hub.ingest import ingest
from supervision_hub.web import create_hub_app
from tests.integration.test_hub_support import *  # noqa: F403 - the hub fixtures
from tests.integration.test_hub_support import Site, later

A = Site("F310101-0001")  # online, failing, an open alert, a gap
B = Site("F310101-0002")  # went offline at 09:05 Shanghai time
C = Site("F310101-0003")  # registered, never heard from


def feed(factory: sessionmaker[Session], topic: str, payload: bytes, seconds: float) -> None:
    with transaction(factory) as session:
        ingest(session, topic, payload, later(seconds))


@pytest.fixture
def app(hub_factory: sessionmaker[Session]) -> Flask:
    A.register(hub_factory, name="阳光托育")
    B.register(hub_factory, name="彩虹托育")
    C.register(hub_factory)
    feed(hub_factory, A.topic("state"), A.state("online", 3, made_at=later(-600)), -599)
    feed(hub_factory, A.topic("compliance"), A.report(1, Kind.COMPLIANCE, {"overall": "pass"}), 10)
    alert = {
        "rule": "class.ratio",
        "from": "pass",
        "to": "fail",
        "at": "2026-03-10T01:01:00.000Z",
        "message": "托大班 师幼比 1:9",
    }
    feed(hub_factory, A.topic("alerts"), A.report(2, Kind.ALERTS, alert), 60)
    feed(
        hub_factory,
        A.topic("compliance"),
        A.report(5, Kind.COMPLIANCE, {"overall": "fail"}, made_at=later(120)),
        121,
    )
    feed(hub_factory, A.topic("daily"), b"{broken", 130)
    feed(hub_factory, B.topic("state"), B.state("online", 1, made_at=later(-3600)), -3600)
    feed(hub_factory, B.topic("daily"), B.report(1), 100)
    feed(hub_factory, B.topic("state"), B.state("offline", 1), 300)
    feed(hub_factory, "carewatch/v1/F999/daily", Site("F999").report(1), 200)
    return create_hub_app(factory=hub_factory, clock=FixedClock(later(900)))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _row(page: str, code: str) -> str:
    match = re.search(rf'<tr id="f-{code}">(.*?)</tr>', page, re.S)
    assert match, f"no row for {code}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1)))


def test_the_overview_lists_status_connection_and_counts(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<meta name="viewport"' in page and "机构总览" in page
    a = _row(page, A.code)
    # Latest snapshot (fail), online since its birth at 08:50, last report at 09:02.
    assert "阳光托育" in a and "不合规" in a
    assert "在线 自 2026-03-10 08:50" in a
    assert "2026-03-10 09:02" in a
    # One open alert; one open gap (5 came after 2: 3 and 4 missing); one rejection.
    assert re.search(r"09:02 12 分钟前 1 1（2） 1 $", a), a
    b = _row(page, B.code)
    assert "离线 自 2026-03-10 09:05" in b and "尚无快照" in b
    c = _row(page, C.code)
    assert "未上线" in c and "—" in c
    # Rejections, including one for a facility nobody registered.
    assert "F999" in page and "未登记机构" in page and "格式错误" in page


def test_the_facility_page_shows_its_history(client: FlaskClient) -> None:
    page = client.get(f"/facilities/{A.code}").get_data(as_text=True)
    assert "阳光托育" in page
    assert "托大班 师幼比 1:9" in page and "未处理" in page
    assert "3–4" in page and "未补齐" in page  # the gap
    assert "合规快照" in page and "告警" in page
    assert "格式错误" in page
    assert "2026-03-10 09:01" in page  # the alert's time, in Shanghai time


def test_the_json_feed_carries_the_same(client: FlaskClient) -> None:
    data = client.get("/api/v1/facilities").get_json()
    assert data["generated_at"] == "2026-03-10T01:15:00Z"
    assert data["totals"] == {
        "facilities": 3,
        "online": 1,
        "offline": 1,
        "failing": 1,
        "open_alerts": 1,
        "open_gaps": 1,
        "rejections_without_facility": 0,
    }
    rows = {f["code"]: f for f in data["facilities"]}
    a, b, c = rows[A.code], rows[B.code], rows[C.code]
    assert (a["overall"], a["state"], a["status_since"]) == (
        "fail",
        "online",
        "2026-03-10T00:50:00Z",
    )
    assert (a["open_alerts"], a["open_gaps"], a["missing"], a["rejections"], a["reports"]) == (
        1,
        1,
        2,
        1,
        3,
    )
    assert (b["state"], b["status_since"], b["last_report_at"]) == (
        "offline",
        "2026-03-10T01:05:00Z",
        "2026-03-10T01:01:40Z",
    )
    assert (c["state"], c["overall"], c["last_report_at"]) == ("unknown", None, None)
    detail = client.get(f"/api/v1/facilities/{A.code}").get_json()
    assert [r["seq"] for r in detail["reports"]] == [5, 2, 1]
    assert detail["alerts"][0]["message"] == "托大班 师幼比 1:9" and detail["alerts"][0]["open"]
    assert detail["gaps"] == [
        {
            "first_seq": 3,
            "last_seq": 4,
            "missing": 2,
            "detected_at": "2026-03-10T01:02:01Z",
            "closed_at": None,
        }
    ]
    assert [x["code"] for x in detail["rejections"]] == ["malformed"]
    rejections = client.get("/api/v1/rejections").get_json()["rejections"]
    assert {(x["facility"], x["code"]) for x in rejections} == {
        ("F999", "unknown_facility"),
        (A.code, "malformed"),
    }


def test_unknown_facilities_are_404_and_the_view_is_read_only(client: FlaskClient) -> None:
    assert client.get("/facilities/nope").status_code == 404
    assert client.get("/api/v1/facilities/nope").get_json()["error"] == "not_found"
    assert client.post("/api/v1/facilities").status_code == 405
    assert client.post("/").status_code == 405
    assert client.get("/healthz").get_json() == {"ok": True}


def test_an_empty_hub_says_how_to_register(hub_factory: sessionmaker[Session]) -> None:
    client = create_hub_app(factory=hub_factory).test_client()
    page = client.get("/").get_data(as_text=True)
    assert "尚未登记任何机构" in page and "carewatch hub register" in page
    assert client.get("/api/v1/facilities").get_json()["facilities"] == []
