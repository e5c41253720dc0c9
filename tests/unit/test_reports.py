"""The signed report envelope: canonical bytes, signatures, topics and malformed payloads."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from carewatch import reports
from carewatch.reports import Kind, Report, ReportError

MADE = datetime(2026, 3, 10, 1, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture()
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _report(**kw: object) -> Report:
    values: dict[str, object] = {
        "facility": "F310101-0001",
        "kind": Kind.COMPLIANCE,
        "body": {"overall": "fail", "counts": {"fail": 1, "pass": 3}, "名": "班级"},
        "made_at": MADE,
        "seq": 7,
    }
    values.update(kw)
    return Report(**values)  # type: ignore[arg-type]


def test_canonical_bytes_sort_keys_without_spaces_in_utf8() -> None:
    assert reports.canonical_bytes({"b": 1, "a": [1, "二"]}) == '{"a":[1,"二"],"b":1}'.encode()


def test_time_is_utc_with_milliseconds_whatever_the_zone() -> None:
    shanghai = MADE.astimezone(timezone(timedelta(hours=8)))
    assert reports.format_time(shanghai) == "2026-03-10T01:00:00.123Z"
    with pytest.raises(ValueError):
        reports.format_time(datetime(2026, 3, 10))


def test_signed_payload_verifies_and_round_trips(key: Ed25519PrivateKey) -> None:
    payload = reports.sign(_report(), key)
    report = reports.verify(payload, key.public_key())
    assert report.seq == 7
    assert report.kind is Kind.COMPLIANCE
    assert report.body["名"] == "班级"
    assert report.made_at == MADE.replace(microsecond=123000)
    assert report.historical is False


def test_state_messages_carry_bdseq_not_seq(key: Ed25519PrivateKey) -> None:
    payload = reports.sign(_report(kind=Kind.STATE, seq=None, bdseq=0, body={"status": "x"}), key)
    data = json.loads(payload)
    assert "seq" not in data and data["bdseq"] == 0
    assert reports.verify(payload, key.public_key()).bdseq == 0


def test_a_report_needs_a_sequence_number(key: Ed25519PrivateKey) -> None:
    with pytest.raises(ValueError):
        reports.sign(_report(seq=None), key)
    with pytest.raises(ValueError):
        reports.sign(_report(seq=0), key)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda d: d.update(body={"overall": "pass"}), "bad_signature"),
        (lambda d: d.update(seq=8), "bad_signature"),
        (lambda d: d.update(historical=True), "bad_signature"),
        (lambda d: d.update(schema=2), "bad_schema"),
        (lambda d: d.pop("sig"), "unsigned"),
        (lambda d: d.update(sig="***"), "bad_signature"),
        (lambda d: d.update(seq="8"), "malformed"),
        (lambda d: d.update(seq=-1), "malformed"),
        (lambda d: d.update(historical=1), "malformed"),
        (lambda d: d.update(extra=1), "malformed"),
        (lambda d: d.update(made_at="yesterday"), "malformed"),
        (lambda d: d.update(kind="gossip"), "malformed"),
        (lambda d: d.update(body=[1]), "malformed"),
    ],
)
def test_tampered_or_malformed_payloads_are_refused_with_a_code(
    key: Ed25519PrivateKey, change: object, code: str
) -> None:
    data = json.loads(reports.sign(_report(), key))
    change(data)  # type: ignore[operator]
    with pytest.raises(ReportError) as info:
        reports.verify(json.dumps(data).encode(), key.public_key())
    assert info.value.code == code


def test_another_facility_key_does_not_verify(key: Ed25519PrivateKey) -> None:
    payload = reports.sign(_report(), key)
    with pytest.raises(ReportError) as info:
        reports.verify(payload, Ed25519PrivateKey.generate().public_key())
    assert info.value.code == "bad_signature"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"\xff\xfe", "malformed"),
        (b"[1, 2]", "malformed"),
        (b"{", "malformed"),
        (b" " * (reports.MAX_PAYLOAD_BYTES + 1), "oversized"),
        (b"[" * 100_000, "malformed"),
    ],
)
def test_garbage_is_refused(key: Ed25519PrivateKey, payload: bytes, code: str) -> None:
    with pytest.raises(ReportError) as info:
        reports.verify(payload, key.public_key())
    assert info.value.code == code


def test_topics_name_facility_and_kind() -> None:
    name = reports.topic("carewatch/v1/", "F1", Kind.ALERTS)
    assert name == "carewatch/v1/F1/alerts"
    assert reports.parse_topic("carewatch/v1", name) == ("F1", Kind.ALERTS)
    for bad in (
        "other/v1/F1/alerts",
        "carewatch/v1/F1/gossip",
        "carewatch/v1/F1/a/b",
        "carewatch/v1/+/alerts",
        "carewatch/v1//alerts",
    ):
        with pytest.raises(ReportError) as info:
            reports.parse_topic("carewatch/v1", bad)
        assert info.value.code == "bad_topic"


def test_public_key_text_round_trips(key: Ed25519PrivateKey) -> None:
    text = reports.public_key_text(key.public_key())
    assert len(base64.b64decode(text)) == 32
    payload = reports.sign(_report(), key)
    assert reports.verify(payload, reports.load_public_key(text)).seq == 7
    with pytest.raises(ReportError):
        reports.load_public_key("not a key")


def test_documented_json_schema_accepts_signed_reports_and_refuses_what_verify_refuses(
    key: Ed25519PrivateKey,
) -> None:
    import jsonschema

    schema = json.loads((Path(__file__).parents[2] / "docs" / "report-schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for report in (_report(), _report(kind=Kind.STATE, seq=None, bdseq=3, body={})):
        validator.validate(json.loads(reports.sign(report, key)))
    data = json.loads(reports.sign(_report(), key))
    for broken in (
        {**data, "schema": 2},
        {**data, "seq": 0},
        {**data, "extra": 1},
        {k: v for k, v in data.items() if k != "sig"},
        {**data, "made_at": "2026-03-10T01:00:00Z"},
    ):
        assert not validator.is_valid(broken)
        with pytest.raises(ReportError):
            reports.verify(json.dumps(broken).encode(), key.public_key())
