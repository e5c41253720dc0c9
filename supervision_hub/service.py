"""Registering facilities and reading what the hub knows, for the CLI, web view and JSON feed."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carewatch.reports import FACILITY_ID_PATTERN, ReportError, load_public_key
from supervision_hub.models import HubAlert, HubFacility, HubGap, HubRejection, HubReport

log = logging.getLogger(__name__)


class HubError(ValueError):
    """A request the hub refuses, with a message a person can act on."""


def register_facility(
    session: Session, *, code: str, public_key: str, name: str, now: datetime
) -> tuple[HubFacility, bool]:
    """Register a facility or replace its key and name; returns it and whether it is new."""
    if not FACILITY_ID_PATTERN.match(code):
        raise HubError(f"{code!r} is not a facility code (1-64 of A-Z a-z 0-9 _ -)")
    try:
        load_public_key(public_key)
    except ReportError as exc:
        raise HubError(str(exc)) from None
    facility = session.get(HubFacility, code, with_for_update=True)
    created = facility is None
    if facility is None:
        facility = HubFacility(code=code, public_key=public_key.strip(), registered_at=now)
        facility.name = name
        session.add(facility)
    else:
        if facility.public_key != public_key.strip():
            log.warning("facility %s: public key replaced", code)
        facility.public_key = public_key.strip()
        if name:
            facility.name = name
    session.flush()
    return facility, created


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


@dataclass
class FacilityRow:
    """One line of the regulator's overview."""

    code: str
    name: str
    overall: str | None
    compliance_made_at: datetime | None
    online: bool
    status_since: datetime | None
    seen_state: bool
    backlog: int | None
    last_seen: datetime | None
    last_report_at: datetime | None
    reports: int
    duplicates: int
    highest_seq: int
    open_alerts: int
    open_gaps: int
    missing: int
    gaps: int
    rejections: int

    def as_json(self) -> dict[str, Any]:
        """JSON-ready: times as ISO 8601 UTC."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = _iso(value)
        data["state"] = ("online" if self.online else "offline") if self.seen_state else "unknown"
        del data["seen_state"]
        return data


def overview(session: Session, only: str | None = None) -> list[FacilityRow]:
    """Every registered facility (or just ``only``) with status, online state and counts."""

    def counted(table: Any, column: Any, *where: Any) -> dict[str, int]:
        stmt = select(table.facility, column).where(*where).group_by(table.facility)
        if only is not None:
            stmt = stmt.where(table.facility == only)
        return {code: int(n or 0) for code, n in session.execute(stmt)}

    open_alerts = counted(HubAlert, func.count(HubAlert.id), HubAlert.open)
    gaps = counted(HubGap, func.count(HubGap.id))
    open_gaps = counted(HubGap, func.count(HubGap.id), HubGap.closed_at.is_(None))
    missing = counted(HubGap, func.sum(HubGap.missing), HubGap.closed_at.is_(None))
    rejections = counted(
        HubRejection, func.count(HubRejection.id), HubRejection.facility.is_not(None)
    )
    stmt = select(HubFacility).order_by(HubFacility.code)
    if only is not None:
        stmt = stmt.where(HubFacility.code == only)
    rows = []
    for f in session.scalars(stmt):
        rows.append(
            FacilityRow(
                code=f.code,
                name=f.name,
                overall=f.compliance_overall,
                compliance_made_at=f.compliance_made_at,
                online=f.online,
                status_since=f.status_since,
                seen_state=f.last_bdseq is not None,
                backlog=f.backlog,
                last_seen=f.last_seen,
                last_report_at=f.last_report_at,
                reports=f.reports,
                duplicates=f.duplicates,
                highest_seq=f.highest_seq,
                open_alerts=open_alerts.get(f.code, 0),
                open_gaps=open_gaps.get(f.code, 0),
                missing=missing.get(f.code, 0),
                gaps=gaps.get(f.code, 0),
                rejections=rejections.get(f.code, 0),
            )
        )
    return rows


def totals(rows: list[FacilityRow], session: Session) -> dict[str, int]:
    """Head-line figures for the overview."""
    unattributed = session.scalar(
        select(func.count()).select_from(HubRejection).where(HubRejection.facility.is_(None))
    )
    return {
        "facilities": len(rows),
        "online": sum(1 for r in rows if r.seen_state and r.online),
        "offline": sum(1 for r in rows if r.seen_state and not r.online),
        "failing": sum(1 for r in rows if r.overall == "fail"),
        "open_alerts": sum(r.open_alerts for r in rows),
        "open_gaps": sum(r.open_gaps for r in rows),
        "rejections_without_facility": int(unattributed or 0),
    }


def facility_row(session: Session, code: str) -> FacilityRow | None:
    """The overview line of one facility, or None if it is not registered."""
    rows = overview(session, only=code)
    return rows[0] if rows else None


def history(session: Session, code: str, limit: int = 100) -> dict[str, list[dict[str, Any]]]:
    """A facility's latest reports, alerts, gaps and rejections, newest first."""
    reports = session.scalars(
        select(HubReport)
        .where(HubReport.facility == code)
        .order_by(HubReport.seq.desc())
        .limit(limit)
    )
    alerts = session.scalars(
        select(HubAlert).where(HubAlert.facility == code).order_by(HubAlert.seq.desc()).limit(limit)
    )
    gaps = session.scalars(
        select(HubGap).where(HubGap.facility == code).order_by(HubGap.first_seq.desc()).limit(limit)
    )
    rejections = session.scalars(
        select(HubRejection)
        .where(HubRejection.facility == code)
        .order_by(HubRejection.id.desc())
        .limit(limit)
    )
    return {
        "reports": [
            {
                "seq": r.seq,
                "kind": r.kind,
                "made_at": _iso(r.made_at),
                "received_at": _iso(r.received_at),
                "historical": r.historical,
                "overall": r.body.get("overall") if r.kind == "compliance" else None,
                "body": r.body,
            }
            for r in reports
        ],
        "alerts": [
            {
                "seq": a.seq,
                "rule": a.rule,
                "from": a.from_status,
                "to": a.to_status,
                "at": _iso(a.at),
                "message": a.message,
                "open": a.open,
            }
            for a in alerts
        ],
        "gaps": [
            {
                "first_seq": g.first_seq,
                "last_seq": g.last_seq,
                "missing": g.missing,
                "detected_at": _iso(g.detected_at),
                "closed_at": _iso(g.closed_at),
            }
            for g in gaps
        ],
        "rejections": [
            {
                "at": _iso(x.at),
                "topic": x.topic,
                "code": x.code,
                "detail": x.detail,
                "size": x.size,
                "sha256": x.sha256,
            }
            for x in rejections
        ],
    }


def recent_rejections(session: Session, limit: int = 50) -> list[HubRejection]:
    """The latest rejected messages of any facility, newest first."""
    return list(session.scalars(select(HubRejection).order_by(HubRejection.id.desc()).limit(limit)))
