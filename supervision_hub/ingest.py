"""Every rule for one incoming MQTT message, as one pure function of session, topic and bytes.

:func:`ingest` verifies a message against the key of the facility its topic names, stores
it once per ``(facility, seq)``, keeps the facility's gaps, online state, latest compliance
and alerts, and records anything it refuses with a code. It never commits (the caller owns
the transaction) and never raises on a bad payload, so a fuzzer can throw anything at it.

All state lives in the database and each message locks its facility's row first, so any
number of hub processes may ingest into one database; a batch that sorts its messages by
facility takes the locks in one order and cannot deadlock with another.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from carewatch.reports import (
    DEFAULT_PREFIX,
    FACILITY_ID_PATTERN,
    MAX_PAYLOAD_BYTES,
    Kind,
    Report,
    ReportError,
    decode,
    load_public_key,
    parse_time,
    parse_topic,
    verify,
)
from supervision_hub.models import HubAlert, HubFacility, HubGap, HubRejection, HubReport

log = logging.getLogger(__name__)

STATUSES = ("pass", "warn", "fail", "unknown")
# Every code a rejection can carry (docs/REPORTS.md lists the envelope's; stale_state is a
# state whose bdseq is older than the facility's current session).
REJECTION_CODES = (
    "malformed",
    "oversized",
    "bad_schema",
    "unsigned",
    "bad_signature",
    "bad_topic",
    "unknown_facility",
    "facility_mismatch",
    "replayed",
    "stale_state",
)


@dataclass(frozen=True)
class Outcome:
    """What became of one message: ``stored``, ``duplicate``, ``state`` or ``rejected``."""

    status: str
    facility: str | None = None
    seq: int | None = None
    code: str | None = None
    detail: str = ""


@lru_cache(maxsize=4096)
def _key(text: str) -> Ed25519PublicKey:
    # Parsing a key costs more than verifying with it; the cache is only a speed-up, the
    # registered key in the database is what counts (a new key is a new cache entry).
    return load_public_key(text)


def ingest(
    session: Session, topic: str, payload: bytes, now: datetime, *, prefix: str = DEFAULT_PREFIX
) -> Outcome:
    """Apply one message to the hub's database (without committing) and say what happened."""
    facility_code: str | None = None
    try:
        facility_code = _topic_facility(prefix, topic)
        facility_code, topic_kind = parse_topic(prefix, topic)
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise ReportError("oversized", f"payload of {len(payload)} bytes is over the limit")
        data = _decode(payload)
        if data["facility"] != facility_code:
            raise ReportError(
                "facility_mismatch",
                f"payload names facility {data['facility']!r} on the topic of {facility_code!r}",
            )
        if data["kind"] != topic_kind.value:
            raise ReportError(
                "bad_topic", f"a {data['kind']!r} report on the {topic_kind.value!r} topic"
            )
        facility = _locked_facility(session, facility_code)
        if facility is None:
            raise ReportError("unknown_facility", f"facility {facility_code!r} is not registered")
        try:
            report = verify(payload, _key(facility.public_key))
        except (ValueError, RecursionError) as exc:
            if isinstance(exc, ReportError):
                raise
            raise ReportError("malformed", f"payload cannot be verified: {exc}") from None
        facility.last_seen = now
        if report.kind is Kind.STATE:
            return _apply_state(session, facility, report, now)
        return _apply_report(session, facility, report, now)
    except ReportError as exc:
        return reject(session, now, topic, facility_code, exc.code, str(exc), payload)


_LOCKED = "supervision_hub.locked"


def _locks(session: Session) -> tuple[Any, set[str], list[HubFacility]]:
    """The facility rows this session's current transaction has locked, and the objects.

    The identity map holds objects weakly, so the loaded rows are kept here too.
    """
    if session.get_transaction() is None:
        session.connection()  # begin now: the locks belong to this transaction
    txn = session.get_transaction()
    held = session.info.get(_LOCKED)
    if held is None or held[0] is not txn:
        held = (txn, set(), [])
        session.info[_LOCKED] = held
    return held


def lock_facilities(session: Session, codes: set[str]) -> None:
    """Lock (and load) the rows of these facilities in one statement, in code order.

    A batch calls this first; :func:`ingest` then finds the rows in the session instead of
    asking for each message, which keeps the database round trips per message near zero.
    """
    codes = {c for c in codes if FACILITY_ID_PATTERN.match(c)}
    if not codes:
        return
    _txn, held, keep = _locks(session)
    stmt = (
        select(HubFacility)
        .where(HubFacility.code.in_(sorted(codes)))
        .order_by(HubFacility.code)
        .with_for_update()
    )
    keep.extend(session.scalars(stmt).all())
    held.update(codes)


def _locked_facility(session: Session, code: str) -> HubFacility | None:
    _txn, held, keep = _locks(session)
    if code in held:
        return session.get(HubFacility, code)  # already locked: from the identity map
    facility = session.get(HubFacility, code, with_for_update=True)
    held.add(code)
    if facility is not None:
        keep.append(facility)
    return facility


def _topic_facility(prefix: str, topic: str) -> str | None:
    """The facility a topic names even when its kind is wrong, to attribute a rejection."""
    head = prefix.rstrip("/") + "/"
    parts = topic[len(head) :].split("/") if topic.startswith(head) else []
    return parts[0] if len(parts) == 2 and FACILITY_ID_PATTERN.match(parts[0]) else None


# A JSON-escaped NUL (an odd number of backslashes before u0000): PostgreSQL cannot store
# it in text or JSONB. Raw control characters are invalid JSON and fail to parse anyway.
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _decode(payload: bytes) -> dict[str, Any]:
    """:func:`decode`, refusing what a database cannot store (NUL) as malformed.

    Lone surrogates and NaN cannot be signed (the canonical bytes refuse them), so they
    fail verification instead.
    """
    if b"\\u0000" in payload and _NUL.search(payload):  # the regex only when it may match
        raise ReportError("malformed", "payload holds a NUL character")
    try:
        return decode(payload)
    except ReportError:
        raise
    except (ValueError, RecursionError) as exc:  # e.g. an integer of 5,000 digits
        raise ReportError("malformed", f"payload is not JSON: {exc}") from None


def reject(
    session: Session,
    now: datetime,
    topic: str,
    facility: str | None,
    code: str,
    detail: str,
    payload: bytes,
) -> Outcome:
    """Record a refused message (its size and hash, never its content) and return the outcome."""
    session.add(
        HubRejection(
            at=now,
            topic=_clean(topic, 300),
            facility=facility,
            code=code,
            detail=_clean(detail, 500),
            size=len(payload),
            sha256=hashlib.sha256(payload).hexdigest(),
        )
    )
    log.info("rejected %s on %r: %s", code, _clean(topic, 300), _clean(detail, 200))
    return Outcome("rejected", facility=facility, code=code, detail=detail)


def _clean(text: str, limit: int) -> str:
    """Text any database stores: no NUL, no lone surrogate, at most ``limit`` characters."""
    return text[:limit].replace("\x00", "?").encode("utf-8", "replace").decode("utf-8")


def _apply_state(session: Session, facility: HubFacility, report: Report, now: datetime) -> Outcome:
    status = report.body.get("status")
    if status not in ("online", "offline"):
        raise ReportError("malformed", f"state status {status!r} is neither online nor offline")
    bdseq = report.bdseq or 0
    online = status == "online"
    last = facility.last_bdseq
    if last is not None and bdseq < last:
        raise ReportError(
            "stale_state", f"state of session {bdseq} after session {last} (a late Will?)"
        )
    if last is not None and bdseq == last:
        if online == facility.online:
            # The same state again: a retained message redelivered on (re)subscribe.
            return Outcome("duplicate", facility=facility.code, detail=f"state {status}")
        if online:
            raise ReportError("stale_state", f"birth of session {bdseq}, which has already ended")
    facility.online = online
    facility.last_bdseq = bdseq
    # A Will's made_at is when its session began (it is fixed at connect), so the time an
    # offline state arrives is the best estimate of when the facility went away.
    facility.status_since = min(report.made_at, now) if online else now
    if online:
        backlog = report.body.get("backlog")
        facility.backlog = backlog if type(backlog) is int and 0 <= backlog < 2**63 else None
        version = report.body.get("agent_version")
        facility.agent_version = str(version)[:64] if version is not None else None
    log.info("facility %s is %s (session %d)", facility.code, status, bdseq)
    return Outcome("state", facility=facility.code, detail=status)


def _apply_report(
    session: Session, facility: HubFacility, report: Report, now: datetime
) -> Outcome:
    seq = report.seq or 0
    # Nothing above the highest number stored can exist yet: the common case costs no query.
    stored = None
    if seq <= facility.highest_seq:
        stored = session.scalar(
            select(HubReport.sig).where(HubReport.facility == facility.code, HubReport.seq == seq)
        )
    if stored is not None:
        if stored == report.sig:
            facility.duplicates += 1
            return Outcome("duplicate", facility=facility.code, seq=seq)
        raise ReportError(
            "replayed", f"sequence number {seq} already belongs to a different report"
        )
    session.add(
        HubReport(
            facility=facility.code,
            seq=seq,
            kind=report.kind.value,
            made_at=report.made_at,
            received_at=now,
            historical=report.historical,
            body=report.body,
            sig=report.sig or "",
        )
    )
    facility.reports += 1
    facility.last_report_at = now
    _track_sequence(session, facility, seq, now)
    if report.kind is Kind.COMPLIANCE:
        _apply_compliance(facility, report, seq)
    elif report.kind is Kind.ALERTS:
        _apply_alert(session, facility, report, seq)
    return Outcome("stored", facility=facility.code, seq=seq)


def _track_sequence(session: Session, facility: HubFacility, seq: int, now: datetime) -> None:
    """Open a gap when numbers are skipped; count a late report off the gap it falls in."""
    highest = facility.highest_seq
    if seq > highest:
        if seq > highest + 1:
            session.add(
                HubGap(
                    facility=facility.code,
                    first_seq=highest + 1,
                    last_seq=seq - 1,
                    missing=seq - 1 - highest,
                    detected_at=now,
                )
            )
            log.warning("facility %s: reports %d-%d missing", facility.code, highest + 1, seq - 1)
        facility.highest_seq = seq
        return
    gap = session.scalars(
        select(HubGap).where(
            HubGap.facility == facility.code,
            HubGap.first_seq <= seq,
            HubGap.last_seq >= seq,
            HubGap.closed_at.is_(None),
        )
    ).first()
    if gap is None:
        log.error("facility %s: late report %d is in no open gap", facility.code, seq)
        return
    gap.missing -= 1
    if gap.missing <= 0:
        gap.closed_at = now
        log.info("facility %s: gap %d-%d closed", facility.code, gap.first_seq, gap.last_seq)


def _apply_compliance(facility: HubFacility, report: Report, seq: int) -> None:
    # By sequence, not arrival: a historical snapshot delivered late never hides a newer one.
    if facility.compliance_seq is not None and seq < facility.compliance_seq:
        return
    overall = report.body.get("overall")
    facility.compliance_seq = seq
    facility.compliance_overall = overall if overall in STATUSES else "unknown"
    facility.compliance_made_at = report.made_at


def _text(value: Any, limit: int) -> str:
    return ("" if value is None else str(value))[:limit]


def _apply_alert(session: Session, facility: HubFacility, report: Report, seq: int) -> None:
    body = report.body
    rule = _text(body.get("rule") or "?", 64)
    at = report.made_at
    if isinstance(body.get("at"), str):
        # The signed made_at stands in for an unreadable time.
        with contextlib.suppress(ValueError):
            at = parse_time(body["at"])
    latest = session.scalar(
        select(func.max(HubAlert.seq)).where(
            HubAlert.facility == facility.code, HubAlert.rule == rule
        )
    )
    newest = latest is None or seq > latest
    to_status = _text(body.get("to"), 16)
    if newest:
        # Only the newest alert of a rule says whether it is still open.
        session.execute(
            update(HubAlert)
            .where(HubAlert.facility == facility.code, HubAlert.rule == rule, HubAlert.open)
            .values(open=False)
        )
    session.add(
        HubAlert(
            facility=facility.code,
            seq=seq,
            rule=rule,
            from_status=_text(body.get("from"), 16),
            to_status=to_status,
            at=at,
            message=_text(body.get("message"), 500),
            open=newest and to_status != "pass",
        )
    )
