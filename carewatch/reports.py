"""The report envelope shared by the edge agent and the supervision hub.

A report is one JSON object::

    {"schema": 1, "facility": "F310101-0001", "kind": "compliance", "seq": 42,
     "made_at": "2026-03-10T01:00:00Z", "historical": false, "body": {...},
     "sig": "<base64 Ed25519 signature>"}

The signature covers the canonical bytes of every other field: JSON with sorted keys, no
insignificant white space, UTF-8, so that agent and hub compute the same bytes whatever
library wrote them. ``state`` messages (birth and the Last Will) carry ``bdseq`` instead of
``seq``: they sit outside the report sequence, as in Sparkplug B, because the Last Will is
fixed at connect time and a death that is never sent must not leave a gap.

Reports never carry a child's or guardian's name or ID number; bodies hold counts,
statuses and pseudonymous ids only. The body of each kind is described in
``docs/REPORTS.md``.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SCHEMA_VERSION = 1
DEFAULT_PREFIX = "carewatch/v1"
# Bigger than any snapshot a facility makes (a few kB), small enough that a flood of
# oversized payloads cannot exhaust the hub.
MAX_PAYLOAD_BYTES = 256 * 1024
FACILITY_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class Kind(enum.StrEnum):
    """Report kinds, one MQTT topic each."""

    STATE = "state"
    COMPLIANCE = "compliance"
    ALERTS = "alerts"
    DAILY = "daily"
    SETTLEMENT = "settlement"


RETAINED = frozenset({Kind.STATE, Kind.COMPLIANCE})


class ReportError(ValueError):
    """A payload that is not a valid report; ``code`` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Report:
    """One report, signed or about to be."""

    facility: str
    kind: Kind
    body: dict[str, Any]
    made_at: datetime
    seq: int | None = None
    bdseq: int | None = None
    historical: bool = False
    schema: int = SCHEMA_VERSION
    sig: str | None = field(default=None, compare=False)

    def unsigned(self) -> dict[str, Any]:
        """The fields the signature covers."""
        data: dict[str, Any] = {
            "schema": self.schema,
            "facility": self.facility,
            "kind": self.kind.value,
            "made_at": format_time(self.made_at),
            "historical": self.historical,
            "body": self.body,
        }
        if self.kind is Kind.STATE:
            data["bdseq"] = self.bdseq
        else:
            data["seq"] = self.seq
        return data


def format_time(moment: datetime) -> str:
    """UTC, whole milliseconds, ``Z``: one spelling for signer and verifier."""
    if moment.tzinfo is None:
        raise ValueError("report times must be timezone-aware")
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def canonical_bytes(data: dict[str, Any]) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes that are signed."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sign(report: Report, key: Ed25519PrivateKey) -> bytes:
    """The payload to publish: the report with its signature."""
    if report.kind is not Kind.STATE and (report.seq is None or report.seq < 1):
        raise ValueError("a report needs a sequence number from 1 up")
    data = report.unsigned()
    signature = key.sign(canonical_bytes(data))
    data["sig"] = base64.b64encode(signature).decode("ascii")
    return canonical_bytes(data)


def topic(prefix: str, facility: str, kind: Kind) -> str:
    """``{prefix}/{facility}/{kind}``."""
    return f"{prefix.rstrip('/')}/{facility}/{kind.value}"


def parse_topic(prefix: str, name: str) -> tuple[str, Kind]:
    """The facility and kind a topic names, or ReportError(``bad_topic``)."""
    head = prefix.rstrip("/") + "/"
    if not name.startswith(head):
        raise ReportError("bad_topic", f"topic {name!r} is not under {head!r}")
    parts = name[len(head) :].split("/")
    if len(parts) != 2 or not FACILITY_ID_PATTERN.match(parts[0]):
        raise ReportError("bad_topic", f"topic {name!r} is not {head}<facility>/<kind>")
    try:
        return parts[0], Kind(parts[1])
    except ValueError:
        raise ReportError("bad_topic", f"unknown report kind {parts[1]!r}") from None


def decode(payload: bytes) -> dict[str, Any]:
    """Parse and shape-check a payload without verifying it (``ReportError`` if malformed)."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ReportError("oversized", f"payload of {len(payload)} bytes is over the limit")
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ReportError("malformed", f"payload is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ReportError("malformed", "payload is not a JSON object")
    if data.get("schema") != SCHEMA_VERSION or type(data.get("schema")) is not int:
        raise ReportError("bad_schema", f"schema version {data.get('schema')!r} is not supported")
    if not isinstance(data.get("sig"), str):
        raise ReportError("unsigned", "payload carries no signature")
    for name, kind in (("facility", str), ("kind", str), ("made_at", str), ("body", dict)):
        if not isinstance(data.get(name), kind):
            raise ReportError("malformed", f"field {name!r} is missing or of the wrong type")
    if type(data.get("historical")) is not bool:
        raise ReportError("malformed", "field 'historical' is missing or not a boolean")
    try:
        kind_ = Kind(data["kind"])
    except ValueError:
        raise ReportError("malformed", f"unknown kind {data['kind']!r}") from None
    counter = "bdseq" if kind_ is Kind.STATE else "seq"
    value = data.get(counter)
    if type(value) is not int or value < (0 if kind_ is Kind.STATE else 1) or value >= 2**63:
        raise ReportError("malformed", f"field {counter!r} is missing or out of range")
    expected = {"schema", "facility", "kind", "made_at", "historical", "body", "sig", counter}
    if set(data) != expected:
        extra = sorted(set(data) - expected)
        raise ReportError("malformed", f"unexpected fields {extra}")
    try:
        parse_time(data["made_at"])
    except ValueError:
        raise ReportError("malformed", f"made_at {data['made_at']!r} is not a UTC time") from None
    return data


def parse_time(text: str) -> datetime:
    """Read a time written by :func:`format_time`."""
    if not text.endswith("Z"):
        raise ValueError("not UTC")
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)


def verify(payload: bytes, key: Ed25519PublicKey) -> Report:
    """Decode a payload and check its signature; ``ReportError`` says what is wrong."""
    data = decode(payload)
    try:
        signature = base64.b64decode(data.pop("sig"), validate=True)
    except (binascii.Error, ValueError):
        raise ReportError("bad_signature", "signature is not base64") from None
    try:
        key.verify(signature, canonical_bytes(data))
    except InvalidSignature:
        raise ReportError("bad_signature", "signature does not match the facility's key") from None
    kind = Kind(data["kind"])
    return Report(
        facility=data["facility"],
        kind=kind,
        body=data["body"],
        made_at=parse_time(data["made_at"]),
        seq=data.get("seq"),
        bdseq=data.get("bdseq"),
        historical=data["historical"],
        schema=data["schema"],
        sig=base64.b64encode(signature).decode("ascii"),
    )


def public_key_text(key: Ed25519PublicKey) -> str:
    """The raw public key in base64: what a facility hands to the hub."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def load_public_key(text: str) -> Ed25519PublicKey:
    """Read a key written by :func:`public_key_text`."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise ReportError("bad_key", f"not an Ed25519 public key: {exc}") from None
