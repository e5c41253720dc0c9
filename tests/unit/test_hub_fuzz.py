"""Fuzzing ``ingest``: arbitrary bytes and mutated valid payloads never raise, and nothing
that fails independent verification is ever stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from carewatch.db import make_engine, make_session_factory, transaction
from carewatch.reports import Kind, ReportError, parse_topic, verify
from supervision_hub.ingest import ingest
from supervision_hub.migrate import upgrade
from supervision_hub.models import HubReport
from tests.integration.test_hub_support import NOW, Site

A = Site("F310101-0001")
KINDS = list(Kind)
FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    """A hub database with A registered; every example rolls back what it did."""
    path: Path = tmp_path_factory.mktemp("hubfuzz") / "hub.db"
    upgrade(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    made = make_session_factory(engine)
    A.register(made)
    yield made
    engine.dispose()


def valid(kind: Kind, seq: int) -> bytes:
    """A correctly signed payload of a kind."""
    if kind is Kind.STATE:
        return A.state("online", seq)
    return A.report(seq, kind, {"overall": "fail", "rule": "class.ratio", "to": "fail"})


def check(factory: sessionmaker[Session], topic: str, payload: bytes) -> None:
    """Ingest must not raise; a stored report must verify on its own against A's key."""
    session = factory()
    try:
        before = session.scalar(select(func.count()).select_from(HubReport))
        outcome = ingest(session, topic, payload, NOW)
        after = session.scalar(select(func.count()).select_from(HubReport))
        if outcome.status in ("stored", "state"):
            report = verify(payload, A.key.public_key())
            facility, kind = parse_topic(A.prefix, topic)
            assert (report.facility, report.kind) == (facility, kind) == (A.code, kind)
        if outcome.status == "stored":
            assert after == before + 1
            stored = session.scalars(select(HubReport).where(HubReport.seq == outcome.seq)).one()
            assert stored.body == report.body and stored.sig == report.sig
        else:
            assert after == before
    finally:
        session.rollback()
        session.close()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@FUZZ
@given(payload=st.binary(max_size=2048), kind=st.sampled_from(KINDS))
def test_arbitrary_bytes(factory: sessionmaker[Session], payload: bytes, kind: Kind) -> None:
    check(factory, A.topic(kind), payload)


@FUZZ
@given(topic=st.text(max_size=120), kind=st.sampled_from(KINDS))
def test_arbitrary_topics(factory: sessionmaker[Session], topic: str, kind: Kind) -> None:
    check(factory, topic, valid(kind, 1))


@FUZZ
@given(
    kind=st.sampled_from(KINDS),
    seq=st.integers(1, 50),
    data=st.data(),
)
def test_mutated_bytes(factory: sessionmaker[Session], kind: Kind, seq: int, data: Any) -> None:
    payload = bytearray(valid(kind, seq))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(payload) - 1))
        action = data.draw(st.sampled_from(["flip", "drop", "insert"]))
        if action == "flip":
            payload[at] ^= data.draw(st.integers(1, 255))
        elif action == "drop":
            del payload[at]
        else:
            payload[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    check(factory, A.topic(kind), bytes(payload))


FIELDS = ["schema", "facility", "kind", "seq", "bdseq", "made_at", "historical", "body", "sig"]


@FUZZ
@given(
    kind=st.sampled_from(KINDS),
    seq=st.integers(1, 50),
    field=st.sampled_from(FIELDS),
    action=st.sampled_from(["set", "delete", "add"]),
    value=json_values,
    topic_kind=st.sampled_from(KINDS),
)
def test_mutated_fields(
    factory: sessionmaker[Session],
    kind: Kind,
    seq: int,
    field: str,
    action: str,
    value: Any,
    topic_kind: Kind,
) -> None:
    data = json.loads(valid(kind, seq))
    if action == "set":
        data[field] = value
    elif action == "delete":
        data.pop(field, None)
    else:
        data[f"x-{field}"] = value
    try:
        payload = json.dumps(data).encode("utf-8", "surrogatepass")
    except (ValueError, ReportError):
        return
    check(factory, A.topic(topic_kind), payload)


def test_the_fuzz_harness_accepts_what_is_valid(factory: sessionmaker[Session]) -> None:
    """The property above is not vacuous: untouched payloads are stored."""
    for kind in KINDS:
        session = factory()
        try:
            outcome = ingest(session, A.topic(kind), valid(kind, 1), NOW)
            assert outcome.status == ("state" if kind is Kind.STATE else "stored")
        finally:
            session.rollback()
            session.close()
    with transaction(factory, write=False) as session:
        assert session.scalar(select(func.count()).select_from(HubReport)) == 0
