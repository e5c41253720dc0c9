"""CCTV pages and API: cameras, coverage, the retention calendar, the director's forms."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from facility_app.accounts.models import Role
from facility_app.audit.models import AuditEntry
from monitoring import registry
from monitoring.config import MonitoringConfig
from monitoring.models import Camera, RetentionState, Zone
from monitoring.probe import ProbeResult
from monitoring.service import store_probe
from tests.conftest import T0
from tests.integration.test_api_support import ApiClient, error_code, row_counts

SECRET = "s3cr3t-pw"


def _setup(session, room_id: int):  # type: ignore[no-untyped-def]
    """A door camera (healthy, with a frame) and a yard camera (failed); the yard's zone is
    required and so not covered; the door camera has a retention proof with one gap."""
    import numpy as np

    door_zone = registry.save_zone(session, name="大门", kind="entrance", class_id=room_id)
    yard_zone = registry.save_zone(session, name="户外活动区", kind="outdoor_play")
    door = registry.save_camera(session, name="door", zone_ids=[door_zone.id],
                                stream_url=f"rtsp://admin:{SECRET}@127.0.0.1:9/door")  # fmt: skip
    yard = registry.save_camera(session, name="yard", zone_ids=[yard_zone.id],
                                stream_url=f"rtsp://admin:{SECRET}@127.0.0.1:9/yard")  # fmt: skip
    frame = np.full((360, 640, 3), 128, np.uint8)
    ok = ProbeResult(url="x", status="ok", reason="25 frames, 640x360 at 10.0 fps",
                     width=640, height=360, fps=10.0, frames=[frame])  # fmt: skip
    store_probe(session, door, ok, None, T0 - timedelta(minutes=1), MonitoringConfig())
    failed = ProbeResult(url="x", status="failed", reason="no answer within the open timeout")
    store_probe(session, yard, failed, None, T0 - timedelta(minutes=1), MonitoringConfig())
    days = {f"2026-03-{d:02d}": 100.0 for d in range(1, 11)} | {"2026-03-05": 75.0}
    session.add(
        RetentionState(
            camera_id=door.id,
            at=T0,
            status="fail",
            reasons=["unbroken coverage 4.79 days"],
            unbroken_days=4.79,
            fresh=True,
            days=days,
            gaps=[
                {
                    "start": "2026-03-05T00:00:00+00:00",
                    "end": "2026-03-05T06:00:00+00:00",
                    "seconds": 21600.0,
                }
            ],
        )
    )
    session.commit()
    return door, yard, door_zone, yard_zone


def test_pages_show_status_reason_thumbnail_and_never_the_password(client, auth, world, session):
    door, yard, _, _ = _setup(session, world.room_a.id)
    auth.login(world.users[Role.DIRECTOR])
    index = client.get("/cctv/")
    body = index.get_data(as_text=True)
    assert index.status_code == 200
    assert f'data-camera-id="{door.id}"' in body and "no answer within the open timeout" in body
    assert 'id="required-covered">1 / 2<' in body
    page = client.get(f"/cctv/cameras/{door.id}").get_data(as_text=True)
    assert "rtsp://***@127.0.0.1:9/door" in page and "thumbnail.jpg" in page
    thumb = client.get(f"/cctv/cameras/{door.id}/thumbnail.jpg")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert thumb.data[:2] == b"\xff\xd8"
    assert client.get(f"/cctv/cameras/{yard.id}/thumbnail.jpg").status_code == 404
    zones = client.get("/cctv/zones").get_data(as_text=True)
    assert "户外活动区" in zones and "Not covered" in zones and "Covered" in zones
    cal = client.get(f"/cctv/cameras/{door.id}/retention").get_data(as_text=True)
    assert 'data-date="2026-03-05" data-percent="75.0"' in cal
    assert cal.count('class="day full"') == 9
    assert cal.count('class="day nodata"') == 80  # 90 days, 10 of them scanned
    assert "6.0" in cal  # the gap's hours
    dash = client.get("/today").get_data(as_text=True)
    assert 'id="cctv-summary"' in dash and "1 of 2 required zones covered" in dash
    for url in ["/cctv/", f"/cctv/cameras/{door.id}", "/cctv/zones", "/today",
                f"/cctv/cameras/{door.id}/edit"]:  # fmt: skip
        assert SECRET not in client.get(url).get_data(as_text=True), url


def test_caregiver_and_health_officer_see_no_cameras(client, auth, world, session):
    door, *_ = _setup(session, world.room_a.id)
    for role in (Role.CAREGIVER, Role.HEALTH_OFFICER):
        auth.login(world.users[role])
        assert client.get(f"/cctv/cameras/{door.id}/thumbnail.jpg").status_code == 403
        auth.logout()
    auth.login(world.users[Role.REGULATOR])
    assert client.get("/cctv/zones").status_code == 200
    assert auth.post("/cctv/zones/new", {"name": "x", "kind": "other"}).status_code == 403


def test_director_adds_and_edits_a_camera_with_a_write_only_url(client, auth, world, session):
    zone = registry.save_zone(session, name="大门", kind="entrance")
    session.commit()
    auth.login(world.users[Role.DIRECTOR])
    form = {"name": "door", "stream_url": f"rtsp://admin:{SECRET}@10.0.0.5/ch1",
            "store_layout": "frigate", "enabled": "1", "zone_ids": [str(zone.id)],
            "nvr_channel": "ch01"}  # fmt: skip
    created = auth.post("/cctv/cameras/new", form)
    assert created.status_code == 303
    cam = session.scalars(select(Camera)).one()
    assert [z.id for z in cam.zones] == [zone.id]
    edit = client.get(f"/cctv/cameras/{cam.id}/edit").get_data(as_text=True)
    assert SECRET not in edit and "rtsp://***@10.0.0.5/ch1" in edit
    changed = auth.post(f"/cctv/cameras/{cam.id}/edit", form | {"stream_url": "", "name": "前门"})
    assert changed.status_code == 303
    session.rollback()  # end the test's read transaction to see the app's commits
    cam = session.get(Camera, cam.id)
    assert (cam.name, cam.stream_url) == ("前门", f"rtsp://admin:{SECRET}@10.0.0.5/ch1")
    audit = session.scalars(select(AuditEntry).where(AuditEntry.entity == "camera")).all()
    assert [a.action for a in audit] == ["create", "update"]
    assert audit[0].after["stream_url"] == "rtsp://***@10.0.0.5/ch1"
    assert audit[1].after == {"name": "前门"}
    assert SECRET not in str([(a.before, a.after) for a in audit])


def test_bad_form_input_is_refused_and_writes_nothing(client, auth, world, session):
    registry.save_zone(session, name="大门", kind="entrance")
    registry.save_camera(session, name="door", stream_url="rtsp://127.0.0.1/a")
    session.commit()
    auth.login(world.users[Role.DIRECTOR])
    cases = [
        ("/cctv/zones/new", {"name": "x", "kind": "garage"}, 422, "f-kind"),
        ("/cctv/zones/new", {"name": " ", "kind": "dining"}, 422, "f-name"),
        ("/cctv/zones/new", {"name": "大门", "kind": "dining"}, 409, "f-name"),
        ("/cctv/cameras/new", {"name": "c", "stream_url": "ftp://h/x"}, 422, "f-stream_url"),
        ("/cctv/cameras/new", {"name": "", "stream_url": "rtsp://h/x"}, 422, "f-name"),
        ("/cctv/cameras/new", {"name": "door", "stream_url": "rtsp://h/x"}, 409, "f-name"),
    ]
    for url, form, status, field in cases:
        before = row_counts(session)
        response = auth.post(url, form | {"store_layout": "frigate"})
        assert response.status_code == status, (url, form)
        page = response.get_data(as_text=True)
        assert f'id="{field}"' in page and 'aria-invalid="true"' in page, (url, form)
        assert row_counts(session) == before


def test_api_coverage_cameras_retention_and_findings(client, world, session):
    door, yard, *_ = _setup(session, world.room_a.id)
    api = ApiClient(client)
    api.login(world.users[Role.REGULATOR])
    cov = api.get("/cctv/coverage").get_json()
    assert cov["totals"]["required_covered"] == 1 and cov["totals"]["required_zones"] == 2
    assert [(z["name"], z["status"]) for z in cov["zones"]] == [
        ("大门", "covered"), ("户外活动区", "uncovered")
    ]  # fmt: skip
    cams = api.get("/cctv/cameras").get_json()["items"]
    assert [(c["name"], c["health"]["health"], c["stream_url"]) for c in cams] == [
        ("door", "healthy", "rtsp://***@127.0.0.1:9/door"),
        ("yard", "unhealthy", "rtsp://***@127.0.0.1:9/yard"),
    ]
    ret = api.get(f"/cctv/cameras/{door.id}/retention").get_json()
    assert ret["required_days"] == 90 and len(ret["days"]) == 90
    assert ret["days"][-1] == {"date": "2026-03-10", "percent": 100.0}
    assert ret["gaps"][0]["seconds"] == 21600.0
    none = api.get(f"/cctv/cameras/{yard.id}/retention").get_json()
    assert (none["status"], none["reasons"]) == ("unknown", ["never scanned"])
    findings = {f["rule"]: f for f in api.get("/cctv/findings").get_json()["items"]}
    assert findings["cctv.coverage"]["status"] == "fail"
    assert findings["cctv.health"]["status"] == "fail"
    assert findings["cctv.retention"]["status"] == "unknown"  # the yard was never scanned
    assert SECRET not in str(cov) + str(cams) + str(findings)


def test_api_writes_validate_and_audit(client, world, session):
    api = ApiClient(client)
    api.login(world.users[Role.DIRECTOR])
    made = api.post("/cctv/zones", {"name": "午睡室", "kind": "sleeping_room"})
    assert made.status_code == 201 and made.get_json()["status"] == "uncovered"
    zone_id = made.get_json()["id"]
    cam = api.post("/cctv/cameras", {"name": "nap", "stream_url": f"rtsp://u:{SECRET}@h/1",
                                     "zone_ids": [zone_id]})  # fmt: skip
    assert cam.status_code == 201, cam.get_json()
    body = cam.get_json()
    assert body["stream_url"] == "rtsp://***@h/1" and body["health"]["health"] == "unknown"
    patched = api.patch(f"/cctv/cameras/{body['id']}", {"nvr_channel": "ch09"})
    assert patched.status_code == 200 and patched.get_json()["nvr_channel"] == "ch09"
    assert session.get(Camera, body["id"]).stream_url == f"rtsp://u:{SECRET}@h/1"
    zp = api.patch(f"/cctv/zones/{zone_id}", {"required": False, "class_id": world.room_b.id})
    assert zp.status_code == 200 and zp.get_json()["required"] is False
    cases = [
        ("POST", "/cctv/zones", {"name": "x", "kind": "garage"}, 422, "invalid_input"),
        ("POST", "/cctv/zones", {"name": "", "kind": "dining"}, 422, "invalid_input"),
        ("POST", "/cctv/zones", {"name": "午睡室", "kind": "dining"}, 409, "duplicate_name"),
        ("POST", "/cctv/zones", {"name": "y", "kind": "dining", "class_id": 99999}, 422,
         "class_not_found"),
        ("POST", "/cctv/cameras", {"name": "c", "stream_url": "ftp://h/x"}, 422,
         "invalid_stream_url"),
        ("POST", "/cctv/cameras", {"name": "nap", "stream_url": "rtsp://h/x"}, 409,
         "duplicate_name"),
        ("POST", "/cctv/cameras", {"name": "c", "stream_url": "rtsp://h/x", "zone_ids": [777]},
         422, "zone_not_found"),
        ("PATCH", f"/cctv/cameras/{body['id']}", {"name": None}, 422, "invalid_input"),
        ("PATCH", "/cctv/cameras/4242", {"name": "x"}, 404, "camera_not_found"),
    ]  # fmt: skip
    for method, url, payload, status, code in cases:
        before = row_counts(session)
        response = api.call(method, "/api/v1" + url, payload)
        assert (response.status_code, error_code(response)) == (status, code), (url, payload)
        assert row_counts(session) == before, (url, payload)
    mine = AuditEntry.entity.in_(["camera", "zone"])
    entries = session.scalars(select(AuditEntry).where(mine).order_by(AuditEntry.id)).all()
    assert [(e.entity, e.action) for e in entries] == [
        ("zone", "create"), ("camera", "create"), ("camera", "update"), ("zone", "update")
    ]  # fmt: skip
    assert SECRET not in str([(e.before, e.after) for e in entries])
    assert session.scalar(select(Zone.class_id).where(Zone.id == zone_id)) == world.room_b.id


def test_director_enrols_the_latest_healthy_frame(client, auth, world, session):
    door, yard, *_ = _setup(session, world.room_a.id)
    auth.login(world.users[Role.DIRECTOR])
    assert "Use the latest frame as the reference view" in client.get(
        f"/cctv/cameras/{door.id}"
    ).get_data(as_text=True)
    saved = auth.post(f"/cctv/cameras/{door.id}/enrol", follow_redirects=True)
    assert "Reference view saved." in saved.get_data(as_text=True)
    refused = auth.post(f"/cctv/cameras/{yard.id}/enrol", follow_redirects=True)
    assert "Enrol the view only from a recent healthy picture" in refused.get_data(as_text=True)
    session.rollback()
    session.expire_all()
    door, yard = session.get(Camera, door.id), session.get(Camera, yard.id)
    assert door.reference_at == T0 and door.reference_frame[:2] == b"\xff\xd8"
    assert yard.reference_frame is None
    audit = session.scalars(select(AuditEntry).where(AuditEntry.entity == "camera")).all()
    assert [(a.entity_id, list(a.after)) for a in audit] == [(door.id, ["reference_at"])]


def test_pages_render_in_chinese(client, world, session):
    from tests.conftest import AuthActions

    door, *_ = _setup(session, world.room_a.id)
    zh = AuthActions(client, language=None)
    zh.login(world.users[Role.DIRECTOR])
    pages = {
        "/cctv/": "摄像头",
        "/cctv/zones": "区域覆盖",
        f"/cctv/cameras/{door.id}": "视频流地址",
        f"/cctv/cameras/{door.id}/retention": "录像日历",
        "/cctv/cameras/new": "新增摄像头",
        "/cctv/zones/new": "出入口",
        "/today": "必需区域覆盖 1 / 2",
    }
    for url, text in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert text in response.get_data(as_text=True), url
