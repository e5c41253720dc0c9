"""The durable outbox: reports are signed and stored before anything is sent.

A report enters the outbox in the same transaction as the state it describes and leaves
it only when the broker has acknowledged it (see :mod:`edge_agent.publisher`). Sequence
numbers come from a counter row that is only ever incremented in that transaction, so a
number is never handed out twice, across restarts and crashes too.

The bound: when ``limit`` reports are waiting, new compliance snapshots are held back
(the snapshot stays in the local history and the newest one is sent once there is room,
so the hub loses detail, never a fact); alerts, daily and settlement reports are still
taken until ``limit`` × 1.1, after which :class:`OutboxFull` is raised and the caller's
transaction fails, so nothing is half-written. Nothing already queued is ever dropped,
which is why the hub never sees a gap from the bound.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carewatch.reports import RETAINED, Kind, Report, sign, topic
from edge_agent.models import OutboxReport, ReportCounter

log = logging.getLogger(__name__)

HARD_LIMIT_FACTOR = 1.1


class OutboxFull(RuntimeError):
    """The outbox is at its bound for this kind of report."""


def next_value(session: Session, facility: str, name: str) -> int:
    """Increment and return one of the facility's counters (``seq`` or ``bdseq``)."""
    # The row lock (PostgreSQL) or the write transaction (SQLite) keeps two writers from
    # reading the same value.
    counter = session.get(ReportCounter, (facility, name), with_for_update=True)
    if counter is None:
        counter = ReportCounter(facility=facility, name=name, value=0)
        session.add(counter)
    counter.value += 1
    session.flush()
    return counter.value


def pending_count(session: Session) -> int:
    """Reports waiting for the broker."""
    return session.scalar(select(func.count()).select_from(OutboxReport)) or 0


def enqueue(
    session: Session,
    *,
    key: Ed25519PrivateKey,
    facility: str,
    kind: Kind,
    body: dict[str, Any],
    now: datetime,
    prefix: str,
    limit: int,
    historical: bool = False,
) -> OutboxReport:
    """Number, sign and store one report; the caller's transaction makes it durable."""
    if kind is Kind.STATE:
        raise ValueError("state messages are sent at connect time, not through the outbox")
    waiting = pending_count(session)
    hard = int(limit * HARD_LIMIT_FACTOR)
    if (kind is Kind.COMPLIANCE and waiting >= limit) or waiting >= hard:
        raise OutboxFull(f"{waiting} reports are waiting (bound {limit}); {kind.value} held back")
    seq = next_value(session, facility, "seq")
    report = Report(
        facility=facility, kind=kind, body=body, made_at=now, seq=seq, historical=historical
    )
    row = OutboxReport(
        facility=facility,
        kind=kind.value,
        seq=seq,
        made_at=now,
        historical=historical,
        topic=topic(prefix, facility, kind),
        retained=kind in RETAINED,
        payload=sign(report, key),
    )
    session.add(row)
    session.flush()
    log.debug("queued %s report %s", kind.value, seq)
    return row
