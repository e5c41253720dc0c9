"""What the image checks learn is kept per camera between probes, in the database."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import select

import monitoring.models  # noqa: F401  (tables in the metadata the fixtures truncate)
from carewatch.db import make_engine, make_session_factory, transaction
from monitoring import registry
from monitoring.config import MonitoringConfig
from monitoring.models import Camera, ImageState, ProbeState
from monitoring.service import enrol_latest_view, probe_cameras, thumbnail
from tests import media
from tests.conftest import T0
from tests.unit.test_image_state import night_ir

CFG = MonitoringConfig()  # image.persist_probes 2; the probe keeps 3 frames of its burst


@pytest.fixture
def scene() -> np.ndarray:
    return media.room_scene(seed=1)


def show(path: Path, frames: list[np.ndarray]) -> None:
    """Make the camera (a file) show these frames from now on."""
    media.write_clip(path, frames, 10, "MJPG")


def day_frames(scene: np.ndarray, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [media.normal_frame(scene, t, rng) for t in range(30)]


def black_frames(seed: int = 2) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [media.black_frame(rng) for _ in range(30)]


def probe(target, at=T0) -> ProbeState:  # type: ignore[no-untyped-def]
    (state,) = probe_cameras(target, at, config=CFG)
    return state


def learned(factory) -> dict:  # type: ignore[no-untyped-def]
    with transaction(factory, write=False) as s:
        return s.scalars(select(ImageState)).one().data


def test_state_is_kept_in_the_database_and_k_probes_raise(db_url, tmp_path, scene):
    clip = tmp_path / "room.avi"
    show(clip, day_frames(scene))
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    try:
        with transaction(factory) as s:
            registry.save_camera(s, name="room", stream_url=str(clip))
        # Each probe reads, checks and writes in transactions of its own.
        for i in range(3):
            state = probe(factory, T0 + timedelta(minutes=5 * i))
        data = learned(factory)
        assert data["baselines"]["colour"]["samples"] == 9  # 3 probes x 3 kept frames
        assert (data["reference_at"], data["streaks"]) == (None, {})
        assert state.image["warm"] is True and state.health == "healthy"

        show(clip, black_frames())
        first = probe(factory)
        assert (first.health, first.image_status) == ("healthy", "normal")
        assert first.image["suspected"] and first.image["detected"] == "black"
        assert "black suspected, not raised yet (1/2 probes)" in first.health_reason
        assert learned(factory)["streaks"]["black"] == 1
        second = probe(factory)
        assert (second.health, second.image_status) == ("unhealthy", "black")
        assert "in 2 consecutive probes" in second.health_reason
        black = next(f for f in second.image["evidence"] if f["code"] == "black")
        assert black["limits"]["contrast"] == 6.0 and black["values"]["brightness"] < 5
        # A black picture has no colour: the black-and-white baseline (not learned yet)
        # judges it, with the fixed limit.
        assert (black["basis"], black["limits"]["brightness"]) == ("absolute", 16.0)
        assert second.image["mode"] == "mono"

        show(clip, day_frames(scene))
        back = probe(factory)
        assert (back.health, back.image_status, back.image["suspected"]) == (
            "healthy", "normal", False)  # fmt: skip
        data = learned(factory)
        assert data["streaks"] == {}
        assert data["baselines"]["colour"]["samples"] == 12  # dark probes were not learned
    finally:
        engine.dispose()


def test_a_failed_probe_leaves_the_learned_state_alone(session, tmp_path, scene):
    clip = tmp_path / "room.avi"
    show(clip, black_frames())
    cam = registry.save_camera(session, name="room", stream_url=str(clip))
    probe(session)
    before = session.get(ImageState, cam.id).data
    clip.unlink()  # the camera stops delivering
    state = probe(session)
    assert (state.status, state.health) == ("failed", "unhealthy")
    assert session.get(ImageState, cam.id).data == before


def test_enrolling_the_reference_view_again_starts_afresh(session, tmp_path, scene):
    clip = tmp_path / "room.avi"
    show(clip, day_frames(scene))
    cam = registry.save_camera(session, name="room", stream_url=str(clip))
    probe(session)
    probe(session)
    assert session.get(ImageState, cam.id).data["baselines"]["colour"]["samples"] == 6
    enrol_latest_view(session, cam, T0)
    session.flush()
    assert session.get(ImageState, cam.id) is None
    probe(session)
    data = session.get(ImageState, cam.id).data
    # The reference view (the stored thumbnail) and the probe's three frames.
    assert data["baselines"]["colour"]["samples"] == 4
    assert data["reference_at"] == T0.astimezone(UTC).isoformat()
    # A reference saved another way (the API) voids the state by its date.
    jpeg = thumbnail(day_frames(scene)[3], 320, 70)
    registry.enrol_reference(session, cam, jpeg, T0 + timedelta(hours=1))
    probe(session)
    data = session.get(ImageState, cam.id).data
    assert data["baselines"]["colour"]["samples"] == 4
    assert data["reference_at"] == (T0 + timedelta(hours=1)).astimezone(UTC).isoformat()


def test_daylight_camera_switching_to_infrared_at_night_stays_healthy(session, tmp_path, scene):
    clip = tmp_path / "sleep.avi"
    show(clip, day_frames(scene))
    cam = registry.save_camera(session, name="sleep", stream_url=str(clip))
    ok, jpeg = cv2.imencode(".jpg", day_frames(scene)[0])
    assert ok
    registry.enrol_reference(session, cam, jpeg.tobytes(), T0)
    for _ in range(3):
        assert probe(session).health == "healthy"
    rng = np.random.default_rng(4)
    show(clip, [night_ir(scene, rng) for _ in range(30)])
    night = [probe(session, T0 + timedelta(hours=12, minutes=5 * i)) for i in range(3)]
    assert [(s.health, s.image_status) for s in night] == [("healthy", "normal")] * 3
    assert [s.image["mode"] for s in night] == ["mono"] * 3
    assert not any(s.image["suspected"] for s in night)
    assert night[0].image["measures"]["brightness"] < 30
    data = session.get(ImageState, cam.id).data
    assert data["baselines"]["mono"]["samples"] == 9
    assert data["baselines"]["colour"]["samples"] == 10  # the reference and 3 day probes
    # Still a camera: a black night picture is raised after two probes.
    show(clip, black_frames())
    probe(session)
    assert (probe(session).health, session.get(ProbeState, cam.id).image_status) == (
        "unhealthy", "black")  # fmt: skip
    assert session.get(Camera, cam.id).reference_at == T0
