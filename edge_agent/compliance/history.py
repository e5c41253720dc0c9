"""Thinning the local history of compliance snapshots.

The agent stores a snapshot every minute (and on every change). Recent ones are kept in
full; older ones are thinned to the first snapshot of each hour plus every snapshot whose
overall status differs from the one kept before it, so the history still shows when the
facility went out of compliance and back; beyond the keep period they are deleted. The
hub holds every report that was sent, so nothing the regulator received is lost here.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from edge_agent.models import ComplianceSnapshot

log = logging.getLogger(__name__)

# Rows read per query and ids per DELETE while thinning.
READ_BATCH = 5000
DELETE_BATCH = 500


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def thin_snapshots(
    session: Session, now: datetime, *, detail_days: int, keep_days: int, after_id: int = 0
) -> tuple[int, int]:
    """Thin snapshots older than ``detail_days`` and with ids above ``after_id``.

    Returns (rows deleted, the last id examined), so the next run starts there.
    """
    deleted = session.execute(
        delete(ComplianceSnapshot)
        .where(ComplianceSnapshot.made_at < now - timedelta(days=keep_days))
        .execution_options(synchronize_session=False)
    ).rowcount
    cutoff = now - timedelta(days=detail_days)
    kept = session.execute(
        select(ComplianceSnapshot.made_at, ComplianceSnapshot.overall)
        .where(ComplianceSnapshot.id <= after_id)
        .order_by(ComplianceSnapshot.id.desc())
        .limit(1)
    ).first()
    last_hour, last_overall = (_hour(kept[0]), kept[1]) if kept else (None, None)
    cursor = after_id
    while True:
        rows = session.execute(
            select(ComplianceSnapshot.id, ComplianceSnapshot.made_at, ComplianceSnapshot.overall)
            .where(ComplianceSnapshot.id > cursor, ComplianceSnapshot.made_at < cutoff)
            .order_by(ComplianceSnapshot.id)
            .limit(READ_BATCH)
        ).all()
        if not rows:
            break
        drop: list[int] = []
        for row_id, made_at, overall in rows:
            hour = _hour(made_at)
            if hour != last_hour or overall != last_overall:
                last_hour, last_overall = hour, overall
            else:
                drop.append(row_id)
        for start in range(0, len(drop), DELETE_BATCH):
            session.execute(
                delete(ComplianceSnapshot)
                .where(ComplianceSnapshot.id.in_(drop[start : start + DELETE_BATCH]))
                .execution_options(synchronize_session=False)
            )
        deleted += len(drop)
        cursor = rows[-1][0]
    if deleted:
        log.info("compliance history: %d old snapshots thinned or deleted", deleted)
    return deleted, cursor
