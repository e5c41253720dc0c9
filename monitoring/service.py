"""Probe the registered cameras, scan their stores, store the results, answer coverage.

Service functions take a session and never commit; the caller owns the transaction.
Probing and scanning run outside any database work (they take seconds); only the
storing touches the session.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from monitoring.config import HealthConfig, MonitoringConfig, load_config
from monitoring.models import (
    Camera,
    ImageState,
    ProbeHistory,
    ProbeState,
    RetentionState,
    StoreLayout,
)
from monitoring.registry import list_cameras, list_zones
from monitoring.urls import mask_url

if TYPE_CHECKING:
    from monitoring.probe import ProbeResult
    from monitoring.retention import CameraReport, RetentionReport

log = logging.getLogger(__name__)

HEALTHY, UNHEALTHY, UNKNOWN = "healthy", "unhealthy", "unknown"
#: Where results go: the caller's session, or a factory for short transactions of our own.
Target = Session | sessionmaker[Session]


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# --- probing ------------------------------------------------------------------------------


def _local_file(url: str) -> Path | None:
    if url.startswith("/"):
        return Path(url)
    if url.lower().startswith("file://"):
        return Path(url[7:])
    return None


def judge_health(
    result: ProbeResult,
    image: dict[str, Any] | None,
    config: HealthConfig,
    url: str = "",
) -> tuple[str, str]:
    """(health, reason) of one probe: the stream, its rate and size, and the picture."""
    if result.status == "unknown":
        return UNKNOWN, f"probe could not run: {result.reason}"
    path = _local_file(url)
    if result.status == "failed" and result.frames_read == 0 and path is not None:
        # A file that exists but does not decode says nothing about a camera: the check
        # could not run. A missing file is a camera that stopped delivering.
        try:
            exists = path.is_file()
        except OSError:
            exists = False
        if exists:
            return UNKNOWN, f"the file is not a readable video: {result.reason}"
    if result.status != "ok":
        return UNHEALTHY, f"stream {result.status}: {result.reason}"
    problems = []
    if result.fps is None:
        problems.append("frame rate not measurable")
    elif result.fps < config.min_fps:
        problems.append(f"frame rate {result.fps:g} fps < {config.min_fps:g} fps")
    if (result.width or 0) < config.min_width or (result.height or 0) < config.min_height:
        problems.append(
            f"resolution {result.width}x{result.height} < {config.min_width}x{config.min_height}"
        )
    if image is not None and image.get("status") != "normal":
        problems.append(f"image {image['status']}: {image.get('reason', '')}")
    if problems:
        return UNHEALTHY, "; ".join(problems)
    if image is not None and image.get("suspected"):
        # Seen in this probe only: said, but not an alarm until it persists (persist_probes).
        return HEALTHY, f"{result.reason}; image {image.get('reason', '')}"
    return HEALTHY, result.reason + (f"; image normal: {image['reason']}" if image else "")


def _reference_key(reference_at: datetime | None) -> str | None:
    return _utc(reference_at).isoformat() if reference_at is not None else None


def _image_verdict(
    name: str,
    reference: bytes | None,
    result: ProbeResult,
    config: MonitoringConfig,
    saved: dict[str, Any] | None = None,
    reference_at: datetime | None = None,
) -> tuple[dict | None, dict | None]:
    """Classify the burst against the camera's learned state; the verdict and the new state.

    ``saved`` is what earlier probes learned (None: start from the reference view). It is
    used only when it was learned against the same reference view (``reference_at``).
    """
    if not result.frames:
        return None, None
    import cv2
    import numpy as np

    from monitoring.image import CameraImageChecker

    # Only bit-identical frames of one burst count as frozen: kept frames are seconds
    # apart and a still scene in H.264 can repeat pixels that long. Across probes a file
    # source replays the same frames, so frozen is never judged between probes.
    cfg = config.image.model_copy(update={"frozen_window": 1, "frozen_max_diff": 0.0})
    checker = CameraImageChecker(cfg, name=name)
    key = _reference_key(reference_at)
    ref = None
    if reference:
        ref = cv2.imdecode(np.frombuffer(reference, np.uint8), cv2.IMREAD_COLOR)
    same_view = saved is not None and saved.get("reference_at") == key
    if same_view and checker.restore(saved):
        if ref is not None:
            checker.set_reference(ref)
    elif ref is not None:
        checker.enrol([ref])
    verdict = checker.check_burst(result.frames)
    return verdict.to_dict(), {**checker.state(), "reference_at": key}


def thumbnail(frame: Any, width: int, quality: int) -> bytes | None:
    """A small JPEG of a frame, or None when it cannot be encoded."""
    import cv2

    h, w = frame.shape[:2]
    if w > width:
        frame = cv2.resize(
            frame, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA
        )
    ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.tobytes() if ok else None


def store_probe(
    session: Session,
    camera: Camera,
    result: ProbeResult,
    image: dict[str, Any] | None,
    now: datetime,
    config: MonitoringConfig,
    image_state: dict[str, Any] | None = None,
) -> ProbeState:
    """Save a probe as the camera's latest state and in its bounded history.

    ``image_state`` is what the image checks learned from this probe; it replaces the
    saved one in the same transaction (None: a probe without frames changes nothing).
    """
    health, why = judge_health(result, image, config.health, camera.stream_url)
    thumb = None
    if result.frames:
        thumb = thumbnail(
            result.frames[-1], config.health.thumbnail_width, config.health.thumbnail_quality
        )
    state = session.get(ProbeState, camera.id)
    if state is None:
        state = ProbeState(camera_id=camera.id)
        session.add(state)
    state.at = now
    state.status = result.status
    state.reason = result.reason[:500]
    state.health, state.health_reason = health, why[:500]
    state.fps, state.width, state.height = result.fps, result.width, result.height
    state.frames_read = result.frames_read
    state.image_status = image["status"] if image else None
    state.image = image
    state.thumbnail = thumb
    session.add(
        ProbeHistory(
            camera_id=camera.id,
            at=now,
            status=result.status,
            health=health,
            reason=why[:500],
            fps=result.fps,
            width=result.width,
            height=result.height,
            image_status=state.image_status,
        )
    )
    if image_state is not None:
        learned = session.get(ImageState, camera.id)
        if learned is None:
            learned = ImageState(camera_id=camera.id)
            session.add(learned)
        learned.at, learned.data = now, image_state
    session.flush()
    _trim_history(session, camera.id, config.health.history_per_camera)
    return state


def _trim_history(session: Session, camera_id: int, keep: int) -> None:
    cutoff = session.scalar(
        select(ProbeHistory.id)
        .where(ProbeHistory.camera_id == camera_id)
        .order_by(ProbeHistory.id.desc())
        .offset(keep)
        .limit(1)
    )
    if cutoff is not None:
        session.execute(
            delete(ProbeHistory).where(
                ProbeHistory.camera_id == camera_id, ProbeHistory.id <= cutoff
            )
        )


@contextmanager
def _phase(target: Target, *, write: bool) -> Iterator[Session]:
    """The caller's session as is, or a transaction of its own from a session factory."""
    if isinstance(target, Session):
        yield target
        return
    from carewatch.db import transaction

    with transaction(target, write=write) as session:
        yield session


def probe_cameras(
    target: Target,
    now: datetime,
    *,
    config: MonitoringConfig | None = None,
    camera_ids: Sequence[int] | None = None,
) -> list[ProbeState]:
    """Probe every enabled camera (or the given ones) concurrently and store the results.

    Given a session, everything happens in the caller's transaction. Given a session
    factory, the cameras are read in one short transaction and the results written in
    another, so no database lock is held while the streams are probed.
    """
    from monitoring.probe import ProbeConfig, probe_many

    cfg = config or load_config()
    with _phase(target, write=False) as session:
        learned = {s.camera_id: s.data for s in session.scalars(select(ImageState))}
        cams = [
            (c.id, c.name, c.stream_url, c.reference_frame, c.reference_at, learned.get(c.id))
            for c in list_cameras(session, enabled_only=True)
            if camera_ids is None or c.id in set(camera_ids)
        ]
    if not cams:
        return []
    probe_cfg = ProbeConfig(
        open_timeout_s=cfg.probe_open_timeout_s,
        read_timeout_s=cfg.probe_read_timeout_s,
        burst_frames=cfg.probe_burst_frames,
        max_workers=cfg.probe_workers,
    )
    results = probe_many([cam[2] for cam in cams], probe_cfg)
    images: list[tuple[dict | None, dict | None]] = []
    for (cid, name, _, reference, reference_at, saved), result in zip(cams, results, strict=True):
        try:
            images.append(_image_verdict(name, reference, result, cfg, saved, reference_at))
        except Exception as exc:  # a frame the checks choke on must not lose the probe
            log.warning("image checks of camera %s failed: %s", cid, type(exc).__name__)
            images.append((None, None))
    states = []
    with _phase(target, write=True) as session:
        for (cid, *_), result, (image, learned) in zip(cams, results, images, strict=True):
            camera = session.get(Camera, cid)
            if camera is not None:  # deleted while it was probed
                states.append(store_probe(session, camera, result, image, now, cfg, learned))
    log.info("probed %d camera(s): %s", len(states), [s.health for s in states])
    return states


def enrol_latest_view(session: Session, camera: Camera, now: datetime) -> Camera:
    """Save the camera's latest frame as its reference view, if that probe was healthy."""
    from carewatch.errors import DomainError
    from monitoring.registry import enrol_reference

    state = session.get(ProbeState, camera.id)
    if state is None or not state.thumbnail or state.health != HEALTHY:
        raise DomainError(
            "no_healthy_frame",
            "Enrol the view only from a recent healthy picture; check the camera first.",
        )
    learned = session.get(ImageState, camera.id)
    if learned is not None:  # baselines and streaks belong to the old view
        session.delete(learned)
    return enrol_reference(session, camera, state.thumbnail, now)


# --- retention ----------------------------------------------------------------------------


def _iso_at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def store_retention(
    session: Session,
    camera: Camera,
    report: CameraReport | None,
    whole: RetentionReport | None,
    now: datetime,
    *,
    reason: str = "",
) -> RetentionState:
    """Save a camera's retention proof (or why there is none) as its latest state."""
    state = session.get(RetentionState, camera.id)
    if state is None:
        state = RetentionState(camera_id=camera.id)
        session.add(state)
    state.at = now
    forecast = whole.to_dict()["forecast"] if whole is not None else None
    if report is None or whole is None:
        state.status, state.reasons = "unknown", [reason or "no retention scan"]
        state.earliest = state.latest = state.unbroken_since = None
        state.unbroken_days, state.fresh = 0.0, False
        state.days, state.gaps, state.bad_segments, state.deletions = {}, [], [], []
        state.forecast, state.recorded_bytes, state.bytes_per_day = forecast, 0, 0.0
        session.flush()
        return state
    data = next(c for c in whole.to_dict()["cameras"] if c["camera"] == report.camera)
    state.status, state.reasons = report.status, list(report.reasons)
    state.earliest = _iso_at(data["earliest"])
    state.latest = _iso_at(data["latest"])
    state.unbroken_since = _iso_at(data["unbroken_since"])
    state.unbroken_days = float(report.unbroken_days)
    state.fresh = bool(report.fresh)
    state.days = dict(report.days)
    state.gaps = data["gaps"]
    state.bad_segments = data["bad_segments"][:200]
    state.deletions = data["deletions"][:200]
    state.forecast = forecast
    state.recorded_bytes = int(report.recorded_bytes)
    state.bytes_per_day = float(report.bytes_per_day)
    session.flush()
    return state


def _layout(name: str, template: str, zone: str) -> Any:
    from monitoring.retention import FrigateLayout, TemplateLayout

    if name == StoreLayout.TEMPLATE.value:
        return TemplateLayout(template, zone)
    return FrigateLayout()


def scan_retention(
    target: Target,
    now: datetime,
    *,
    config: MonitoringConfig | None = None,
    state_dir: Path | None = None,
    parse: bool | None = None,
) -> list[RetentionState]:
    """Scan the store of every enabled camera (one scan per store) and store the proofs.

    ``target`` is a session or a session factory, as for ``probe_cameras``. ``state_dir``
    keeps one scan index per store (rescans read only what changed, and deletions of
    young segments are audited); without it every scan is full.
    """
    from monitoring.retention import check_retention

    cfg = config or load_config()
    rcfg = cfg.retention
    groups: dict[tuple[str, str, str], list[tuple[int, str]]] = {}
    nowhere: list[int] = []
    with _phase(target, write=False) as session:
        for camera in list_cameras(session, enabled_only=True):
            if not camera.store_path:
                nowhere.append(camera.id)
                continue
            key = (camera.store_path, camera.store_layout.value, camera.store_template)
            groups.setdefault(key, []).append((camera.id, camera.recording_name))
    outcomes: list[tuple[int, CameraReport | None, RetentionReport | None, str]] = [
        (cid, None, None, "no recording location configured") for cid in nowhere
    ]
    for (path, layout_name, template), cams in groups.items():
        digest = hashlib.sha256(f"{path}\0{template}".encode()).hexdigest()[:16]
        index_dir = state_dir / digest if state_dir is not None else None
        try:
            if index_dir is not None:
                index_dir.mkdir(parents=True, exist_ok=True)
            report = check_retention(
                Path(path),
                now,
                layout=_layout(layout_name, template, rcfg.template_zone),
                config=rcfg,
                state_dir=index_dir,
                cameras=[name for _, name in cams],
                parse=parse,
            )
        except Exception as exc:  # the library reports its own failures; this is a backstop
            log.warning("retention scan of %s failed: %s", path, type(exc).__name__)
            outcomes.extend((cid, None, None, f"scan failed: {exc}"[:300]) for cid, _ in cams)
            continue
        by_name = {c.camera: c for c in report.cameras}
        for cid, name in cams:
            rep = by_name.get(name)
            if report.status == "unknown" and (rep is None or rep.latest is None):
                outcomes.append((cid, None, report, "; ".join(report.reasons)))
            else:
                outcomes.append((cid, rep, report, ""))
    states = []
    with _phase(target, write=True) as session:
        for cid, rep, whole, reason in outcomes:
            camera = session.get(Camera, cid)
            if camera is not None:
                states.append(store_retention(session, camera, rep, whole, now, reason=reason))
    return states


# --- coverage -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CameraHealth:
    """A camera's health now: healthy only with a fresh, good probe."""

    id: int
    name: str
    url: str  # masked
    enabled: bool
    health: str  # healthy | unhealthy | unknown
    reason: str
    probed_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "id": self.id,
            "name": self.name,
            "url": self.url,
            "enabled": self.enabled,
            "health": self.health,
            "reason": self.reason,
            "probed_at": self.probed_at.isoformat() if self.probed_at else None,
        }


@dataclass(frozen=True)
class ZoneCoverage:
    """One zone's answer: covered or not, and the cameras behind it."""

    id: int
    name: str
    kind: str
    required: bool
    covered: bool
    status: str  # covered | uncovered | unknown (no healthy camera, some unknown)
    cameras: list[CameraHealth] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "required": self.required,
            "covered": self.covered,
            "status": self.status,
            "cameras": [c.to_dict() for c in self.cameras],
        }


@dataclass(frozen=True)
class Coverage:
    """Coverage of every zone, and the totals a director reads first."""

    at: datetime
    zones: list[ZoneCoverage]
    cameras: list[CameraHealth]

    @property
    def totals(self) -> dict[str, int]:
        """Counts of zones and cameras by their answer."""
        req = [z for z in self.zones if z.required]
        return {
            "zones": len(self.zones),
            "zones_covered": sum(z.covered for z in self.zones),
            "required_zones": len(req),
            "required_covered": sum(z.covered for z in req),
            "required_uncovered": sum(z.status == "uncovered" for z in req),
            "required_unknown": sum(z.status == "unknown" for z in req),
            "cameras": len(self.cameras),
            "healthy": sum(c.health == HEALTHY for c in self.cameras),
            "unhealthy": sum(c.health == UNHEALTHY for c in self.cameras),
            "unknown": sum(c.health == UNKNOWN for c in self.cameras),
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "at": self.at.isoformat(),
            "totals": self.totals,
            "zones": [z.to_dict() for z in self.zones],
            "cameras": [c.to_dict() for c in self.cameras],
        }


def camera_health(
    camera: Camera, state: ProbeState | None, now: datetime, config: HealthConfig
) -> CameraHealth:
    """A camera's health as of ``now`` from its latest stored probe."""
    base = {"id": camera.id, "name": camera.name, "url": camera.masked_url}
    if not camera.enabled:
        return CameraHealth(**base, enabled=False, health=UNKNOWN, reason="camera disabled",
                            probed_at=state.at if state else None)  # fmt: skip
    if state is None:
        return CameraHealth(
            **base, enabled=True, health=UNKNOWN, reason="never probed", probed_at=None
        )
    age = (_utc(now) - state.at).total_seconds()
    if age > config.probe_fresh_seconds:
        reason = (
            f"last probe {age:.0f} s ago, older than {config.probe_fresh_seconds:g} s "
            f"(was {state.health})"
        )
        return CameraHealth(**base, enabled=True, health=UNKNOWN, reason=reason, probed_at=state.at)
    if age < -config.probe_fresh_seconds:
        reason = "last probe is dated in the future (clock skew)"
        return CameraHealth(**base, enabled=True, health=UNKNOWN, reason=reason, probed_at=state.at)
    return CameraHealth(
        **base, enabled=True, health=state.health, reason=state.health_reason, probed_at=state.at
    )


def camera_healths(
    session: Session, now: datetime, config: HealthConfig | None = None
) -> dict[int, CameraHealth]:
    """Every camera's health now, by id."""
    cfg = config or load_config().health
    states = {s.camera_id: s for s in session.scalars(select(ProbeState))}
    return {c.id: camera_health(c, states.get(c.id), now, cfg) for c in list_cameras(session)}


def coverage(session: Session, now: datetime, config: HealthConfig | None = None) -> Coverage:
    """Per zone: covered when at least one of its cameras is healthy now; with totals."""
    healths = camera_healths(session, now, config)
    zones = []
    for zone in list_zones(session):
        cams = [healths[c.id] for c in zone.cameras]
        covered = any(c.health == HEALTHY for c in cams)
        if covered:
            status = "covered"
        elif any(c.health == UNKNOWN and c.enabled for c in cams):
            status = "unknown"
        else:
            status = "uncovered"
        zones.append(
            ZoneCoverage(
                id=zone.id,
                name=zone.name,
                kind=zone.kind.value,
                required=zone.required,
                covered=covered,
                status=status,
                cameras=cams,
            )
        )
    return Coverage(at=now, zones=zones, cameras=list(healths.values()))


def latest_retention(session: Session) -> dict[int, RetentionState]:
    """Every camera's stored retention proof, by camera id."""
    return {s.camera_id: s for s in session.scalars(select(RetentionState))}


def probe_history(session: Session, camera_id: int, limit: int = 50) -> list[ProbeHistory]:
    """A camera's recent probes, newest first."""
    stmt = (
        select(ProbeHistory)
        .where(ProbeHistory.camera_id == camera_id)
        .order_by(ProbeHistory.at.desc(), ProbeHistory.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def retention_calendar(
    state: RetentionState | None, now: datetime, zone: str, days: int
) -> list[dict[str, Any]]:
    """The last ``days`` local days, oldest first: date and percent (None when unknown)."""
    from zoneinfo import ZoneInfo

    today = now.astimezone(ZoneInfo(zone)).date()
    known = state.days if state is not None else {}
    out = []
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        pct = known.get(day.isoformat())
        out.append({"date": day.isoformat(), "percent": pct, "weekday": day.isoweekday()})
    return out


__all__ = [
    "CameraHealth",
    "Coverage",
    "ZoneCoverage",
    "camera_health",
    "camera_healths",
    "coverage",
    "latest_retention",
    "mask_url",
    "probe_cameras",
    "probe_history",
    "retention_calendar",
    "scan_retention",
    "store_probe",
    "store_retention",
]
