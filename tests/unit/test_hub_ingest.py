"""The hub's ingest rules, one message at a time, on both database backends."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from carewatch.db import transaction
from carewatch.reports import MAX_PAYLOAD_BYTES, Kind, Report, canonical_bytes, sign
from supervision_hub.ingest import Outcome, ingest
from supervision_hub.models import HubAlert, HubFacility, HubGap, HubRejection, HubReport
from tests.integration.test_hub_support import *  # noqa: F403 - the hub fixtures
from tests.integration.test_hub_support import (
    NOW,
    Site,
    later,
    stored_count,
)

A = Site("F310101-0001")
B = Site("F310101-0002")
STRANGER = Site("F999")


@pytest.fixture
def hub(hub_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """A hub database with A and B registered (STRANGER is not)."""
    A.register(hub_factory, name="阳光托育")
    B.register(hub_factory)
    return hub_factory


def feed(factory: sessionmaker[Session], topic: str, payload: bytes, seconds: float = 0) -> Outcome:
    """Ingest one message in its own transaction."""
    with transaction(factory) as session:
        return ingest(session, topic, payload, later(seconds))


def facility(factory: sessionmaker[Session], code: str = A.code) -> HubFacility:
    with transaction(factory, write=False) as session:
        row = session.get(HubFacility, code)
        assert row is not None
        return row


def rows(factory: sessionmaker[Session], model: type) -> list:
    with transaction(factory, write=False) as session:
        return list(session.scalars(select(model).order_by(model.id)))


def test_a_signed_report_is_stored_once_and_a_duplicate_is_counted(hub) -> None:
    payload = A.report(1, Kind.DAILY, {"present": 41})
    first = feed(hub, A.topic(Kind.DAILY), payload, 5)
    again = feed(hub, A.topic(Kind.DAILY), payload, 9)
    assert first == Outcome("stored", facility=A.code, seq=1)
    assert again == Outcome("duplicate", facility=A.code, seq=1)
    [report] = rows(hub, HubReport)
    assert (report.facility, report.seq, report.kind, report.body) == (
        A.code,
        1,
        "daily",
        {"present": 41},
    )
    assert report.made_at == NOW and report.received_at == later(5)
    row = facility(hub)
    assert (row.reports, row.duplicates, row.highest_seq) == (1, 1, 1)
    assert row.last_report_at == later(5) and row.last_seen == later(9)
    assert rows(hub, HubRejection) == []


def _unsigned() -> bytes:
    report = Report(A.code, Kind.DAILY, {"n": 1}, NOW, seq=1)
    return canonical_bytes(report.unsigned())


def _forged() -> bytes:
    impostor = Site(A.code)  # same code, another key
    return impostor.report(1)


def _tampered() -> bytes:
    payload = A.report(1, Kind.DAILY, {"present": 41})
    return payload.replace(b'"present":41', b'"present":14')


def _bad_schema() -> bytes:
    report = Report(A.code, Kind.DAILY, {"n": 1}, NOW, seq=1, schema=2)
    return sign(report, A.key)


def _oversized() -> bytes:
    return A.report(1, Kind.DAILY, {"pad": "x" * MAX_PAYLOAD_BYTES})


def _bad_base64() -> bytes:
    data = Report(A.code, Kind.DAILY, {"n": 1}, NOW, seq=1).unsigned()
    data["sig"] = "not base64!"
    return canonical_bytes(data)


def _with_body(raw: bytes) -> bytes:
    """A well-signed-looking envelope whose body is ``raw`` JSON text."""
    good = A.report(1, Kind.DAILY, {"n": 1})
    return good.replace(b'"body":{"n":1}', b'"body":' + raw)


CASES: list[tuple[str, Callable[[], tuple[str, bytes]], str, str | None]] = [
    ("unsigned", lambda: (A.topic("daily"), _unsigned()), "unsigned", A.code),
    ("forged key", lambda: (A.topic("daily"), _forged()), "bad_signature", A.code),
    ("tampered body", lambda: (A.topic("daily"), _tampered()), "bad_signature", A.code),
    ("signature not base64", lambda: (A.topic("daily"), _bad_base64()), "bad_signature", A.code),
    ("malformed json", lambda: (A.topic("daily"), b'{"schema": 1, "facil'), "malformed", A.code),
    ("not an object", lambda: (A.topic("daily"), b"[1, 2]"), "malformed", A.code),
    ("not utf-8", lambda: (A.topic("daily"), b"\xff\xfe{}"), "malformed", A.code),
    (
        "NUL in body",
        lambda: (A.topic("daily"), A.report(1, body={"x": "a\x00b"})),
        "malformed",
        A.code,
    ),
    (
        "lone surrogate",
        lambda: (A.topic("daily"), _with_body(b'{"x":"\\ud800"}')),
        "malformed",
        A.code,
    ),
    ("NaN", lambda: (A.topic("daily"), _with_body(b'{"x":NaN}')), "malformed", A.code),
    (
        "huge integer",
        lambda: (A.topic("daily"), _with_body(b'{"x":' + b"9" * 5000 + b"}")),
        "malformed",
        A.code,
    ),
    (
        "nested deep",
        lambda: (A.topic("daily"), _with_body(b'{"x":' + b"[" * 100 + b"]" * 100 + b"}")),
        "bad_signature",
        A.code,
    ),
    (
        "nested very deep",
        lambda: (A.topic("daily"), _with_body(b"[" * 100_000)),
        "malformed",
        A.code,
    ),
    ("wrong schema version", lambda: (A.topic("daily"), _bad_schema()), "bad_schema", A.code),
    ("oversized", lambda: (A.topic("daily"), _oversized()), "oversized", A.code),
    (
        "unknown kind topic",
        lambda: (f"carewatch/v1/{A.code}/bogus", A.report(1)),
        "bad_topic",
        A.code,
    ),
    ("outside the prefix", lambda: (f"elsewhere/{A.code}/daily", A.report(1)), "bad_topic", None),
    (
        "too deep a topic",
        lambda: (f"carewatch/v1/x/{A.code}/daily", A.report(1)),
        "bad_topic",
        None,
    ),
    ("kind differs from topic", lambda: (A.topic("compliance"), A.report(1)), "bad_topic", A.code),
    (
        "another facility's prefix",
        lambda: (A.topic("daily"), B.report(1)),
        "facility_mismatch",
        A.code,
    ),
    (
        "unknown facility",
        lambda: (STRANGER.topic("daily"), STRANGER.report(1)),
        "unknown_facility",
        STRANGER.code,
    ),
]


@pytest.mark.parametrize(
    ("make", "code", "named"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_every_refused_message_is_recorded_with_its_code(
    hub, make: Callable[[], tuple[str, bytes]], code: str, named: str | None
) -> None:
    topic, payload = make()
    outcome = feed(hub, topic, payload)
    assert (outcome.status, outcome.code) == ("rejected", code)
    [rejection] = rows(hub, HubRejection)
    assert (rejection.code, rejection.facility, rejection.topic) == (code, named, topic)
    assert rejection.size == len(payload) and len(rejection.sha256) == 64
    assert rejection.at == NOW
    assert stored_count(hub) == 0
    assert facility(hub).reports == 0


def test_a_reused_sequence_number_with_other_content_is_a_replay(hub) -> None:
    assert feed(hub, A.topic("daily"), A.report(7, body={"present": 40})).status == "stored"
    replay = feed(hub, A.topic("daily"), A.report(7, body={"present": 0}))
    assert (replay.status, replay.code) == ("rejected", "replayed")
    [report] = rows(hub, HubReport)
    assert report.body == {"present": 40}
    assert facility(hub).duplicates == 0


def test_gaps_are_detected_and_closed_by_late_reports(hub) -> None:
    for seq in (1, 2, 6):
        feed(hub, A.topic("daily"), A.report(seq), seq)
    [gap] = rows(hub, HubGap)
    assert (gap.first_seq, gap.last_seq, gap.missing, gap.detected_at, gap.closed_at) == (
        3,
        5,
        3,
        later(6),
        None,
    )
    feed(hub, A.topic("daily"), A.report(4, historical=True), 10)
    feed(hub, A.topic("daily"), A.report(3, historical=True), 11)
    [gap] = rows(hub, HubGap)
    assert (gap.missing, gap.closed_at) == (1, None)
    feed(hub, A.topic("daily"), A.report(5, historical=True), 12)
    [gap] = rows(hub, HubGap)
    assert (gap.missing, gap.closed_at) == (0, later(12))
    assert facility(hub).highest_seq == 6
    assert stored_count(hub) == 6


def test_a_facility_first_heard_of_mid_sequence_has_a_gap_from_one(hub) -> None:
    feed(hub, A.topic("daily"), A.report(4))
    [gap] = rows(hub, HubGap)
    assert (gap.first_seq, gap.last_seq, gap.missing) == (1, 3, 3)


def test_births_and_wills_set_online_and_an_older_session_is_ignored(hub) -> None:
    birth = feed(hub, A.topic("state"), A.state("online", 2, made_at=later(-30)), 1)
    assert birth == Outcome("state", facility=A.code, detail="online")
    row = facility(hub)
    assert (row.online, row.status_since, row.last_bdseq, row.backlog) == (True, later(-30), 2, 0)
    # The retained birth again (a resubscribe): nothing changes.
    assert feed(hub, A.topic("state"), A.state("online", 2, made_at=later(-30)), 2).status == (
        "duplicate"
    )
    # A late Will of session 1 must not take the facility offline.
    stale = feed(hub, A.topic("state"), A.state("offline", 1), 3)
    assert (stale.status, stale.code) == ("rejected", "stale_state")
    assert facility(hub).online is True
    # The Will of the current session: offline since it arrived (its made_at is its connect).
    assert feed(hub, A.topic("state"), A.state("offline", 2, made_at=NOW), 60).status == "state"
    row = facility(hub)
    assert (row.online, row.status_since) == (False, later(60))
    # Its birth, redelivered after the death, does not bring it back.
    late_birth = feed(hub, A.topic("state"), A.state("online", 2), 61)
    assert late_birth.code == "stale_state"
    assert facility(hub).online is False
    # A new session does.
    feed(hub, A.topic("state"), A.state("online", 3, made_at=later(90)), 91)
    row = facility(hub)
    assert (row.online, row.status_since, row.last_bdseq) == (True, later(90), 3)
    assert [r.code for r in rows(hub, HubRejection)] == ["stale_state", "stale_state"]


def test_a_state_that_is_neither_online_nor_offline_is_malformed(hub) -> None:
    payload = sign(Report(A.code, Kind.STATE, {"status": "asleep"}, NOW, bdseq=1), A.key)
    assert feed(hub, A.topic("state"), payload).code == "malformed"
    assert facility(hub).last_bdseq is None


def test_the_latest_compliance_is_the_highest_sequence_not_the_last_arrival(hub) -> None:
    feed(
        hub,
        A.topic("compliance"),
        A.report(3, Kind.COMPLIANCE, {"overall": "fail"}, made_at=later(300)),
    )
    feed(
        hub,
        A.topic("compliance"),
        A.report(2, Kind.COMPLIANCE, {"overall": "pass"}, made_at=later(200), historical=True),
    )
    row = facility(hub)
    assert (row.compliance_seq, row.compliance_overall, row.compliance_made_at) == (
        3,
        "fail",
        later(300),
    )
    feed(hub, A.topic("compliance"), A.report(4, Kind.COMPLIANCE, {"overall": "sideways"}))
    assert facility(hub).compliance_overall == "unknown"


def _alert(seq: int, rule: str, frm: str, to: str) -> bytes:
    body = {
        "rule": rule,
        "from": frm,
        "to": to,
        "at": "2026-03-10T01:00:00.000Z",
        "message": f"{rule} {frm}→{to}",
    }
    return A.report(seq, Kind.ALERTS, body)


def test_an_alert_is_open_until_its_rule_is_back_to_pass_even_out_of_order(hub) -> None:
    feed(hub, A.topic("alerts"), _alert(1, "class.ratio", "pass", "fail"))
    feed(hub, A.topic("alerts"), _alert(2, "cctv.health", "pass", "warn"))
    assert [(a.rule, a.open) for a in rows(hub, HubAlert)] == [
        ("class.ratio", True),
        ("cctv.health", True),
    ]
    # The recovery of cctv.health (seq 4) arrives before its worsening (seq 3).
    feed(hub, A.topic("alerts"), _alert(4, "cctv.health", "fail", "pass"))
    feed(hub, A.topic("alerts"), _alert(3, "cctv.health", "warn", "fail"))
    state = {a.seq: a.open for a in rows(hub, HubAlert)}
    assert state == {1: True, 2: False, 4: False, 3: False}
    [first] = [a for a in rows(hub, HubAlert) if a.seq == 1]
    assert (first.from_status, first.to_status, first.message) == (
        "pass",
        "fail",
        "class.ratio pass→fail",
    )


def test_an_unregistered_facility_is_accepted_once_registered(hub) -> None:
    assert feed(hub, STRANGER.topic("daily"), STRANGER.report(1)).code == "unknown_facility"
    STRANGER.register(hub)
    assert feed(hub, STRANGER.topic("daily"), STRANGER.report(1)).status == "stored"


def test_a_rejection_for_an_unregistered_code_keeps_the_code(hub) -> None:
    feed(hub, STRANGER.topic("daily"), b"garbage", 0)
    [rejection] = rows(hub, HubRejection)
    # The payload is checked before the registry; the code the topic named is kept.
    assert (rejection.facility, rejection.code) == (STRANGER.code, "malformed")
