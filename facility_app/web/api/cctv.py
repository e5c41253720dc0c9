"""CCTV: zone coverage, cameras with their health and recordings proof, and the registry.

Stream addresses are write-only: answers carry them with user:password masked.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from facility_app.accounts.permissions import Perm
from facility_app.audit.service import changed_fields, record
from monitoring import registry
from monitoring.compliance import (
    coverage_finding,
    forecast_finding,
    health_finding,
    retention_finding,
)
from monitoring.config import load_config
from monitoring.models import Camera, ProbeState, StoreLayout, Zone, ZoneKind
from monitoring.service import (
    camera_healths,
    coverage,
    latest_retention,
    retention_calendar,
)

from ..auth import current_actor, facility, now
from ..extensions import db
from .registry import id_rule, operation
from .schemas import Id, In, LocalDateTime, Name, Out, Patch, keep, text

log = logging.getLogger(__name__)

TAG = "cctv"
StreamUrl = text(500, 1)


class HealthOut(Out):
    """A camera's health now and why."""

    health: str = Field(description="healthy, unhealthy or unknown (never probed, stale, failed)")
    reason: str
    probed_at: LocalDateTime | None


class CameraOut(Out):
    """A registered camera (stream address masked) with its health now."""

    id: int
    name: str
    stream_url: str = Field(description="user:password masked")
    nvr_channel: str
    store_path: str
    store_layout: StoreLayout
    store_template: str
    store_camera: str
    enabled: bool
    zone_ids: list[int]
    health: HealthOut
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    image_status: str | None = None
    retention_status: str | None = None


class CameraList(Out):
    """Every camera."""

    items: list[CameraOut]


class ZoneCameraOut(Out):
    """A camera behind a zone's answer."""

    id: int
    name: str
    health: str
    reason: str


class ZoneOut(Out):
    """A zone and whether it is covered now."""

    id: int
    name: str
    kind: ZoneKind
    required: bool
    covered: bool
    status: str = Field(description="covered, uncovered, or unknown (cameras not checked)")
    cameras: list[ZoneCameraOut]


class CoverageOut(Out):
    """Coverage of every zone and the totals."""

    totals: dict[str, int]
    zones: list[ZoneOut]


class DayOut(Out):
    """Coverage of one local day in percent (null: no scan data)."""

    date: str
    percent: float | None


class GapOut(Out):
    """A hole in the recordings."""

    start: datetime
    end: datetime
    seconds: float


class RetentionOut(Out):
    """A camera's recordings proof: the calendar, the gaps, deletions and the forecast."""

    camera_id: int
    status: str
    reasons: list[str]
    scanned_at: LocalDateTime | None
    earliest: LocalDateTime | None
    latest: LocalDateTime | None
    unbroken_since: LocalDateTime | None
    unbroken_days: float
    fresh: bool
    required_days: int
    days: list[DayOut]
    gaps: list[GapOut]
    bad_segments: int
    deletions: list[dict[str, Any]]
    forecast: dict[str, Any] | None


class FindingOut(Out):
    """One compliance finding."""

    rule: str
    status: str
    value: Any
    threshold: Any
    evidence: dict[str, Any]
    message: str


class FindingList(Out):
    """The four CCTV findings."""

    items: list[FindingOut]


IdList = Annotated[list[Id], Field(max_length=200)]


class CameraIn(In):
    """A new camera."""

    name: Name
    stream_url: StreamUrl  # type: ignore[valid-type]
    nvr_channel: text(40) = ""  # type: ignore[valid-type]
    store_path: text(500) = ""  # type: ignore[valid-type]
    store_layout: StoreLayout = StoreLayout.FRIGATE
    store_template: text(200) = ""  # type: ignore[valid-type]
    store_camera: text(60) = ""  # type: ignore[valid-type]
    enabled: bool = True
    zone_ids: IdList = []


class CameraPatch(Patch):
    """Camera fields to change; a new stream address replaces the old one."""

    name: keep(Name) = None
    stream_url: keep(StreamUrl) = None
    nvr_channel: keep(text(40)) = None
    store_path: keep(text(500)) = None
    store_layout: keep(StoreLayout) = None
    store_template: keep(text(200)) = None
    store_camera: keep(text(60)) = None
    enabled: keep(bool) = None
    zone_ids: keep(IdList) = None


class ZoneIn(In):
    """A new zone."""

    name: Name
    kind: ZoneKind
    required: bool = True
    class_id: Id | None = None
    camera_ids: IdList = []


class ZonePatch(Patch):
    """Zone fields to change; class_id may be set to null."""

    name: keep(Name) = None
    kind: keep(ZoneKind) = None
    required: keep(bool) = None
    class_id: Id | None = None
    camera_ids: keep(IdList) = None


def _camera_out(cam: Camera) -> CameraOut:
    health = camera_healths(db.session, now(), load_config().health)[cam.id]
    state = db.session.get(ProbeState, cam.id)
    ret = latest_retention(db.session).get(cam.id)
    return CameraOut(
        id=cam.id,
        name=cam.name,
        stream_url=cam.masked_url,
        nvr_channel=cam.nvr_channel,
        store_path=cam.store_path,
        store_layout=cam.store_layout,
        store_template=cam.store_template,
        store_camera=cam.store_camera,
        enabled=cam.enabled,
        zone_ids=[z.id for z in cam.zones],
        health=HealthOut(health=health.health, reason=health.reason, probed_at=health.probed_at),
        fps=state.fps if state else None,
        width=state.width if state else None,
        height=state.height if state else None,
        image_status=state.image_status if state else None,
        retention_status=ret.status if ret else None,
    )


def _audit(action: str, entity: str, obj: Any, before: dict | None, after: dict) -> None:
    record(
        db.session,
        at=now(),
        user_id=current_actor().user_id,
        action=action,
        entity=entity,
        entity_id=obj.id,
        before=before,
        after=changed_fields(before, after) if before else after,
    )


@operation(
    "GET",
    "/cctv/coverage",
    summary="Zone coverage now",
    tag=TAG,
    perm=Perm.CCTV_VIEW,
    response=CoverageOut,
    description="A zone is covered when at least one of its cameras is healthy now: its "
    "latest probe succeeded, the picture is normal, and the probe is recent.",
)
def cctv_coverage() -> CoverageOut:
    """Every zone with its answer and the cameras behind it, and the totals."""
    cov = coverage(db.session, now(), load_config().health)
    return CoverageOut(
        totals=cov.totals,
        zones=[
            ZoneOut(
                id=z.id,
                name=z.name,
                kind=ZoneKind(z.kind),
                required=z.required,
                covered=z.covered,
                status=z.status,
                cameras=[
                    ZoneCameraOut(id=c.id, name=c.name, health=c.health, reason=c.reason)
                    for c in z.cameras
                ],
            )
            for z in cov.zones
        ],
    )


@operation(
    "GET",
    "/cctv/findings",
    summary="The CCTV compliance findings",
    tag=TAG,
    perm=Perm.CCTV_VIEW,
    response=FindingList,
)
def cctv_findings() -> FindingList:
    """Coverage, camera health, retention and the storage forecast, from stored results."""
    at, cfg = now(), load_config()
    items = []
    for rule, fn in (
        ("cctv.coverage", coverage_finding),
        ("cctv.health", health_finding),
        ("cctv.retention", retention_finding),
        ("cctv.retention_forecast", forecast_finding),
    ):
        f = fn(db.session, at, cfg)
        items.append(FindingOut(rule=rule, **f.to_dict()))
    return FindingList(items=items)


@operation(
    "GET", "/cctv/cameras", summary="Cameras", tag=TAG, perm=Perm.CCTV_VIEW, response=CameraList
)
def list_cameras() -> CameraList:
    """Every camera with its health now (stream addresses masked)."""
    return CameraList(items=[_camera_out(c) for c in registry.list_cameras(db.session)])


@operation(
    "GET",
    f"/cctv/cameras/{id_rule('camera_id')}",
    summary="A camera",
    tag=TAG,
    perm=Perm.CCTV_VIEW,
    response=CameraOut,
)
def get_camera(camera_id: int) -> CameraOut:
    """A camera with its health, rate, size, picture verdict and recordings status."""
    return _camera_out(registry.get_camera(db.session, camera_id))


@operation(
    "GET",
    f"/cctv/cameras/{id_rule('camera_id')}/retention",
    summary="A camera's recordings proof",
    tag=TAG,
    perm=Perm.CCTV_VIEW,
    response=RetentionOut,
)
def get_retention(camera_id: int) -> RetentionOut:
    """Coverage per local day for the required days, gaps, deletions and the forecast."""
    cam = registry.get_camera(db.session, camera_id)
    cfg = load_config().retention
    state = latest_retention(db.session).get(cam.id)
    days = retention_calendar(state, now(), facility().timezone, cfg.required_days)
    return RetentionOut(
        camera_id=cam.id,
        status=state.status if state else "unknown",
        reasons=state.reasons if state else ["never scanned"],
        scanned_at=state.at if state else None,
        earliest=state.earliest if state else None,
        latest=state.latest if state else None,
        unbroken_since=state.unbroken_since if state else None,
        unbroken_days=round(state.unbroken_days, 3) if state else 0.0,
        fresh=state.fresh if state else False,
        required_days=cfg.required_days,
        days=[DayOut(date=d["date"], percent=d["percent"]) for d in days],
        gaps=[GapOut(**g) for g in state.gaps] if state else [],
        bad_segments=len(state.bad_segments) if state else 0,
        deletions=state.deletions if state else [],
        forecast=state.forecast if state else None,
    )


@operation(
    "POST",
    "/cctv/cameras",
    summary="Register a camera",
    tag=TAG,
    perm=Perm.CCTV_WRITE,
    body=CameraIn,
    response=CameraOut,
    status=201,
)
def create_camera(body: CameraIn) -> CameraOut:
    """The stream address must be rtsp, rtsps, http, https, file or a file path."""
    cam = registry.save_camera(db.session, **body.model_dump())
    _audit("create", "camera", cam, None, registry.camera_snapshot(cam))
    return _camera_out(cam)


@operation(
    "PATCH",
    f"/cctv/cameras/{id_rule('camera_id')}",
    summary="Change a camera",
    tag=TAG,
    perm=Perm.CCTV_WRITE,
    body=CameraPatch,
    response=CameraOut,
)
def patch_camera(camera_id: int, body: CameraPatch) -> CameraOut:
    """Fields left out keep their value; the stream address is kept unless sent."""
    cam = registry.get_camera(db.session, camera_id)
    before = registry.camera_snapshot(cam)
    values = {
        "name": cam.name,
        "stream_url": None,
        "nvr_channel": cam.nvr_channel,
        "store_path": cam.store_path,
        "store_layout": cam.store_layout,
        "store_template": cam.store_template,
        "store_camera": cam.store_camera,
        "enabled": cam.enabled,
        "zone_ids": [z.id for z in cam.zones],
    } | body.changes()
    cam = registry.save_camera(db.session, camera_id=cam.id, **values)
    _audit("update", "camera", cam, before, registry.camera_snapshot(cam))
    return _camera_out(cam)


def _zone_out(zone: Zone) -> ZoneOut:
    found = next(
        z for z in coverage(db.session, now(), load_config().health).zones if z.id == zone.id
    )
    return ZoneOut(
        id=found.id,
        name=found.name,
        kind=ZoneKind(found.kind),
        required=found.required,
        covered=found.covered,
        status=found.status,
        cameras=[
            ZoneCameraOut(id=c.id, name=c.name, health=c.health, reason=c.reason)
            for c in found.cameras
        ],
    )


@operation(
    "POST",
    "/cctv/zones",
    summary="Register a zone",
    tag=TAG,
    perm=Perm.CCTV_WRITE,
    body=ZoneIn,
    response=ZoneOut,
    status=201,
)
def create_zone(body: ZoneIn) -> ZoneOut:
    """Kinds: entrance, activity_room, sleeping_room, dining, outdoor_play, kitchen,
    corridor, other."""
    zone = registry.save_zone(db.session, **body.model_dump())
    _audit("create", "zone", zone, None, registry.zone_snapshot(zone))
    return _zone_out(zone)


@operation(
    "PATCH",
    f"/cctv/zones/{id_rule('zone_id')}",
    summary="Change a zone",
    tag=TAG,
    perm=Perm.CCTV_WRITE,
    body=ZonePatch,
    response=ZoneOut,
)
def patch_zone(zone_id: int, body: ZonePatch) -> ZoneOut:
    """Fields left out keep their value."""
    zone = registry.get_zone(db.session, zone_id)
    before = registry.zone_snapshot(zone)
    values = {
        "name": zone.name,
        "kind": zone.kind,
        "required": zone.required,
        "class_id": zone.class_id,
        "camera_ids": None,
    } | body.changes()
    zone = registry.save_zone(db.session, zone_id=zone.id, **values)
    _audit("update", "zone", zone, before, registry.zone_snapshot(zone))
    return _zone_out(zone)
