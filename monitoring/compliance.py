"""The seam for the compliance engine: four CCTV findings read from the stored results.

Each function reads what the probes and scans stored and judges it as of ``now``; none
probes or scans itself. Evidence names cameras and zones only (ids and names).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from carewatch.findings import Finding, Status
from monitoring.config import MonitoringConfig, load_config
from monitoring.registry import list_cameras
from monitoring.service import HEALTHY, UNHEALTHY, camera_healths, coverage, latest_retention

log = logging.getLogger(__name__)

_RANK = {"pass": 0, "warn": 1, "fail": 2, "unknown": 3}


def _worst(statuses: list[str]) -> Status:
    return max(statuses, key=_RANK.__getitem__, default="unknown")  # type: ignore[return-value]


def coverage_finding(
    session: Session, now: datetime, config: MonitoringConfig | None = None
) -> Finding:
    """cctv.coverage: every required zone has at least one healthy camera now."""
    cfg = config or load_config()
    cov = coverage(session, now, cfg.health)
    required = [z for z in cov.zones if z.required]
    evidence = {
        "zones": [
            {
                "zone": z.name,
                "status": z.status,
                "cameras": [{"id": c.id, "name": c.name, "health": c.health} for c in z.cameras],
            }
            for z in required
        ]
    }
    covered = sum(z.covered for z in required)
    if not required:
        return Finding("unknown", 0, 0, evidence, "no required zones are registered")
    uncovered = [z.name for z in required if z.status == "uncovered"]
    unknown = [z.name for z in required if z.status == "unknown"]
    if uncovered:
        status: Status = "fail"
        message = f"{len(uncovered)} required zone(s) without a healthy camera: " + ", ".join(
            uncovered
        )
    elif unknown:
        status = "unknown"
        message = f"{len(unknown)} required zone(s) whose cameras could not be checked: " + (
            ", ".join(unknown)
        )
    else:
        status, message = "pass", f"all {len(required)} required zones covered"
    return Finding(status, covered, len(required), evidence, message)


def health_finding(
    session: Session, now: datetime, config: MonitoringConfig | None = None
) -> Finding:
    """cctv.health: every enabled camera online, fast and sharp enough, picture normal."""
    cfg = config or load_config()
    cams = [c for c in camera_healths(session, now, cfg.health).values() if c.enabled]
    evidence = {
        "cameras": [
            {"id": c.id, "name": c.name, "health": c.health, "reason": c.reason} for c in cams
        ]
    }
    healthy = sum(c.health == HEALTHY for c in cams)
    if not cams:
        return Finding("unknown", 0, 0, evidence, "no enabled cameras are registered")
    bad = [c.name for c in cams if c.health == UNHEALTHY]
    unknown = [c.name for c in cams if c.health not in (HEALTHY, UNHEALTHY)]
    if bad:
        return Finding(
            "fail", healthy, len(cams), evidence, "unhealthy camera(s): " + ", ".join(bad)
        )
    if unknown:
        return Finding(
            "unknown", healthy, len(cams), evidence, "camera(s) not checked: " + ", ".join(unknown)
        )
    return Finding("pass", healthy, len(cams), evidence, f"all {len(cams)} cameras healthy")


def _scans(session: Session, now: datetime, cfg: MonitoringConfig) -> list[tuple[Any, Any, str]]:
    """(camera, stored state or None, why it is not usable or '') per enabled camera."""
    states = latest_retention(session)
    out = []
    for cam in list_cameras(session, enabled_only=True):
        state = states.get(cam.id)
        why = ""
        if state is None:
            why = "never scanned"
        else:
            age = (now.astimezone(UTC) - state.at).total_seconds()
            if age > cfg.health.retention_fresh_seconds:
                why = f"last scan {age / 3600:.1f} h ago"
        out.append((cam, state, why))
    return out


def retention_finding(
    session: Session, now: datetime, config: MonitoringConfig | None = None
) -> Finding:
    """cctv.retention: each camera has unbroken recordings for the required days."""
    cfg = config or load_config()
    need = cfg.retention.required_days
    rows, statuses, days = [], [], []
    for cam, state, why in _scans(session, now, cfg):
        status = "unknown" if why or state is None else state.status
        statuses.append(status)
        row: dict[str, Any] = {"id": cam.id, "name": cam.name, "status": status}
        if state is not None and not why:
            if state.status != "unknown":  # a scan that could not run measured nothing
                days.append(state.unbroken_days)
            row.update(
                unbroken_days=round(state.unbroken_days, 2),
                unbroken_since=state.unbroken_since.isoformat() if state.unbroken_since else None,
                gaps=len(state.gaps),
                deletions=len(state.deletions),
                reason=state.reasons[0] if state.reasons else "",
            )
        else:
            row["reason"] = why or "no scan"
        rows.append(row)
    if not rows:
        return Finding("unknown", None, need, {"cameras": []}, "no enabled cameras are registered")
    status = _worst(statuses)
    value = round(min(days), 2) if days else None
    short = [r["name"] for r in rows if r["status"] != "pass"]
    message = (
        f"every camera has {need}+ days of unbroken recordings"
        if status == "pass"
        else f"{len(short)} camera(s) short of proof: " + ", ".join(short)
    )
    return Finding(status, value, need, {"cameras": rows}, message)


def forecast_finding(
    session: Session, now: datetime, config: MonitoringConfig | None = None
) -> Finding:
    """cctv.retention_forecast: at the measured write rate the stores hold enough days."""
    cfg = config or load_config()
    need = cfg.retention.required_days + cfg.retention.forecast_margin_days
    stores: dict[str, dict[str, Any]] = {}
    statuses = []
    for cam, state, why in _scans(session, now, cfg):
        if why or state is None or not state.forecast:
            statuses.append("unknown")
            stores.setdefault(cam.store_path or "", {"cameras": [], "status": "unknown"})
            stores[cam.store_path or ""]["cameras"].append(cam.name)
            continue
        fc = state.forecast
        entry = stores.setdefault(
            cam.store_path,
            {"cameras": [], "status": fc["status"], "days": fc.get("days"), "reason": fc["reason"]},
        )
        entry["cameras"].append(cam.name)
        statuses.append(fc["status"])
    if not statuses:
        return Finding("unknown", None, need, {"stores": []}, "no enabled cameras are registered")
    days = [s["days"] for s in stores.values() if s.get("days") is not None]
    value = round(min(days), 1) if days else None
    status = _worst(statuses)
    evidence = {
        "stores": [{"cameras": s["cameras"], "status": s["status"], "days": s.get("days")}
                   for s in stores.values()]
    }  # fmt: skip
    if status == "pass":
        message = f"the stores hold at least {value} days (need {need})"
    else:
        message = f"storage forecast {status}: " + "; ".join(
            s.get("reason") or "no forecast" for s in stores.values() if s["status"] != "pass"
        )
    return Finding(status, value, need, evidence, message)
