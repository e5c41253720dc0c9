"""CCTV pages: cameras with their latest frame and health, zone coverage, the 90-day
retention calendar, and the director's forms for cameras and zones."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from carewatch.errors import DomainError
from facility_app.accounts.permissions import Perm
from facility_app.audit.service import changed_fields, record
from facility_app.facility.service import visible_classes
from monitoring import registry
from monitoring.config import load_config
from monitoring.models import Camera, ProbeState, StoreLayout, Zone, ZoneKind
from monitoring.service import (
    camera_healths,
    coverage,
    enrol_latest_view,
    latest_retention,
    probe_history,
    retention_calendar,
)

from .auth import current_actor, facility, now, require
from .cctv_picture import picture_badge, picture_label, picture_reason
from .extensions import db
from .forms import checkbox, error_message, id_list, or_404, refuse_form, show_form, text
from .templating import local_datetime

log = logging.getLogger(__name__)

bp = Blueprint("cctv", __name__, url_prefix="/cctv")

ZONE_KINDS: dict[str, Any] = {
    ZoneKind.ENTRANCE.value: _l("Entrance or exit"),
    ZoneKind.ACTIVITY_ROOM.value: _l("Activity room"),
    ZoneKind.SLEEPING_ROOM.value: _l("Sleeping room"),
    ZoneKind.DINING.value: _l("Dining area"),
    ZoneKind.OUTDOOR_PLAY.value: _l("Outdoor play area"),
    ZoneKind.KITCHEN.value: _l("Kitchen"),
    ZoneKind.CORRIDOR.value: _l("Corridor"),
    ZoneKind.OTHER.value: _l("Other area"),
}
STATES: dict[str, Any] = {
    "healthy": _l("Healthy"),
    "unhealthy": _l("Not healthy"),
    "unknown": _l("Unknown"),
    "covered": _l("Covered"),
    "uncovered": _l("Not covered"),
    "pass": _l("Proven"),
    "warn": _l("Warning"),
    "fail": _l("Not proven"),
    "ok": _l("Stream OK"),
    "failed": _l("Stream failed"),
}
BADGE = {
    "healthy": "badge-ok",
    "covered": "badge-ok",
    "pass": "badge-ok",
    "ok": "badge-ok",
    "warn": "badge-warn",
    "unknown": "badge-muted",
}


def _when(value: str | None) -> str:
    """An ISO 8601 instant from a stored report, in the facility's zone."""
    return local_datetime(datetime.fromisoformat(value)) if value else "—"


def _labels() -> dict[str, Any]:
    return {
        "when": _when,
        "kind_label": lambda k: str(ZONE_KINDS.get(getattr(k, "value", k), k)),
        "state_label": lambda s: str(STATES.get(s, s)),
        "badge": lambda s: BADGE.get(s, "badge-bad"),
        "picture_reason": picture_reason,
        "picture_badge": picture_badge,
        "picture_label": picture_label,
    }


def _audit(action: str, entity: str, obj: Any, before: dict | None, after: dict) -> None:
    """Record a change with the masked snapshot (never the URL's credentials)."""
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


@bp.get("/")
@require(Perm.CCTV_VIEW)
def index():  # type: ignore[no-untyped-def]
    """Every camera with its thumbnail, health and reason, and the coverage totals."""
    at, cfg = now(), load_config()
    cov = coverage(db.session, at, cfg.health)
    cameras = registry.list_cameras(db.session)
    states = {s.camera_id: s for s in db.session.query(ProbeState)}
    healths = {c.id: c for c in cov.cameras}
    return render_template(
        "cctv/index.html",
        cov=cov,
        cameras=cameras,
        healths=healths,
        states=states,
        retention=latest_retention(db.session),
        **_labels(),
    )


@bp.get("/zones")
@require(Perm.CCTV_VIEW)
def zones():  # type: ignore[no-untyped-def]
    """Coverage per zone, with the cameras behind each answer."""
    cov = coverage(db.session, now(), load_config().health)
    return render_template("cctv/zones.html", cov=cov, **_labels())


def _camera(camera_id: int) -> Camera:
    return or_404(registry.get_camera, db.session, camera_id)


@bp.get("/cameras/<int:camera_id>")
@require(Perm.CCTV_VIEW)
def camera(camera_id: int):  # type: ignore[no-untyped-def]
    """A camera: latest frame, stream and picture status with the reason, recent probes."""
    cam = _camera(camera_id)
    cfg = load_config()
    health = camera_healths(db.session, now(), cfg.health)[cam.id]
    return render_template(
        "cctv/camera.html",
        camera=cam,
        health=health,
        state=db.session.get(ProbeState, cam.id),
        history=probe_history(db.session, cam.id, 20),
        retention=latest_retention(db.session).get(cam.id),
        **_labels(),
    )


@bp.get("/cameras/<int:camera_id>/thumbnail.jpg")
@require(Perm.CCTV_VIEW)
def thumbnail(camera_id: int):  # type: ignore[no-untyped-def]
    """The latest frame of a camera as a small JPEG (404 when none was captured)."""
    state = db.session.get(ProbeState, _camera(camera_id).id)
    if state is None or not state.thumbnail:
        abort(404)
    return Response(
        state.thumbnail, mimetype="image/jpeg", headers={"Cache-Control": "private, max-age=60"}
    )


@bp.get("/cameras/<int:camera_id>/retention")
@require(Perm.CCTV_VIEW)
def retention(camera_id: int):  # type: ignore[no-untyped-def]
    """The 90-day calendar of a camera's recordings: one square per day, gaps listed."""
    cam = _camera(camera_id)
    cfg = load_config().retention
    state = latest_retention(db.session).get(cam.id)
    days = retention_calendar(state, now(), facility().timezone, cfg.required_days)
    lead = (days[0]["weekday"] - 1) if days else 0
    return render_template(
        "cctv/retention.html",
        camera=cam,
        state=state,
        days=days,
        lead=lead,
        required_days=cfg.required_days,
        **_labels(),
    )


@bp.post("/cameras/<int:camera_id>/enrol")
@require(Perm.CCTV_WRITE)
def enrol(camera_id: int):  # type: ignore[no-untyped-def]
    """Take the latest healthy frame as the reference view for the moved-view check."""
    cam = _camera(camera_id)
    before = registry.camera_snapshot(cam)
    try:
        enrol_latest_view(db.session, cam, now())
        _audit("update", "camera", cam, before, registry.camera_snapshot(cam))
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        flash(error_message(err), "error")
        return redirect(url_for("cctv.camera", camera_id=cam.id), code=303)
    flash(_("Reference view saved."), "success")
    return redirect(url_for("cctv.camera", camera_id=cam.id), code=303)


# --- the director's forms ------------------------------------------------------------------


def _camera_context(cam: Camera | None) -> dict[str, Any]:
    return {
        "camera": cam,
        "layouts": [(x.value, x.value) for x in StoreLayout],
        "zone_options": [(z.id, z.name) for z in registry.list_zones(db.session)],
        **_labels(),
    }


def _camera_form(cam: Camera | None):  # type: ignore[no-untyped-def]
    context = _camera_context(cam)
    if request.method == "GET":
        values: MultiDict[str, str] = MultiDict({"store_layout": "frigate", "enabled": "1"})
        if cam is not None:
            values = MultiDict(
                [
                    ("name", cam.name),
                    ("nvr_channel", cam.nvr_channel),
                    ("store_path", cam.store_path),
                    ("store_layout", cam.store_layout.value),
                    ("store_template", cam.store_template),
                    ("store_camera", cam.store_camera),
                    ("enabled", "1" if cam.enabled else ""),
                    *[("zone_ids", str(z.id)) for z in cam.zones],
                ]
            )
        return show_form("cctv/camera_form.html", values=values, **context)
    form = request.form
    before = registry.camera_snapshot(cam) if cam is not None else None
    try:
        saved = registry.save_camera(
            db.session,
            camera_id=cam.id if cam else None,
            name=text(form, "name"),
            stream_url=form.get("stream_url", ""),
            nvr_channel=text(form, "nvr_channel"),
            store_path=text(form, "store_path"),
            store_layout=form.get("store_layout", ""),
            store_template=text(form, "store_template"),
            store_camera=text(form, "store_camera"),
            enabled=checkbox(form, "enabled"),
            zone_ids=id_list(form, "zone_ids"),
        )
        _audit(
            "update" if cam else "create", "camera", saved, before, registry.camera_snapshot(saved)
        )
        db.session.commit()
    except DomainError as err:
        return refuse_form("cctv/camera_form.html", err, **context)
    flash(_("Camera saved."), "success")
    return redirect(url_for("cctv.camera", camera_id=saved.id), code=303)


@bp.route("/cameras/new", methods=["GET", "POST"])
@require(Perm.CCTV_WRITE)
def camera_new():  # type: ignore[no-untyped-def]
    """Register a camera."""
    return _camera_form(None)


@bp.route("/cameras/<int:camera_id>/edit", methods=["GET", "POST"])
@require(Perm.CCTV_WRITE)
def camera_edit(camera_id: int):  # type: ignore[no-untyped-def]
    """Change a camera; the stream address is write-only (left empty, it is kept)."""
    return _camera_form(_camera(camera_id))


def _zone_context(zone: Zone | None) -> dict[str, Any]:
    rooms = visible_classes(db.session, facility(), current_actor())
    return {
        "zone": zone,
        "kinds": [(k, str(v)) for k, v in ZONE_KINDS.items()],
        "class_options": [(r.id, r.name) for r in rooms],
        "camera_options": [(c.id, c.name) for c in registry.list_cameras(db.session)],
        **_labels(),
    }


def _optional_id(form: MultiDict[str, str], name: str) -> int | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise DomainError("invalid_choice", "Choose one of the options.", field=name) from None


def _zone_form(zone: Zone | None):  # type: ignore[no-untyped-def]
    context = _zone_context(zone)
    if request.method == "GET":
        values: MultiDict[str, str] = MultiDict(
            {"kind": ZoneKind.ACTIVITY_ROOM.value, "required": "1"}
        )
        if zone is not None:
            values = MultiDict(
                [
                    ("name", zone.name),
                    ("kind", zone.kind.value),
                    ("required", "1" if zone.required else ""),
                    ("class_id", str(zone.class_id or "")),
                    *[("camera_ids", str(c.id)) for c in zone.cameras],
                ]
            )
        return show_form("cctv/zone_form.html", values=values, **context)
    form = request.form
    before = registry.zone_snapshot(zone) if zone is not None else None
    try:
        saved = registry.save_zone(
            db.session,
            zone_id=zone.id if zone else None,
            name=text(form, "name"),
            kind=form.get("kind", ""),
            required=checkbox(form, "required"),
            class_id=_optional_id(form, "class_id"),
            camera_ids=id_list(form, "camera_ids"),
        )
        _audit("update" if zone else "create", "zone", saved, before, registry.zone_snapshot(saved))
        db.session.commit()
    except DomainError as err:
        return refuse_form("cctv/zone_form.html", err, **context)
    flash(_("Zone saved."), "success")
    return redirect(url_for("cctv.zones"), code=303)


@bp.route("/zones/new", methods=["GET", "POST"])
@require(Perm.CCTV_WRITE)
def zone_new():  # type: ignore[no-untyped-def]
    """Register a zone."""
    return _zone_form(None)


@bp.route("/zones/<int:zone_id>/edit", methods=["GET", "POST"])
@require(Perm.CCTV_WRITE)
def zone_edit(zone_id: int):  # type: ignore[no-untyped-def]
    """Change a zone: name, kind, required, class and cameras."""
    return _zone_form(or_404(registry.get_zone, db.session, zone_id))
