"""The camera and zone registry: validated adds and edits, lookups (never commits)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carewatch import validate
from carewatch.errors import Conflict, DomainError, NotFound
from monitoring.models import Camera, StoreLayout, Zone, ZoneKind
from monitoring.urls import mask_url, url_problem

log = logging.getLogger(__name__)

_UNSET = object()


def list_cameras(session: Session, *, enabled_only: bool = False) -> list[Camera]:
    """Every camera by name (only enabled ones when asked)."""
    stmt = select(Camera).order_by(Camera.name)
    if enabled_only:
        stmt = stmt.where(Camera.enabled.is_(True))
    return list(session.scalars(stmt))


def list_zones(session: Session) -> list[Zone]:
    """Every zone, required ones first, then by name."""
    return list(session.scalars(select(Zone).order_by(Zone.required.desc(), Zone.name)))


def get_camera(session: Session, camera_id: int) -> Camera:
    """A camera by id, else NotFound."""
    camera = session.get(Camera, camera_id)
    if camera is None:
        raise NotFound("camera_not_found", "No such camera.")
    return camera


def get_zone(session: Session, zone_id: int) -> Zone:
    """A zone by id, else NotFound."""
    zone = session.get(Zone, zone_id)
    if zone is None:
        raise NotFound("zone_not_found", "No such zone.")
    return zone


def _unique(session: Session, model: type, name: str, own_id: int | None) -> None:
    stmt = select(func.count()).select_from(model).where(model.name == name)
    if own_id is not None:
        stmt = stmt.where(model.id != own_id)
    if session.scalar(stmt):
        raise Conflict(
            "duplicate_name", "The name %(name)s is already used.", field="name", name=name
        )


def _zone_kind(value: str | ZoneKind) -> ZoneKind:
    try:
        return ZoneKind(value)
    except ValueError:
        raise DomainError(
            "invalid_zone_kind", "Choose one of the zone kinds.", field="kind"
        ) from None


def _stream_url(value: str) -> str:
    url = validate.text(value, field="stream_url", limit=500, required=True)
    problem = url_problem(url)
    if problem is not None:
        raise DomainError(
            "invalid_stream_url",
            "Give an rtsp://, rtsps://, http://, https:// or file:// address, or a file path.",
            field="stream_url",
        )
    return url


def _layout(layout: str | StoreLayout, template: str) -> tuple[StoreLayout, str]:
    try:
        lay = StoreLayout(layout)
    except ValueError:
        raise DomainError(
            "invalid_layout", "Choose one of the store layouts.", field="store_layout"
        ) from None
    template = validate.text(template, field="store_template", limit=200)
    if lay is StoreLayout.TEMPLATE:
        from monitoring.retention.layout import TemplateLayout

        try:
            TemplateLayout(template)
        except ValueError:
            raise DomainError(
                "invalid_template",
                "The path template needs {camera}, the year, month, day, hour and minute.",
                field="store_template",
            ) from None
    return lay, template


def _zones(session: Session, zone_ids: Sequence[int]) -> list[Zone]:
    zones = []
    for zid in sorted(set(zone_ids)):
        zone = session.get(Zone, zid)
        if zone is None:
            raise DomainError("zone_not_found", "No such zone.", field="zone_ids")
        zones.append(zone)
    return zones


def _class_id(session: Session, class_id: int | None) -> int | None:
    if class_id is None:
        return None
    # The class table belongs to the web app; ask for the row by name, not by model.
    from sqlalchemy import text

    found = session.execute(text("SELECT id FROM class_room WHERE id = :i"), {"i": class_id})
    if found.first() is None:
        raise DomainError("class_not_found", "No such class.", field="class_id")
    return class_id


def save_camera(
    session: Session,
    *,
    camera_id: int | None = None,
    name: str,
    stream_url: str | None,
    nvr_channel: str = "",
    store_path: str = "",
    store_layout: str | StoreLayout = StoreLayout.FRIGATE,
    store_template: str = "",
    store_camera: str = "",
    enabled: bool = True,
    zone_ids: Sequence[int] = (),
) -> Camera:
    """Add a camera, or change one; ``stream_url`` None (or empty) on an edit keeps the URL.

    The URL is write-only for people: it is stored as given and shown only masked.
    """
    camera = get_camera(session, camera_id) if camera_id is not None else None
    name = validate.text(name, field="name", limit=60, required=True)
    _unique(session, Camera, name, camera_id)
    if camera is not None and not (stream_url or "").strip():
        url = camera.stream_url
    else:
        url = _stream_url(stream_url or "")
    lay, template = _layout(store_layout, store_template)
    values = {
        "name": name,
        "stream_url": url,
        "nvr_channel": validate.text(nvr_channel, field="nvr_channel", limit=40),
        "store_path": validate.text(store_path, field="store_path", limit=500),
        "store_layout": lay,
        "store_template": template,
        "store_camera": validate.text(store_camera, field="store_camera", limit=60),
        "enabled": bool(enabled),
    }
    zones = _zones(session, zone_ids)
    if camera is None:
        camera = Camera(**values)
        session.add(camera)
    else:
        for key, value in values.items():
            setattr(camera, key, value)
    camera.zones = zones
    session.flush()
    log.info("camera %s saved (%s)", camera.id, mask_url(url))
    return camera


def save_zone(
    session: Session,
    *,
    zone_id: int | None = None,
    name: str,
    kind: str | ZoneKind,
    required: bool = True,
    class_id: int | None = None,
    camera_ids: Sequence[int] | None = None,
) -> Zone:
    """Add a zone, or change one; ``camera_ids`` None keeps its cameras."""
    zone = get_zone(session, zone_id) if zone_id is not None else None
    name = validate.text(name, field="name", limit=60, required=True)
    kind_ = _zone_kind(kind)
    _unique(session, Zone, name, zone_id)
    cls = _class_id(session, class_id)
    cameras = None
    if camera_ids is not None:
        cameras = []
        for cid in sorted(set(camera_ids)):
            cam = session.get(Camera, cid)
            if cam is None:
                raise DomainError("camera_not_found", "No such camera.", field="camera_ids")
            cameras.append(cam)
    if zone is None:
        zone = Zone(name=name, kind=kind_, required=bool(required), class_id=cls)
        session.add(zone)
    else:
        zone.name, zone.kind, zone.required, zone.class_id = name, kind_, bool(required), cls
    if cameras is not None:
        zone.cameras = cameras
    session.flush()
    log.info("zone %s saved", zone.id)
    return zone


def enrol_reference(session: Session, camera: Camera, jpeg: bytes, now: datetime) -> Camera:
    """Store the camera's reference view (a JPEG) for the moved-view check."""
    if not jpeg.startswith(b"\xff\xd8"):
        raise DomainError("invalid_image", "The reference frame must be a JPEG image.")
    camera.reference_frame, camera.reference_at = jpeg, now
    session.flush()
    return camera


def camera_snapshot(camera: Camera) -> dict[str, object]:
    """The camera's fields for the audit log: the URL masked, no frame bytes."""
    return {
        "name": camera.name,
        "stream_url": camera.masked_url,
        "nvr_channel": camera.nvr_channel,
        "store_path": camera.store_path,
        "store_layout": camera.store_layout.value,
        "store_template": camera.store_template,
        "store_camera": camera.store_camera,
        "enabled": camera.enabled,
        "zone_ids": [z.id for z in camera.zones],
        "reference_at": camera.reference_at.isoformat() if camera.reference_at else None,
    }


def zone_snapshot(zone: Zone) -> dict[str, object]:
    """The zone's fields for the audit log."""
    return {
        "name": zone.name,
        "kind": zone.kind.value,
        "required": zone.required,
        "class_id": zone.class_id,
        "camera_ids": [c.id for c in zone.cameras],
    }
