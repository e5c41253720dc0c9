"""The CCTV registry, stored probe and retention results, coverage and the findings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

import monitoring.models  # noqa: F401  (tables in the metadata the fixtures truncate)
from carewatch.config import get_settings
from carewatch.errors import Conflict, DomainError
from monitoring import compliance, registry
from monitoring.config import HealthConfig, MonitoringConfig
from monitoring.models import Camera, ProbeHistory, ProbeState, RetentionState, Zone
from monitoring.probe import ProbeResult
from monitoring.retention.testing import write_frigate
from monitoring.service import (
    coverage,
    probe_cameras,
    retention_calendar,
    scan_retention,
    store_probe,
)
from tests import media
from tests.conftest import T0

CFG = MonitoringConfig()  # probe_fresh_seconds 900, min_fps 5, 320x240


def _ok(fps: float = 10.0) -> ProbeResult:
    return ProbeResult(url="x", status="ok", reason="25 frames", width=640, height=360, fps=fps)


def _failed() -> ProbeResult:
    return ProbeResult(url="x", status="failed", reason="could not open the stream")


def _world(session):  # type: ignore[no-untyped-def]
    """Five zones and four cameras; see the hand-worked answers in the test below."""
    z = {
        name: registry.save_zone(session, name=name, kind=kind, required=req)
        for name, kind, req in [
            ("大门", "entrance", True),  # no camera
            ("午睡室", "sleeping_room", True),  # only an unhealthy camera
            ("餐厅", "dining", True),  # a camera whose probe is stale
            ("活动室", "activity_room", True),  # one healthy of two
            ("走廊", "corridor", False),  # optional, never probed
        ]
    }
    cams = {}
    for name, zones in [
        ("bad", ["午睡室", "活动室"]),
        ("stale", ["餐厅"]),
        ("good", ["活动室"]),
        ("never", ["走廊"]),
    ]:
        cams[name] = registry.save_camera(
            session,
            name=name,
            stream_url=f"rtsp://admin:pw@127.0.0.1:9/{name}",
            zone_ids=[z[n].id for n in zones],
        )
    store_probe(session, cams["bad"], _failed(), None, T0, CFG)
    store_probe(session, cams["stale"], _ok(), None, T0 - timedelta(seconds=901), CFG)
    store_probe(session, cams["good"], _ok(), None, T0 - timedelta(seconds=60), CFG)
    session.commit()
    return z, cams


def test_coverage_answers_by_hand(session):
    _world(session)
    cov = coverage(session, T0, CFG.health)
    by_name = {z.name: z for z in cov.zones}
    assert [(n, by_name[n].status) for n in ["大门", "午睡室", "餐厅", "活动室", "走廊"]] == [
        ("大门", "uncovered"),
        ("午睡室", "uncovered"),
        ("餐厅", "unknown"),
        ("活动室", "covered"),
        ("走廊", "unknown"),
    ]
    assert [(c.name, c.health) for c in by_name["活动室"].cameras] == [
        ("bad", "unhealthy"),
        ("good", "healthy"),
    ]
    assert by_name["大门"].cameras == []
    stale = by_name["餐厅"].cameras[0]
    assert stale.health == "unknown"
    assert "901 s ago, older than 900 s" in stale.reason
    assert by_name["走廊"].cameras[0].reason == "never probed"
    assert cov.totals == {
        "zones": 5,
        "zones_covered": 1,
        "required_zones": 4,
        "required_covered": 1,
        "required_uncovered": 2,
        "required_unknown": 1,
        "cameras": 4,
        "healthy": 1,
        "unhealthy": 1,
        "unknown": 2,
    }
    # Credentials never leave the registry.
    assert all("pw" not in c.url and "***@" in c.url for c in cov.cameras)


def test_coverage_and_health_findings(session):
    zones, cams = _world(session)
    f = compliance.coverage_finding(session, T0, CFG)
    assert (f.status, f.value, f.threshold) == ("fail", 1, 4)
    assert f.message == "2 required zone(s) without a healthy camera: 午睡室, 大门"
    assert {z["zone"] for z in f.evidence["zones"]} == {"大门", "午睡室", "餐厅", "活动室"}
    h = compliance.health_finding(session, T0, CFG)
    assert (h.status, h.value, h.threshold) == ("fail", 1, 4)
    assert "bad" in h.message
    assert "pw" not in json.dumps(h.evidence) + json.dumps(f.evidence)

    # Without the two uncovered zones required, what is left is a stale answer: unknown.
    for name in ["大门", "午睡室"]:
        zone = zones[name]
        registry.save_zone(session, zone_id=zone.id, name=zone.name, kind=zone.kind, required=False)
    f = compliance.coverage_finding(session, T0, CFG)
    assert (f.status, f.value, f.threshold) == ("unknown", 1, 2)
    # A fresh probe of the stale camera settles it.
    store_probe(session, cams["stale"], _ok(), None, T0, CFG)
    assert compliance.coverage_finding(session, T0, CFG).status == "pass"
    # ... until the window passes with no new probe.
    later = T0 + timedelta(seconds=CFG.health.probe_fresh_seconds + 1)
    assert compliance.coverage_finding(session, later, CFG).status == "unknown"


def test_no_zones_or_cameras_is_unknown_never_pass(session):
    for fn in (
        compliance.coverage_finding,
        compliance.health_finding,
        compliance.retention_finding,
        compliance.forecast_finding,
    ):
        assert fn(session, T0, CFG).status == "unknown", fn.__name__


def test_slow_or_small_streams_are_unhealthy_with_the_figures(session):
    cam = registry.save_camera(session, name="slow", stream_url="rtsp://127.0.0.1:9/a")
    state = store_probe(session, cam, _ok(fps=2.0), None, T0, CFG)
    assert state.health == "unhealthy"
    assert state.health_reason == "frame rate 2 fps < 5 fps"
    small = ProbeResult(url="x", status="ok", reason="", width=160, height=120, fps=10.0)
    state = store_probe(session, cam, small, None, T0, CFG)
    assert state.health_reason == "resolution 160x120 < 320x240"
    black = {"status": "black", "reason": "brightness 1.0 <= 16.0"}
    state = store_probe(session, cam, _ok(), black, T0, CFG)
    assert (state.health, state.image_status) == ("unhealthy", "black")


def test_history_is_bounded_per_camera(session):
    cfg = MonitoringConfig(health=HealthConfig(history_per_camera=3))
    a = registry.save_camera(session, name="a", stream_url="rtsp://127.0.0.1:9/a")
    b = registry.save_camera(session, name="b", stream_url="rtsp://127.0.0.1:9/b")
    for i in range(5):
        store_probe(session, a, _ok(), None, T0 + timedelta(minutes=i), cfg)
    store_probe(session, b, _ok(), None, T0, cfg)
    counts = dict(
        session.execute(
            select(ProbeHistory.camera_id, func.count()).group_by(ProbeHistory.camera_id)
        ).all()
    )
    assert counts == {a.id: 3, b.id: 1}
    assert session.get(ProbeState, a.id).at == T0 + timedelta(minutes=4)


def test_real_probes_of_generated_files_are_stored(session, tmp_path):
    normal = media.normal_clip(tmp_path / "normal.avi", 30, fps=10, fourcc="MJPG")
    rng = np.random.default_rng(3)
    black = media.write_clip(
        tmp_path / "black.avi", (media.black_frame(rng) for _ in range(30)), 10, "MJPG"
    )
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video")
    cams = {
        "normal": registry.save_camera(session, name="normal", stream_url=str(normal)),
        "black": registry.save_camera(session, name="black", stream_url=f"file://{black}"),
        "text": registry.save_camera(session, name="text", stream_url=str(text)),
        "gone": registry.save_camera(session, name="gone", stream_url=str(tmp_path / "no.avi")),
        "off": registry.save_camera(session, name="off", stream_url=str(normal), enabled=False),
    }
    states = probe_cameras(session, T0, config=CFG)
    by_id = {s.camera_id: s for s in states}
    assert cams["off"].id not in by_id  # disabled cameras are not probed
    ok = by_id[cams["normal"].id]
    assert (ok.status, ok.health, ok.width, ok.height, ok.fps) == ("ok", "healthy", 640, 360, 10.0)
    assert ok.image_status == "normal"
    assert ok.thumbnail[:2] == b"\xff\xd8" and len(ok.thumbnail) < 40_000
    dark = by_id[cams["black"].id]
    # One black probe is only suspected (persist_probes 2); the second one raises it.
    assert (dark.status, dark.health, dark.image_status) == ("ok", "healthy", "normal")
    assert "black suspected, not raised yet (1/2 probes)" in dark.health_reason
    dark = {s.camera_id: s for s in probe_cameras(session, T0, config=CFG)}[cams["black"].id]
    assert (dark.status, dark.health, dark.image_status) == ("ok", "unhealthy", "black")
    assert "brightness" in dark.health_reason and "<=" in dark.health_reason
    assert "in 2 consecutive probes" in dark.health_reason
    bad = by_id[cams["text"].id]
    assert (bad.status, bad.health, bad.thumbnail) == ("failed", "unknown", None)
    assert bad.health_reason.startswith("the file is not a readable video")
    gone = by_id[cams["gone"].id]
    assert (gone.status, gone.health) == ("failed", "unhealthy")
    cov = coverage(session, T0 + timedelta(minutes=1), CFG.health)
    assert cov.totals["healthy"] == 1


def test_retention_results_and_calendar(session, tmp_path):
    store = tmp_path / "frigate"
    now = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    start = now - timedelta(days=95)
    # 30-minute segments for 95 days; "yard" misses six hours from 2026-02-01 00:00 UTC.
    write_frigate(store, "door", start, 95 * 48, seconds=1800)
    gap_from = datetime(2026, 2, 1, tzinfo=UTC)
    before = int((gap_from - start).total_seconds() // 1800)
    write_frigate(store, "yard", start, before, seconds=1800)
    after_start = gap_from + timedelta(hours=6)
    write_frigate(store, "yard", after_start, int((now - after_start).total_seconds() // 1800),
                  seconds=1800)  # fmt: skip
    door = registry.save_camera(session, name="door", stream_url="rtsp://127.0.0.1:9/a",
                                store_path=str(store))  # fmt: skip
    yard = registry.save_camera(session, name="yard", stream_url="rtsp://127.0.0.1:9/b",
                                store_path=str(store))  # fmt: skip
    nowhere = registry.save_camera(session, name="nowhere", stream_url="rtsp://127.0.0.1:9/c")
    scan_retention(session, now, config=CFG, state_dir=tmp_path / "index")
    session.commit()
    d, y, n = (session.get(RetentionState, c.id) for c in (door, yard, nowhere))
    assert (d.status, d.fresh, round(d.unbroken_days, 3)) == ("pass", True, 95.0)
    assert y.status == "fail"
    assert y.gaps == [
        {"start": "2026-02-01T00:00:00+00:00", "end": "2026-02-01T06:00:00+00:00",
         "seconds": 21600.0}
    ]  # fmt: skip
    assert y.unbroken_since == after_start
    # 2026-02-01 00:00-06:00 UTC is 08:00-14:00 in Shanghai: 6 of 24 hours missing.
    assert y.days["2026-02-01"] == 75.0
    assert y.days["2026-02-02"] == 100.0
    assert (n.status, n.reasons) == ("unknown", ["no recording location configured"])
    days = retention_calendar(y, now, "Asia/Shanghai", 90)
    assert len(days) == 90 and days[-1]["date"] == "2026-03-10"
    assert days[0]["date"] == "2025-12-11"
    assert {"date": "2026-02-01", "percent": 75.0, "weekday": 7} in days
    assert retention_calendar(None, now, "Asia/Shanghai", 3)[0]["percent"] is None

    r = compliance.retention_finding(session, now, CFG)
    assert (r.status, r.threshold) == ("unknown", 90)  # "nowhere" has no proof
    assert r.value == round((now - after_start).total_seconds() / 86400, 2)
    registry.save_camera(session, camera_id=nowhere.id, name="nowhere", stream_url=None,
                         enabled=False)  # fmt: skip
    r = compliance.retention_finding(session, now, CFG)
    assert r.status == "fail" and r.message == "1 camera(s) short of proof: yard"
    fc = compliance.forecast_finding(session, now, CFG)
    assert fc.threshold == 97 and fc.status in ("pass", "warn")
    assert fc.evidence["stores"][0]["cameras"] == ["door", "yard"]
    # A scan older than the window proves nothing any more.
    late = now + timedelta(seconds=CFG.health.retention_fresh_seconds + 1)
    assert compliance.retention_finding(session, late, CFG).status == "unknown"


def test_registry_refuses_bad_input(session):
    registry.save_zone(session, name="大门", kind="entrance")
    registry.save_camera(session, name="door", stream_url="rtsp://127.0.0.1/a")
    cases = [
        (lambda: registry.save_zone(session, name="x", kind="garage"), "invalid_zone_kind"),
        (lambda: registry.save_zone(session, name="  ", kind="entrance"), "required"),
        (lambda: registry.save_zone(session, name="大门", kind="dining"), "duplicate_name"),
        (lambda: registry.save_zone(session, name="y", kind="dining", class_id=999),
         "class_not_found"),
        (lambda: registry.save_camera(session, name="c", stream_url="ftp://h/x"),
         "invalid_stream_url"),
        (lambda: registry.save_camera(session, name="c", stream_url="rtsp:///x"),
         "invalid_stream_url"),
        (lambda: registry.save_camera(session, name="door", stream_url="rtsp://h/x"),
         "duplicate_name"),
        (lambda: registry.save_camera(session, name="c", stream_url="rtsp://h/x", zone_ids=[99]),
         "zone_not_found"),
        (lambda: registry.save_camera(session, name="c", stream_url="rtsp://h/x",
                                      store_layout="template", store_template="%Y.mp4"),
         "invalid_template"),
    ]  # fmt: skip
    for call, code in cases:
        with pytest.raises(DomainError) as err:
            call()
        assert err.value.code == code
    with pytest.raises(Conflict):
        registry.save_camera(session, name="door", stream_url="rtsp://h/x")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Camera)) == 0


def test_edit_keeps_the_url_when_none_is_given(session):
    cam = registry.save_camera(session, name="door", stream_url="rtsp://u:secret@h/a")
    registry.save_camera(session, camera_id=cam.id, name="front door", stream_url="")
    assert (cam.name, cam.stream_url) == ("front door", "rtsp://u:secret@h/a")
    assert registry.camera_snapshot(cam)["stream_url"] == "rtsp://***@h/a"


def _cli(db_url: str, monkeypatch, *args: str):  # type: ignore[no-untyped-def]
    from carewatch import cli

    monkeypatch.setenv("CAREWATCH_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli.cli, ["monitor", *args], catch_exceptions=False)
    finally:
        get_settings.cache_clear()


def test_cli_registry_and_coverage_json(db_url, session, monkeypatch):
    assert _cli(db_url, monkeypatch, "zone", "add", "大门", "entrance").exit_code == 0
    assert _cli(db_url, monkeypatch, "zone", "add", "厨房", "kitchen", "--optional").exit_code == 0
    add = _cli(db_url, monkeypatch, "camera", "add", "door", "rtsp://u:secret@127.0.0.1:9/a",
               "--zone", "大门")  # fmt: skip
    assert add.exit_code == 0 and "secret" not in add.output and "***@" in add.output
    bad = _cli(db_url, monkeypatch, "zone", "add", "大门", "entrance")
    assert bad.exit_code == 2 and "duplicate_name" in bad.output
    listed = json.loads(_cli(db_url, monkeypatch, "camera", "list", "--json").output)
    assert [(c["name"], c["url"], c["zones"]) for c in listed] == [
        ("door", "rtsp://***@127.0.0.1:9/a", ["大门"])
    ]
    out = _cli(db_url, monkeypatch, "coverage", "--json", "--now", T0.isoformat())
    assert out.exit_code == 2  # never probed: unknown, not a pass
    data = json.loads(out.output)
    assert data["totals"]["required_zones"] == 1 and data["totals"]["unknown"] == 1
    assert data["finding"]["status"] == "unknown"
    assert [z["name"] for z in data["zones"]] == ["大门", "厨房"]
    assert data["zones"][0]["cameras"][0]["reason"] == "never probed"
    cam = session.scalars(select(Camera)).one()
    store_probe(session, cam, _ok(), None, T0, CFG)
    session.commit()
    human = _cli(db_url, monkeypatch, "coverage", "--now", T0.isoformat())
    assert human.exit_code == 0
    assert human.output.splitlines()[0].startswith("PASS: 1/1 required zones covered")
    assert "healthy   door" in human.output
    assert session.scalar(select(func.count()).select_from(Zone)) == 2


def test_probe_compares_with_the_enrolled_reference_view(session, tmp_path):
    import cv2

    scene = media.room_scene(seed=1)
    rng = np.random.default_rng(5)
    moved = media.write_clip(
        tmp_path / "moved.avi",
        (media.moved_frame(scene, rng, dx=0.2) for _ in range(30)),
        10,
        "MJPG",
    )
    same = media.normal_clip(tmp_path / "same.avi", 30, fps=10, fourcc="MJPG", seed=1)
    encoded, jpeg = cv2.imencode(".jpg", media.normal_frame(scene, 0, rng))
    assert encoded
    a = registry.save_camera(session, name="moved", stream_url=str(moved))
    b = registry.save_camera(session, name="same", stream_url=str(same))
    for cam in (a, b):
        registry.enrol_reference(session, cam, jpeg.tobytes(), T0)
    states = {s.camera_id: s for s in probe_cameras(session, T0, config=CFG)}
    assert (states[a.id].image_status, states[a.id].health) == ("normal", "healthy")
    assert states[a.id].image["suspected"] and states[a.id].image["detected"] == "moved"
    states = {s.camera_id: s for s in probe_cameras(session, T0, config=CFG)}
    assert (states[a.id].image_status, states[a.id].health) == ("moved", "unhealthy")
    assert "view shifted" in states[a.id].health_reason
    assert (states[b.id].image_status, states[b.id].health) == ("normal", "healthy")


def test_cli_refresh_probes_and_scans_without_holding_the_session(db_url, monkeypatch, tmp_path):
    from carewatch.db import make_engine, make_session_factory, transaction

    clip = media.normal_clip(tmp_path / "door.avi", 30, fps=10, fourcc="MJPG")
    store = tmp_path / "frigate"
    now = datetime.now(UTC)
    write_frigate(store, "door", now - timedelta(minutes=20), 120, seconds=10)  # Frigate's 10 s
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    with transaction(factory) as s:
        registry.save_camera(s, name="door", stream_url=str(clip), store_path=str(store))
    out = _cli(db_url, monkeypatch, "refresh")
    assert out.exit_code == 0, out.output
    assert out.output.startswith("probe 1: healthy")
    with transaction(factory, write=False) as s:
        cam = s.scalars(select(Camera)).one()
        assert s.get(ProbeState, cam.id).health == "healthy"
        ret = s.get(RetentionState, cam.id)
        # Live, but only twenty minutes of recordings: not proven.
        assert (ret.status, ret.fresh, round(ret.unbroken_days * 24 * 60)) == ("fail", True, 20)
    engine.dispose()
