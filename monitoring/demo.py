"""Simulated cameras for the demo: generated clips, a Frigate-layout store, zones.

``seed_cctv(data_dir, session, now)`` writes a few short video files that stand in for
camera streams, a small recording store covering the last 95 days (two 30-minute
segments per hour, one six-hour gap on one camera) and registers cameras and zones. The
outdoor play area's camera shows a black picture, so the demo has an uncovered required
zone to show; the activity room A camera has a gap, so its retention proof fails.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitoring.models import Camera, ZoneKind
from monitoring.registry import save_camera, save_zone

log = logging.getLogger(__name__)

W, H, FPS, FRAMES = 640, 360, 10, 40
SEGMENT_S = 1800
DAYS = 95

#: Zones as (name, kind, required), and cameras as (name, zone names, picture).
ZONES = [
    ("大门", ZoneKind.ENTRANCE, True),
    ("活动室A", ZoneKind.ACTIVITY_ROOM, True),
    ("活动室B", ZoneKind.ACTIVITY_ROOM, True),
    ("午睡室", ZoneKind.SLEEPING_ROOM, True),
    ("餐厅", ZoneKind.DINING, True),
    ("户外活动区", ZoneKind.OUTDOOR_PLAY, True),
]
CAMERAS = [
    ("entrance", ["大门"], "normal"),
    ("room-a", ["活动室A", "餐厅"], "normal"),
    ("room-b", ["活动室B"], "normal"),
    ("nap-room", ["午睡室"], "normal"),
    ("yard", ["户外活动区"], "black"),
]
GAP_CAMERA = "room-a"


@dataclass(frozen=True)
class DemoCctv:
    """What the demo created."""

    cameras: int
    zones: int
    segments: int
    store: Path


def _scene(seed: int):  # type: ignore[no-untyped-def]
    """A textured room: rectangles and circles on a gradient."""
    import cv2

    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, H, dtype=np.float32)[:, None]
    base = np.repeat(120 + 60 * y, W, axis=1)
    img = np.dstack([base * 0.9, base, base * 1.05]).clip(0, 255).astype(np.uint8)
    for _ in range(25):
        x0, y0 = int(rng.integers(0, W - 20)), int(rng.integers(0, H - 20))
        x1, y1 = x0 + int(rng.integers(15, W // 4)), y0 + int(rng.integers(15, H // 3))
        colour = tuple(int(c) for c in rng.integers(20, 235, 3))
        cv2.rectangle(img, (x0, y0), (x1, y1), colour, -1)
        cv2.rectangle(img, (x0, y0), (x1, y1), (20, 20, 20), 1)
    return img


def write_clip(path: Path, picture: str, seed: int) -> Path:
    """A short MJPEG clip: a room with a moving child-sized blob and noise, or black."""
    import cv2

    rng = np.random.default_rng(seed)
    scene = _scene(seed)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (W, H))
    if not writer.isOpened():
        raise RuntimeError(f"cannot write {path}")
    try:
        for t in range(FRAMES):
            if picture == "black":
                frame = np.zeros((H, W, 3), np.float32)
            else:
                frame = scene.copy()
                cx = int((0.1 + 0.08 * (t % 10)) * W)
                cv2.ellipse(
                    frame, (cx, int(H * 0.6)), (W // 30, H // 8), 0, 0, 360, (60, 80, 200), -1
                )
                frame = frame.astype(np.float32)
            frame += rng.normal(0, 1.0 if picture == "black" else 3.0, frame.shape)
            writer.write(frame.clip(0, 255).astype(np.uint8))
    finally:
        writer.release()
    return path


def write_store(root: Path, cameras: list[str], now: datetime) -> int:
    """Frigate-layout segments for each camera over the last DAYS days; one six-hour gap."""
    from monitoring.retention.testing import write_segment

    end = now.astimezone(UTC)
    start = (end - timedelta(days=DAYS)).replace(minute=0, second=0, microsecond=0)
    gap_start = (end - timedelta(days=40)).replace(minute=0, second=0, microsecond=0)
    gap_end = gap_start + timedelta(hours=6)
    count = 0
    for cam in cameras:
        at = start
        while at <= end - timedelta(seconds=60):
            seconds = min(SEGMENT_S, (end - at).total_seconds())
            if not (cam == GAP_CAMERA and gap_start <= at < gap_end):
                path = root / "recordings" / f"{at:%Y-%m-%d}" / f"{at:%H}" / cam / f"{at:%M.%S}.mp4"
                write_segment(path, at, seconds, payload=256)
                count += 1
            at += timedelta(seconds=SEGMENT_S)
    return count


def seed_cctv(
    data_dir: Path, session: Session, now: datetime, *, check: bool = True
) -> DemoCctv | None:
    """Write the simulated cameras and store into ``data_dir``, register them, and (when
    ``check``) probe them and scan the store so the pages have results. None when cameras
    exist already. Never commits.
    """
    if session.scalar(select(func.count()).select_from(Camera)):
        log.info("cameras exist already; the CCTV demo is not seeded")
        return None
    base = Path(data_dir) / "cctv-demo"
    streams = base / "streams"
    store = base / "frigate"
    streams.mkdir(parents=True, exist_ok=True)
    zones = {
        name: save_zone(session, name=name, kind=kind, required=req) for name, kind, req in ZONES
    }
    save_zone(session, name="厨房", kind=ZoneKind.KITCHEN, required=False)
    for i, (name, zone_names, picture) in enumerate(CAMERAS):
        clip = write_clip(streams / f"{name}.avi", picture, seed=i + 1)
        save_camera(
            session,
            name=name,
            stream_url=str(clip),
            nvr_channel=f"ch{i + 1:02d}",
            store_path=str(store),
            store_layout="frigate",
            zone_ids=[zones[z].id for z in zone_names],
        )
    segments = write_store(store, [c[0] for c in CAMERAS], now)
    log.info("CCTV demo: %d cameras, %d segments in %s", len(CAMERAS), segments, store)
    if check:
        from monitoring.service import probe_cameras, scan_retention

        os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
        from monitoring.config import load_config

        # A picture fault is raised only when it persists over consecutive probes.
        for _ in range(load_config().image.persist_probes):
            probe_cameras(session, now)
        scan_retention(session, now, state_dir=base / "index")
    return DemoCctv(len(CAMERAS), len(ZONES) + 1, segments, store)
